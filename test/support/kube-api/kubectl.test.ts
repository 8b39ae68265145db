/**
 * The real kubectl as an independent client of the test API server: if
 * kubectl's discovery, printing, apply (client- and server-side), scale,
 * patch, annotate, delete and watch work against it, the server speaks
 * enough of the real API. Versioned clients (1.27, 1.33) run a command too.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../wait-for.ts";
import type { KObject } from "./kinds.ts";
import { Kubectl, kubectlBinary } from "./kubectl.ts";
import { configMap, CONFIGMAPS, deployment, hpa, HPAS, pod, PODS, scaledObject, SCALED_OBJECTS, ticketedApp, TICKETED_APPS } from "./objects.ts";
import { ApiClient } from "./http-client.ts";
import { ReplicaController } from "./replica-controller.ts";
import { KubeApiServer } from "./server.ts";

const yaml = (o: KObject) => JSON.stringify(o);

describe("kube-api: the real kubectl", () => {
  let server: KubeApiServer;
  let api: ApiClient;
  let kubectl: Kubectl;
  let controller: ReplicaController;

  before(async () => {
    kubectlBinary();
    server = await KubeApiServer.start();
    api = new ApiClient(server.url);
    controller = new ReplicaController(server.store, { readyAfterMs: 10 }).start();
    kubectl = await Kubectl.create(server);
  });

  after(async () => {
    await kubectl?.dispose();
    controller?.stop();
    await server?.close();
  });

  it("get pods -o json lists what the API holds; get deployments prints the server's table", async () => {
    await api.post(PODS, pod("solo", { role: "one" }));
    const list = JSON.parse(await kubectl.ok(["get", "pods", "-o", "json"])) as { kind: string; items: KObject[] };
    assert.equal(list.kind, "List");
    assert.ok(server.requests.some((r) => r.userAgent?.startsWith("kubectl/v1.32.") === true), "the dispatcher ran kubectl 1.32 for a 1.32 server");
    assert.deepEqual(list.items.map((p) => [p.kind, p.metadata?.name, p.metadata?.labels?.role]), [["Pod", "solo", "one"]]);
    assert.match(await kubectl.ok(["get", "pod", "solo"]), /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nsolo\s+0\/1\s+Pending\s+0\s+\d+s\n$/);
    await api.post("/apis/apps/v1/namespaces/default/deployments", deployment("listed", 1));
    const table = await kubectl.ok(["get", "deployments"]);
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    assert.match(table, /\nlisted\s+[01]\/1\s/);
    assert.equal(await kubectl.ok(["get", "deploy", "listed", "-o", "jsonpath={.spec.replicas}"]), "1");
    await kubectl.ok(["delete", "deployment", "listed"]);
  });

  it("apply -f (client-side) creates, then patches with the last-applied configuration; apply --server-side takes over as field manager", async () => {
    const manifest = (image: string) => yaml(deployment("web", 2, image));
    assert.match(await kubectl.ok(["apply", "-f", "-"], { input: manifest("nginx:1") }), /deployment.apps\/web created/);
    assert.match(await kubectl.ok(["apply", "-f", "-"], { input: manifest("nginx:2") }), /deployment.apps\/web configured/);
    const d = (await api.get("/apis/apps/v1/namespaces/default/deployments/web")).body;
    assert.equal(d.metadata?.generation, 2);
    assert.match(d.metadata?.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "", /nginx:2/);
    assert.match(await kubectl.ok(["apply", "--server-side", "-f", "-"], { input: manifest("nginx:3") }), /deployment.apps\/web serverside-applied/);
    const applied = (await api.get("/apis/apps/v1/namespaces/default/deployments/web")).body;
    const managers = (applied.metadata?.managedFields as { manager: string; operation: string }[]).map((f) => `${f.manager}/${f.operation}`);
    assert.ok(managers.includes("kubectl/Apply"), managers.join(", "));
    assert.equal(await kubectl.ok(["get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]), "nginx:3");
  });

  it("scale deployment/web --replicas=3: the simulated controller creates the pods", async () => {
    assert.match(await kubectl.ok(["scale", "deployment/web", "--replicas=3"]), /deployment.apps\/web scaled/);
    await eventually(() => controller.podsOf("default", "web").length === 3 || undefined, { what: "3 pods of web" });
    const pods = await kubectl.ok(["get", "pods", "-l", "app=web", "-o", "name"]);
    assert.equal(pods.trim().split("\n").length, 3);
    const ready = await eventually(async () => {
      const out = await kubectl.ok(["get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}"]);
      return out === "3" ? out : undefined;
    }, { what: "3 ready replicas" });
    assert.equal(ready, "3");
  });

  it("patch --type=merge, annotate and delete", async () => {
    await api.post(CONFIGMAPS, configMap("settings", { a: "1" }));
    assert.match(await kubectl.ok(["patch", "configmap", "settings", "--type=merge", "-p", '{"data":{"b":"2"}}']), /configmap\/settings patched/);
    assert.match(await kubectl.ok(["annotate", "configmap", "settings", "team=ops"]), /configmap\/settings annotated/);
    const cm = (await api.get(`${CONFIGMAPS}/settings`)).body;
    assert.deepEqual(cm.data, { a: "1", b: "2" });
    assert.equal(cm.metadata?.annotations?.team, "ops");
    assert.match(await kubectl.ok(["delete", "configmap", "settings"]), /configmap "settings" deleted/);
    assert.equal((await api.get(`${CONFIGMAPS}/settings`)).status, 404);
  });

  it("get ticketedapps (and its short name) for the custom resource", async () => {
    await api.post(TICKETED_APPS, ticketedApp("shiny"));
    assert.match(await kubectl.ok(["get", "ticketedapps"]), /^NAME\s+AGE\nshiny\s+\d+s\n$/);
    const got = JSON.parse(await kubectl.ok(["get", "tapp", "shiny", "-o", "json"])) as KObject;
    assert.deepEqual([got.apiVersion, got.kind, got.spec], ["ticketplane.dev/v1alpha1", "TicketedApp", { pathPrefix: "/shiny/", ticketsPerPod: 1 }]);
  });

  it("get hpa and get so print HPAs and KEDA ScaledObjects with their targets", async () => {
    await api.post(HPAS, hpa("front", "front", 7));
    await api.post(SCALED_OBJECTS, scaledObject("back-so", "back"));
    assert.match(await kubectl.ok(["get", "hpa"]), /^NAME\s+REFERENCE\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nfront\s+Deployment\/front\s+1\s+7\s+0\s+\d+s\n$/);
    assert.match(await kubectl.ok(["get", "so"]), /^NAME\s+SCALETARGETKIND\s+SCALETARGETNAME\s+MIN\s+MAX\s+AGE\nback-so\s+back\s+0\s+10\s+\d+s\n$/);
  });

  it("get -w prints the current objects and then each change, until it is killed", async () => {
    await api.post(CONFIGMAPS, configMap("watched-a"));
    const w = kubectl.stream(["get", "configmaps", "-w"]);
    try {
      await w.line(/^watched-a\s/);
      await api.post(CONFIGMAPS, configMap("watched-b"));
      await w.line(/^watched-b\s/);
    } finally {
      await w.kill();
    }
    await eventually(() => server.openWatches === 0 || undefined, { what: "the watch to close with kubectl" });
  });

  for (const version of ["1.27", "1.33"]) {
    it(`kubectl ${version} gets and applies against the same server`, async () => {
      const binary = kubectlBinary(version);
      const name = `v${version.replace(".", "-")}`;
      await kubectl.ok(["apply", "-f", "-"], { binary, input: yaml(configMap(name, { v: version })) });
      const got = JSON.parse(await kubectl.ok(["get", "configmap", name, "-o", "json"], { binary })) as KObject;
      assert.deepEqual(got.data, { v: version });
      assert.match(await kubectl.ok(["get", "deployments"], { binary }), /\nweb\s+\d\/3\s/);
    });
  }
});

describe("kube-api: kubectl without aggregated discovery", () => {
  it("falls back to the legacy discovery endpoints", async () => {
    kubectlBinary();
    const server = await KubeApiServer.start({ aggregatedDiscovery: false });
    const kubectl = await Kubectl.create(server);
    try {
      await new ApiClient(server.url).post(PODS, pod("legacy"));
      assert.match(await kubectl.ok(["get", "pods"]), /\nlegacy\s/);
      const paths = server.requests.map((r) => r.path);
      assert.ok(paths.includes("/api/v1") && paths.includes("/apis/apps/v1"), paths.join(" "));
    } finally {
      await kubectl.dispose();
      await server.close();
    }
  });
});
