/**
 * The reconciler's Kubernetes adapters against the test API server (real
 * HTTP, resourceVersions, 409/404/429) with a real KubeInventory and its
 * simulated ReplicaSet controller: the scale subresource and who owns
 * replicas (HPA, KEDA, none, no KEDA installed), deletion costs, drain
 * marks, TicketedApp status and Events. Every run's API calls are checked
 * against deploy/rbac.yaml.
 */
import type { ReconcilePorts } from "../reconcile/ports.js";
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Watch } from "@kubernetes/client-node";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { appKey } from "../config/app-spec.js";
import { DRAINING_ANNOTATION, POD_DELETION_COST_ANNOTATION } from "../config/pod-annotations.js";
import type { AppStatus } from "../reconcile/status.js";
import type { TicketCoreEvent } from "../tickets/types.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { KINDS, type KObject } from "../../test/support/kube-api/kinds.js";
import { deployment, DEPLOYMENTS, hpa, HPAS, PODS, scaledObject, SCALED_OBJECTS, ticketedApp, TICKETED_APPS } from "../../test/support/kube-api/objects.js";
import { ReplicaController } from "../../test/support/kube-api/replica-controller.js";
import { TEST_CLIENT_USER_AGENT } from "../../test/support/kube-api/http-client.js";
import { RbacRecorder, shippedRules } from "../../test/support/rbac.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { eventually, waitFor } from "../../test/support/wait-for.js";
import { apiClients } from "./kube-api.fixture.js";
import { startKubeActors, type KubeActors } from "./reconcile-ports.fixture.js";
import { ReplicaOwners } from "./replica-owners.js";
import { rejectionOf } from "../../test/support/rejection.js";

const APP = appKey("default", "web");
const REF = { namespace: "default", deployment: "web" };
const STATUS: AppStatus = { pods: 3, readyPods: 3, usedSlots: 1, freeSlots: 2, queueLength: 0, mode: "Serve", policy: "tickets", desiredPods: 3, replicasOwner: "ticketplane", conditions: [] };

const kube = useKubeApi();

