/**
 * The simulated Deployment/ReplicaSet controller: scaling a Deployment
 * through the API creates and deletes owned pods, in the documented
 * deletion order; pods become ready when marked or after the delay.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { eventually } from "../wait-for.ts";
import { ApiClient } from "./http-client.ts";
import type { KObject } from "./kinds.ts";
import { deployment, DEPLOYMENTS, PODS } from "./objects.ts";
import { deletionOrder, POD_DELETION_COST, ReplicaController } from "./replica-controller.ts";
import { KubeApiServer } from "./server.ts";

let server: KubeApiServer;
let api: ApiClient;
let controller: ReplicaController | undefined;

const podNames = (pods: readonly KObject[]) => pods.map((p) => p.metadata?.name ?? "").sort();

async function podsOf(name: string, count: number): Promise<KObject[]> {
  return eventually(
    () => {
      const pods = controller?.podsOf("default", name) ?? [];
      return pods.length === count ? pods : undefined;
    },
    { timeoutMs: 5_000, what: () => `${count} pods of ${name} (have ${controller?.podsOf("default", name).length ?? 0})` },
  );
}

beforeEach(async () => {
  server = await KubeApiServer.start();
  api = new ApiClient(server.url);
});

afterEach(async () => {
  controller?.stop();
  controller = undefined;
  await server.close();
});

describe("kube-api: simulated ReplicaSet controller", () => {
  it("a Deployment gets a ReplicaSet it owns and pods the ReplicaSet owns, with the template's labels; scaling through the API adds and removes pods", async () => {
    controller = new ReplicaController(server.store).start();
    await api.post(DEPLOYMENTS, deployment("web", 2));
    const pods = await podsOf("web", 2);
    const rs = (await api.get("/apis/apps/v1/namespaces/default/replicasets")).body.items as KObject[];
    assert.equal(rs.length, 1);
    assert.equal(rs[0]?.metadata?.ownerReferences?.[0]?.kind, "Deployment");
    for (const p of pods) {
      assert.equal(p.metadata?.labels?.app, "web");
      assert.equal(p.metadata?.labels?.["pod-template-hash"], rs[0]?.metadata?.labels?.["pod-template-hash"]);
      assert.deepEqual(p.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.controller]), [["ReplicaSet", rs[0]?.metadata?.name, true]]);
    }
    await api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 3 } }, "application/merge-patch+json");
    await podsOf("web", 3);
    await api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 1 } }, "application/merge-patch+json");
    await podsOf("web", 1);
    const listed = (await api.get(`${PODS}?labelSelector=app%3Dweb`)).body.items as KObject[];
    assert.equal(listed.length, 1);
    const status = await eventually(async () => {
      const d = (await api.get(`${DEPLOYMENTS}/web`)).body;
      const s = d.status as { replicas?: number; observedGeneration?: number };
      return s.replicas === 1 && s.observedGeneration === d.metadata?.generation ? s : undefined;
    }, { what: "the Deployment's status to show 1 replica" });
    assert.equal(status.replicas, 1);
  });

  it("scales down unscheduled before scheduled, not ready before ready, lower deletion cost first, then newest first", async () => {
    controller = new ReplicaController(server.store).start();
    await api.post(DEPLOYMENTS, deployment("web", 5));
    const created = await podsOf("web", 5);
    const byAge = [...created].sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion)).map((p) => p.metadata?.name ?? "");
    const [oldest, second, third, fourth, newest] = byAge as [string, string, string, string, string];
    for (const name of [oldest, second, third, fourth]) controller.markReady("default", name);
    await api.patch(`${PODS}/${third}`, { metadata: { annotations: { [POD_DELETION_COST]: "-10" } } }, "application/merge-patch+json");
    await api.patch(`${PODS}/${oldest}`, { metadata: { annotations: { [POD_DELETION_COST]: "10" } } }, "application/merge-patch+json");
    const scaleTo = async (n: number) => {
      await api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: n } }, "application/merge-patch+json");
      return podNames(await podsOf("web", n));
    };
    assert.deepEqual(await scaleTo(4), podNames(created.filter((p) => p.metadata?.name !== newest)), "the pending, unscheduled pod goes first");
    assert.deepEqual(await scaleTo(3), [oldest, second, fourth].sort(), "then the lowest deletion cost");
    assert.deepEqual(await scaleTo(2), [oldest, second].sort(), "then the newest among equal costs");
    assert.deepEqual(await scaleTo(1), [oldest], "the highest deletion cost stays longest");
  });

  it("deletionOrder puts Pending before Running and not ready before ready", () => {
    const p = (name: string, phase: string, ready: boolean): KObject => ({ metadata: { name, creationTimestamp: "2025-01-01T00:00:00Z" }, spec: { nodeName: "n" }, status: { phase, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } });
    const order = deletionOrder([p("running-ready", "Running", true), p("running", "Running", false), p("pending", "Pending", false)]);
    assert.deepEqual(order.map((x) => x.metadata?.name), ["pending", "running", "running-ready"]);
  });

  it("with readyAfterMs, pods become Running and Ready with distinct loopback pod IPs", async () => {
    controller = new ReplicaController(server.store, { readyAfterMs: 20 }).start();
    await api.post(DEPLOYMENTS, deployment("web", 2));
    const ready = await eventually(
      () => {
        const pods = controller?.podsOf("default", "web") ?? [];
        return pods.length === 2 && pods.every((x) => (x.status as { phase?: string }).phase === "Running") ? pods : undefined;
      },
      { what: "2 running pods" },
    );
    const ips = ready.map((x) => (x.status as { podIP: string }).podIP);
    assert.equal(new Set(ips).size, 2);
    for (const ip of ips) assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
    const conditions = (ready[0]?.status as { conditions: { type: string; status: string }[] }).conditions;
    assert.ok(conditions.some((c) => c.type === "Ready" && c.status === "True"));
    const d = await eventually(async () => {
      const body = (await api.get(`${DEPLOYMENTS}/web`)).body;
      return (body.status as { readyReplicas?: number }).readyReplicas === 2 ? body : undefined;
    }, { what: "readyReplicas 2" });
    assert.equal((d.status as { availableReplicas: number }).availableReplicas, 2);
  });

  it("deleting the Deployment deletes its ReplicaSet and pods (owner references)", async () => {
    controller = new ReplicaController(server.store).start();
    await api.post(DEPLOYMENTS, deployment("web", 2));
    await podsOf("web", 2);
    await api.delete(`${DEPLOYMENTS}/web`);
    assert.deepEqual((await api.get(PODS)).body.items, []);
    assert.deepEqual((await api.get("/apis/apps/v1/namespaces/default/replicasets")).body.items, []);
  });
});