describe("createKubeReconcilePorts", () => {
  let controller: ReplicaController;
  let actors: KubeActors | undefined;
  let rbac: RbacRecorder;

  const created = async (path: string, body: KObject): Promise<KObject> => {
    const r = await kube.api.post(path, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };
  /** A TicketedApp "web" over a Deployment "web" of `replicas` ready pods, seen by the inventory. */
  const setUp = async (replicas = 3): Promise<KubeActors> => {
    await created(DEPLOYMENTS, deployment("web", replicas));
    await created(TICKETED_APPS, ticketedApp("web", { deployment: "web", pathPrefix: "/web/", port: 8080, maxPods: 5, ticketsPerPod: 2 }));
    await waitFor(() => controller.podsOf("default", "web").length === replicas && controller.podsOf("default", "web").every((p) => (p.status as { podIP?: string }).podIP !== undefined), { what: "ready pods" });
    rbac = new RbacRecorder(kube.server, { ignoreTestClient: true });
    actors = await startKubeActors(kube.server);
    const a = actors;
    await waitFor(() => a.core.pods(APP).length === replicas, { what: "the inventory to see the pods" });
    return a;
  };
  const podNames = (): string[] => controller.podsOf("default", "web").map((p) => String(p.metadata?.name)).sort();
  const podAnnotations = async (name: string): Promise<Record<string, string>> => (await kube.api.get(`${PODS}/${name}`)).body.metadata?.annotations ?? {};
  /** The code under test's GETs of the web Deployment's scale subresource (the test client's own left out). */
  const ownGets = () => kube.server.requests.filter((r) => r.method === "GET" && r.path === `${DEPLOYMENTS}/web/scale` && r.userAgent !== TEST_CLIENT_USER_AGENT);
  /** Until a read of the scale makes no GET: the first reads confirm the cache live. */
  const untilReadsFromCache = (ports: Pick<ReconcilePorts, "scale">): Promise<true> =>
    eventually(async () => {
      await ports.scale.read(REF);
      const gets = ownGets().length;
      await ports.scale.read(REF);
      return ownGets().length === gets || undefined;
    }, { what: "reads from the cache" });
  const requests = (method: string, suffix: string | RegExp) => kube.server.requests.filter((r) => r.method === method && (typeof suffix === "string" ? r.path.endsWith(suffix) : suffix.test(r.path)));

  beforeEach(() => {
    controller = new ReplicaController(kube.server.store, { readyAfterMs: 1 }).start();
  });
  afterEach(async () => {
    await actors?.stop();
    actors = undefined;
    controller.stop();
    rbac?.detach();
    assert.deepEqual(rbac?.denied(shippedRules()) ?? [], [], "every call is one deploy/rbac.yaml allows");
  });

  describe("scale", () => {
    it("reads replicas and resourceVersion; writes against it; a stale resourceVersion is TP_CONFLICT; a missing Deployment reads as undefined", async () => {
      const { ports } = await setUp(2);
      const first = await ports.scale.read(REF);
      assert.deepEqual({ replicas: first?.replicas, owner: first?.owner }, { replicas: 2, owner: "ticketplane" });
      await ports.scale.write(REF, 3, first?.resourceVersion ?? "");
      await waitFor(() => podNames().length === 3, { what: "the third pod" });
      const conflict = await rejectionOf(ports.scale.write(REF, 1, first?.resourceVersion ?? ""), TicketplaneError);
      assert.equal(conflict.code, ERROR_CODES.CONFLICT);
      assert.equal(conflict.context.deployment, "web");
      assert.equal((await ports.scale.read(REF))?.replicas, 3, "the stale write changed nothing");
      assert.equal(await ports.scale.read({ namespace: "default", deployment: "nope" }), undefined);
    });

    it("a 429 becomes TP_UNAVAILABLE with the server's Retry-After as context.retryAfterMs (on a write, and on the live read after it)", async () => {
      const { ports } = await setUp(1);
      const rv = (await ports.scale.read(REF))?.resourceVersion ?? "";
      kube.server.failNext(1, { status: 429, path: `${DEPLOYMENTS}/web/scale`, method: "PUT", retryAfterSeconds: 2 });
      const put = await rejectionOf(ports.scale.write(REF, 2, rv), TicketplaneError);
      assert.deepEqual([put.code, put.context.retryAfterMs, put.context.status], [ERROR_CODES.UNAVAILABLE, 2000, 429]);
      // After a failed write the cache is not trusted: the next read is a GET.
      kube.server.failNext(1, { status: 429, path: `${DEPLOYMENTS}/web/scale`, method: "GET", retryAfterSeconds: 3 });
      const err = await rejectionOf(ports.scale.read(REF), TicketplaneError);
      assert.deepEqual([err.code, err.context.retryAfterMs, err.context.status], [ERROR_CODES.UNAVAILABLE, 3000, 429]);
      assert.equal((await ports.scale.read(REF))?.replicas, 1);
    });

    it("reads a Deployment live once, then answers from its cache while it is current: no GET of the scale subresource", async () => {
      const { ports, inventory } = await setUp(2);
      const live = (await kube.api.get(`${DEPLOYMENTS}/web/scale`)).body;
      await waitFor(() => inventory.deployment("default", "web")?.resourceVersion === live.metadata?.resourceVersion, { what: "the cache at the live resourceVersion" });
      assert.equal((await ports.scale.read(REF))?.replicas, 2);
      assert.equal(ownGets().length, 1, "the first read of a Deployment confirms the cache");
      const reading = await ports.scale.read(REF);
      assert.deepEqual(reading, { replicas: 2, resourceVersion: live.metadata?.resourceVersion, owner: "ticketplane" });
      assert.equal(ownGets().length, 1, "no round trip");
      await ports.scale.write(REF, 3, reading?.resourceVersion ?? "");
      assert.equal(requests("PUT", `${DEPLOYMENTS}/web/scale`).at(-1)?.status, 200, "the cache's resourceVersion is the scale's");
    });

    it("a write the cache has not seen yet: reads are live (our replicas, not the cache's) until the cache shows it, then from the cache again", async () => {
      const { ports, inventory, clock } = await setUp(2);
      await untilReadsFromCache(ports);
      const before = await ports.scale.read(REF);
      const first = ownGets().length;
      await clock.advanceAsync(2_000);
      kube.server.stallWatches();
      await ports.scale.write(REF, 3, before?.resourceVersion ?? "");
      await waitFor(() => podNames().length === 3, { what: "the third pod (the API server moved on; the cache did not)" });
      assert.equal(inventory.deployment("default", "web")?.replicas, 2, "the cache lags");
      const after = await ports.scale.read(REF);
      assert.equal(after?.replicas, 3, "our write, not the cache's old replicas");
      assert.equal(after?.resourceVersion, (await kube.api.get(`${DEPLOYMENTS}/web/scale`)).body.metadata?.resourceVersion);
      assert.equal(ownGets().length, first + 1);
      assert.equal((await ports.scale.read(REF))?.replicas, 3);
      assert.equal(ownGets().length, first + 2, "still live while the cache shows other replicas");
      kube.server.dropWatches();
      await eventually(async () => {
        await clock.advanceAsync(1_000);
        return inventory.deployment("default", "web")?.replicas === 3 || undefined;
      }, { what: "the cache to catch up" });
      const gets = ownGets().length;
      assert.equal((await ports.scale.read(REF))?.replicas, 3);
      assert.equal((await ports.scale.read(REF))?.replicas, 3);
      assert.equal(ownGets().length, gets, "the cache shows our replicas: it answers again");
    });

    it("a 409 (the cache was behind someone else's change): the next read is live and gives their replicas", async () => {
      const { ports, inventory, clock } = await setUp(2);
      await untilReadsFromCache(ports);
      const before = await ports.scale.read(REF);
      await clock.advanceAsync(2_000);
      kube.server.stallWatches();
      assert.equal((await kube.api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 4 } }, "application/merge-patch+json")).status, 200);
      assert.equal((await ports.scale.read(REF))?.replicas, 2, "the lagging cache answers: nothing says it is behind");
      const conflict = await rejectionOf(ports.scale.write(REF, 3, before?.resourceVersion ?? ""), TicketplaneError);
      assert.equal(conflict.code, ERROR_CODES.CONFLICT);
      assert.equal(inventory.deployment("default", "web")?.replicas, 2);
      const gets = ownGets().length;
      assert.equal((await ports.scale.read(REF))?.replicas, 4);
      assert.equal(ownGets().length, gets + 1, "read live");
    });
  });

  describe("who owns replicas", () => {
    it("an HPA on the Deployment → hpa; KEDA's keda-hpa-* or a ScaledObject → keda; deleted → ticketplane again; others' targets do not count", async () => {
      const { ports } = await setUp(1);
      const owner = async () => (await ports.scale.read(REF))?.owner;
      await created(HPAS, hpa("other", "not-web"));
      await created(HPAS, hpa("web", "web"));
      await eventually(async () => (await owner()) === "hpa", { what: "owner hpa" });
      assert.equal(kube.server.requests.filter((r) => r.method === "GET" && r.path.includes("horizontalpodautoscalers") && !r.query.includes("watch")).length, 1, "listed once, then watched (not listed per read)");
      assert.equal((await kube.api.delete(`${HPAS}/web`)).status, 200);
      await eventually(async () => (await owner()) === "ticketplane", { what: "owner back to ticketplane" });
      await created(HPAS, hpa("keda-hpa-web-so", "web"));
      await eventually(async () => (await owner()) === "keda", { what: "owner keda (its HPA)" });
      await kube.api.delete(`${HPAS}/keda-hpa-web-so`);
      await created(SCALED_OBJECTS, scaledObject("web-so", "web"));
      await eventually(async () => (await owner()) === "keda", { what: "owner keda (the ScaledObject, before its HPA exists)" });
      assert.deepEqual(ports.owners.readinessReasons(), []);
    });

    it("a cluster without KEDA (ScaledObject list 404) is normal: logged once, HPAs still count", async () => {
      await kube.restartWith({ kinds: KINDS.filter((k) => k.kind !== "ScaledObject") });
      controller.stop();
      controller = new ReplicaController(kube.server.store, { readyAfterMs: 1 }).start();
      const { ports, logger } = await setUp(1);
      assert.equal((await ports.scale.read(REF))?.owner, "ticketplane");
      const lines = logger.lines.filter((l) => l.message.includes("ScaledObjects are not served"));
      assert.equal(lines.length, 1, JSON.stringify(logger.lines));
      await created(HPAS, hpa("web", "web"));
      await eventually(async () => (await ports.scale.read(REF))?.owner === "hpa", { what: "owner hpa" });
    });

    it("refuses to say before the first lists are in (TP_UNAVAILABLE), so nothing scales a Deployment an HPA may own", () => {
      const { kubeConfig } = apiClients(kube.server);
      const owners = new ReplicaOwners({ kubeConfig, watch: new Watch(kubeConfig), namespaces: [], clock: new FakeClock(), logger: new RecordingLogger() });
      assert.throws(() => owners.ownerOf("default", "web"), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.UNAVAILABLE);
      rbac = new RbacRecorder(kube.server, { ignoreTestClient: true });
    });
  });

  describe("pod deletion costs", () => {
    it("one merge patch per pod whose cost differs; unchanged costs send nothing; a pod not cached or gone (404) is skipped", async () => {
      const { ports } = await setUp(3);
      const [a = "", b = "", c = ""] = podNames();
      await ports.costs.set(APP, new Map([[a, -100], [b, 0], [c, 100], ["no-such-pod", 5]]));
      assert.equal(requests("PATCH", /\/pods\//).length, 3);
      assert.equal((await podAnnotations(a))[POD_DELETION_COST_ANNOTATION], "-100");
      await eventually(async () => ((await ports.costs.read(APP)).size === 3 ? true : undefined), { what: "the costs back through the watch" });
      assert.deepEqual(Object.fromEntries(await ports.costs.read(APP)), { [a]: -100, [b]: 0, [c]: 100 });
      await ports.costs.set(APP, new Map([[a, -100], [b, 0], [c, 7]]));
      assert.equal(requests("PATCH", /\/pods\//).length, 4, "only c's cost changed");
      // The cache still lists b when the API server no longer has it: the patch's 404 is not an error.
      kube.server.stallWatches();
      assert.equal((await kube.api.delete(`${PODS}/${b}?gracePeriodSeconds=0`)).status, 200);
      controller.stop();
      await ports.costs.set(APP, new Map([[b, 50]]));
      assert.equal(requests("PATCH", `/pods/${b}`).at(-1)?.status, 404);
    });

    it("a 429 on a pod patch rejects with retryAfterMs after the other pods were patched", async () => {
      const { ports } = await setUp(2);
      const [a = "", b = ""] = podNames();
      kube.server.failNext(1, { status: 429, path: `${PODS}/${a}`, method: "PATCH", retryAfterSeconds: 2 });
      const err = await rejectionOf(ports.costs.set(APP, new Map([[a, 1], [b, 2]])), TicketplaneError);
      assert.deepEqual([err.code, err.context.retryAfterMs, err.context.pod], [ERROR_CODES.UNAVAILABLE, 2000, a]);
      assert.equal((await podAnnotations(b))[POD_DELETION_COST_ANNOTATION], "2");
    });
  });

  describe("draining", () => {
    it("mark: the annotation on the pod and no new tickets at once; idempotent (the first mark's time stays); seen again after a restart; unmark removes it", async () => {
      const a0 = await setUp(2);
      const [a = "", b = ""] = podNames();
      assert.equal(await a0.ports.draining.mark(APP, a, { since: 1_000, by: "reconciler" }), true);
      assert.equal(a0.core.pods(APP).find((p) => p.name === a)?.draining, true, "Check stops issuing on it before the watch brings the annotation");
      assert.equal((await podAnnotations(a))[DRAINING_ANNOTATION], "1970-01-01T00:00:01.000Z reconciler");
      assert.deepEqual((await a0.ports.draining.read(APP)).get(a), { since: 1_000, by: "reconciler" });
      const patches = requests("PATCH", `/pods/${a}`).length;
      assert.equal(await a0.ports.draining.mark(APP, a, { since: 9_000, by: "prestop" }), true);
      assert.equal(requests("PATCH", `/pods/${a}`).length, patches, "already marked: no write");
      assert.deepEqual((await a0.ports.draining.read(APP)).get(a), { since: 1_000, by: "reconciler" });
      assert.equal(await a0.ports.draining.mark(APP, "gone-pod", { since: 1, by: "reconciler" }), false);
      // A restarted process (or another replica) reads the mark from the pod.
      await a0.stop();
      actors = undefined;
      const a1 = await startKubeActors(kube.server);
      actors = a1;
      await waitFor(() => a1.core.pods(APP).length === 2, { what: "the pods after the restart" });
      assert.deepEqual(a1.core.pods(APP).map((p) => `${p.name}:${String(p.draining)}`).sort(), [`${a}:true`, `${b}:false`].sort());
      assert.deepEqual((await a1.ports.draining.read(APP)).get(a), { since: 1_000, by: "reconciler" });
      await a1.ports.draining.unmark(APP, a);
      assert.equal((await podAnnotations(a))[DRAINING_ANNOTATION], undefined);
      assert.equal((await a1.ports.draining.read(APP)).has(a), false, "read-your-writes: unmarked before the watch says so");
      await waitFor(() => a1.core.pods(APP).find((p) => p.name === a)?.draining === false, { what: "the pod serving again" });
      const before = requests("PATCH", /\/pods\//).length;
      await a1.ports.draining.unmark(APP, b);
      assert.equal(requests("PATCH", /\/pods\//).length, before, "not marked: nothing to remove");
    });
  });

  describe("status", () => {
    it("merge-patches the TicketedApp's /status with observedGeneration; the same content again is not written; a status write triggers no reconcile", async () => {
      const { ports, core } = await setUp(1);
      const events: TicketCoreEvent[] = [];
      core.subscribe((e) => events.push(e));
      await ports.status.write(APP, STATUS);
      const app = (await kube.api.get(`${TICKETED_APPS}/web`)).body;
      assert.deepEqual(app.status, { ...STATUS, observedGeneration: 1 });
      await ports.status.write(APP, STATUS);
      assert.equal(requests("PATCH", "/ticketedapps/web/status").length, 1, "unchanged: skipped");
      await ports.status.write(APP, { ...STATUS, usedSlots: 2 });
      assert.equal(requests("PATCH", "/ticketedapps/web/status").length, 2);
      // A spec edit after the status writes, on the same watch: once it is in, the status writes have been seen too.
      assert.equal((await kube.api.patch(`${TICKETED_APPS}/web`, { spec: { maxPods: 4 } }, "application/merge-patch+json")).status, 200);
      await waitFor(() => core.apps().find((s) => s.name === "web")?.maxPods === 4, { what: "the spec edit" });
      assert.equal(events.filter((e) => e.kind === "apps").length, 1, "only the spec edit changed the apps");
      await ports.status.write(APP, { ...STATUS, usedSlots: 2 });
      assert.deepEqual((await kube.api.get(`${TICKETED_APPS}/web`)).body.status, { ...STATUS, usedSlots: 2, observedGeneration: 2 }, "a new generation is written even with the same status");
    });

    it("an app defined by a k8sTicket Deployment gets no status write (counted), and its Events regard the Deployment", async () => {
      const d = deployment("legacy", 1) as { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: { template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } } } };
      d.metadata.labels.k8sTicket = "true";
      d.metadata.annotations = { "ipb-halle.de/k8sticket.deployment.app": "legacy", "ipb-halle.de/k8sticket.deployment.maxPods": "3", "ipb-halle.de/k8sticket.deployment.maxTickets": "2" };
      d.spec.template.metadata.labels["ipb-halle.de/k8sticket.deployment.app"] = "legacy";
      d.spec.template.metadata.annotations = { "ipb-halle.de/k8sTicket.port": "3838" };
      await created(DEPLOYMENTS, d);
      const a = await setUp(1);
      const legacy = appKey("default", "legacy");
      await waitFor(() => a.inventory.app(legacy) !== undefined, { what: "the k8sTicket app" });
      const before = kube.server.requests.length;
      await a.ports.status.write(legacy, STATUS);
      assert.equal(kube.server.requests.slice(before).filter((r) => r.method !== "GET").length, 0);
      assert.match(await a.registry.metrics(), /ticketplane_kube_status_writes_total\{outcome="no_status"\} 1/);
      await a.ports.events.record(legacy, { type: "Normal", reason: "ScaledUp", message: "1 → 2: tickets" });
      await a.recorder.flush();
      const list = ((await kube.api.get("/apis/events.k8s.io/v1/namespaces/default/events")).body.items ?? []) as KObject[];
      const regarding = list.map((e) => e.regarding as { kind: string; name: string; apiVersion: string; uid?: string });
      assert.deepEqual(regarding.map((r) => `${r.apiVersion} ${r.kind}/${r.name}`), ["apps/v1 Deployment/legacy"]);
    });

    it("a TicketedApp deleted meanwhile is not an error", async () => {
      const a = await setUp(1);
      kube.server.stallWatches();
      assert.equal((await kube.api.delete(`${TICKETED_APPS}/web`)).status, 200);
      await a.ports.status.write(APP, STATUS);
      assert.match(await a.registry.metrics(), /ticketplane_kube_status_writes_total\{outcome="gone"\} 1/);
    });
  });

  describe("events", () => {
    it("go through the EventRecorder regarding the TicketedApp (with its uid), with an action per reason", async () => {
      const a = await setUp(1);
      await a.ports.events.record(APP, { type: "Normal", reason: "ScaledUp", message: "1 → 2: 3 tickets + 2 spare" });
      await a.ports.events.record(APP, { type: "Warning", reason: "ReplicasChangedExternally", message: "replicas 2 → 5 by someone else" });
      await a.recorder.flush();
      const uid = (await kube.api.get(`${TICKETED_APPS}/web`)).body.metadata?.uid;
      const list = ((await kube.api.get("/apis/events.k8s.io/v1/namespaces/default/events")).body.items ?? []) as KObject[];
      const seen = list.map((e) => ({ reason: e.reason, action: e.action, type: e.type, note: e.note, regarding: e.regarding }));
      const regarding = { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", name: "web", namespace: "default", uid };
      assert.deepEqual(seen.sort((x, y) => String(x.reason).localeCompare(String(y.reason))), [
        { reason: "ReplicasChangedExternally", action: "Observe", type: "Warning", note: "replicas 2 → 5 by someone else", regarding },
        { reason: "ScaledUp", action: "Scale", type: "Normal", note: "1 → 2: 3 tickets + 2 spare", regarding },
      ]);
      const unknown = await rejectionOf(a.ports.events.record(appKey("default", "nope"), { type: "Normal", reason: "ScaledUp", message: "x" }), TicketplaneError);
      assert.equal(unknown.code, ERROR_CODES.NOT_FOUND);
    });
  });
});
