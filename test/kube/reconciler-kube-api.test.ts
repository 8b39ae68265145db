/**
 * The reconciler as Kubernetes mode runs it: createKubeReconcilePorts (the
 * real adapters over client-node) and a real KubeInventory feeding a real
 * TicketCore, against the test Kubernetes API server (real HTTP,
 * resourceVersions, 409/429) and its simulated ReplicaSet controller, which
 * removes pods in Kubernetes' documented order (not ready first, then lower
 * pod-deletion-cost). Timers (reconciler, ticket core, informers) run on a
 * fake clock; HTTP, watches and the controller are real. Every run's API
 * calls are checked against deploy/rbac.yaml.
 */
import { SimulatedUsers } from "../support/simulated-users.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { appKey } from "../../src/config/app-spec.js";
import { POD_DELETION_COST_ANNOTATION } from "../../src/config/pod-annotations.js";
import { startKubeActors } from "../../src/kube/reconcile-ports.fixture.js";
import type { AppEvent, AppStatus, ReconcilePorts } from "../../src/reconcile/index.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { soleReplica } from "../../src/runtime/ports.js";
import type { KObject } from "../support/kube-api/kinds.js";
import { Kubectl } from "../support/kube-api/kubectl.js";
import { deployment, DEPLOYMENTS, hpa, HPAS, PODS, scaledObject, SCALED_OBJECTS, TICKETED_APPS, ticketedApp } from "../support/kube-api/objects.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { useKubeApi } from "../support/kube-api/harness.js";
import { TEST_CLIENT_USER_AGENT } from "../support/kube-api/http-client.js";
import { RbacRecorder, shippedRules } from "../support/rbac.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { eventually, waitFor } from "../support/wait-for.js";

const S = 1000;
const APP = appKey("default", "web");
/** The TicketedApp's spec, as a person writes it. */
const SPEC = {
  deployment: "web",
  pathPrefix: "/web/",
  port: 8080,
  ticketsPerPod: 2,
  spareTickets: 2,
  minPods: 1,
  maxPods: 5,
  podCooldown: "10s",
  ticket: { probation: "10s", idleTimeout: "60s" },
  scaleUp: { pods: 4, period: "15s", stabilizationWindow: "0s" },
  scaleDown: { pods: 1, period: "15s", stabilizationWindow: "30s" },
};

const kube = useKubeApi();

const ok = (r: { status: number; body: KObject }, what: string): KObject => {
  assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

/** An object that owns the Deployment's replicas: an HPA, or a KEDA ScaledObject. */
type Owner = { readonly path: string; readonly object: KObject; readonly owner: "hpa" | "keda" };
const OWNERS: readonly Owner[] = [
  { path: HPAS, object: hpa("web", "web"), owner: "hpa" },
  { path: SCALED_OBJECTS, object: scaledObject("web-so", "web"), owner: "keda" },
];

async function world(options: { replicas?: number; spec?: Record<string, unknown>; owner?: Owner } = {}) {
  const replicasAtStart = options.replicas ?? 1;
  ok(await kube.api.post(DEPLOYMENTS, deployment("web", replicasAtStart)), "create deployment");
  ok(await kube.api.post(TICKETED_APPS, ticketedApp("web", { ...SPEC, ...options.spec })), "create ticketed app");
  if (options.owner !== undefined) ok(await kube.api.post(options.owner.path, options.owner.object), `create ${options.owner.owner} owner`);
  const controller = new ReplicaController(kube.server.store, { readyAfterMs: 1 }).start();
  const rbac = new RbacRecorder(kube.server, { ignoreTestClient: true });
  const actors = await startKubeActors(kube.server);
  const { clock, core, inventory } = actors;
  const replicas = async () => Number((ok(await kube.api.get(`${DEPLOYMENTS}/web/scale`), "scale").spec as { replicas: number }).replicas);
  /** Waits until the controller has made the pods the Deployment asks for and the inventory gave the core all of them, ready. */
  const settle = async () => {
    await eventually(async () => {
      const want = await replicas();
      const pods = core.pods(APP);
      return inventory.observedPods(APP).length === want && pods.length === want && pods.every((p) => p.ready) ? true : undefined;
    }, { what: "the pods to match replicas" });
  };
  await eventually(() => core.apps().some((s) => s.name === "web") || undefined, { what: "the app from its TicketedApp" });
  await settle();
  /** What the reconciler asked the Event sink for (the real sink writes them through the EventRecorder). */
  const events: AppEvent[] = [];
  /** Called once before the next scale write (a concurrent writer between read and write). */
  let beforeWrite: (() => Promise<void>) | undefined;
  const real = actors.ports;
  const ports: ReconcilePorts = {
    ...real,
    scale: {
      read: (ref) => real.scale.read(ref),
      write: async (ref, n, rv) => {
        const hook = beforeWrite;
        beforeWrite = undefined;
        await hook?.();
        return real.scale.write(ref, n, rv);
      },
    },
    events: { record: (app, e) => (events.push(e), real.events.record(app, e)) },
  };
  const reconciler = new Reconciler({ clock, logger: new RecordingLogger(), registry: new Registry(), leadership: soleReplica(), views: core, ports, backoff: { random: () => 0.5 } });
  await reconciler.start(new AbortController().signal);
  await reconciler.idle();
  const people = new SimulatedUsers(core, APP);
  const users = people.tokens;
  const deletedPods: string[] = [];
  let known = new Set(core.pods(APP).map((p) => p.name));
  const w = {
    clock, core, controller, reconciler, users, replicas, settle, deletedPods, events, rbac, actors,
    set beforeWrite(hook: (() => Promise<void>) | undefined) {
      beforeWrite = hook;
    },
    arrive: (name: string): string => people.arrive(name),
    openWebSocket: (name: string): void => people.openWebSocket(name),
    podOf: (name: string): string | undefined => people.podOf(name),
    /** Time passes second by second: users stay active, the sweeper runs, the cluster catches up, the reconciler acts. */
    async pass(ms: number, options: { settle?: boolean } = {}): Promise<void> {
      for (let t = 0; t < ms; t += S) {
        await clock.advanceAsync(S);
        people.keepActive();
        core.sweep();
        await reconciler.idle();
        await actors.recorder.flush();
        if (options.settle !== false) await settle();
        const now = new Set(core.pods(APP).map((p) => p.name));
        for (const p of known) if (!now.has(p)) deletedPods.push(p);
        known = now;
        await reconciler.idle();
      }
    },
    /** Stops everything and checks the run made no call deploy/rbac.yaml does not allow. */
    async stop(): Promise<void> {
      await reconciler.stop();
      await actors.stop();
      controller.stop();
      rbac.detach();
      assert.deepEqual(rbac.denied(shippedRules()), [], "every call is one deploy/rbac.yaml allows");
    },
  };
  return w;
}

const scaleWrites = () => kube.server.requests.filter((r) => r.method === "PUT" && r.path.endsWith("/deployments/web/scale"));
const apiEvents = async (reason: string): Promise<KObject[]> => ((ok(await kube.api.get("/apis/events.k8s.io/v1/namespaces/default/events"), "events").items ?? []) as KObject[]).filter((e) => e.reason === reason);

describe("Reconciler over the Kubernetes adapters, the inventory and the ReplicaSet controller", () => {
  it("users arrive → scale up ahead of demand; users leave → exactly the idle pods go after the cooldown; the busy and WebSocket pods stay", async () => {
    const w = await world();
    try {
      for (const u of ["a", "b", "c", "d", "e"]) {
        assert.notEqual(w.arrive(u), "queued", `${u} got a slot at once`);
        await w.pass(S);
      }
      // 5 users + 2 spare at 2 per pod → 4 pods.
      assert.equal(await w.replicas(), 4);
      // b and d leave; a keeps an open WebSocket and makes no request.
      w.openWebSocket("a");
      const kept = new Set([w.podOf("a"), w.podOf("c"), w.podOf("e")]);
      for (const u of ["a", "b", "d"]) w.users.delete(u);
      await w.pass(61 * S);
      const busyNow = new Set(w.core.pods(APP).filter((p) => p.used > 0).map((p) => p.name));
      assert.deepEqual([...busyNow].sort(), [...kept].sort(), "the WebSocket keeps a's ticket; b's and d's are released");
      await w.pass(90 * S);
      // 3 tickets + 2 spare at 2 per pod → 3 pods; the pods removed held no ticket.
      assert.equal(await w.replicas(), 3);
      assert.ok(w.deletedPods.length >= 1);
      for (const p of w.deletedPods) assert.ok(!busyNow.has(p), `${p} held no ticket when it was removed`);
      for (const p of kept) assert.ok(w.core.pods(APP).some((x) => x.name === p), `${String(p)} (busy) is still there`);
      assert.ok(w.events.some((e) => e.reason === "ScaledUp") && w.events.some((e) => e.reason === "ScaledDown"));
      const app = ok(await kube.api.get(`${TICKETED_APPS}/web`), "get app");
      const status = app.status as AppStatus & { observedGeneration?: number };
      assert.equal(status.lastScale?.to, 3);
      assert.equal(status.usedSlots, 3);
      assert.equal(status.observedGeneration, 1);
      const scaledDown = await apiEvents("ScaledDown");
      assert.ok(scaledDown.some((e) => String(e.note).includes("removing")), JSON.stringify(scaledDown.map((e) => e.note)));
      assert.deepEqual(scaledDown[0]?.regarding, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", name: "web", namespace: "default", uid: app.metadata?.uid });
    } finally {
      await w.stop();
    }
  });

  for (const owner of OWNERS) it(`with ${owner.owner === "hpa" ? "an HPA" : "a KEDA ScaledObject"} owning replicas only the costs are set: when it lowers replicas the idle pod goes, never the busy or the WebSocket one`, async () => {
    const w = await world({ replicas: 3, owner, spec: { ticketsPerPod: 1, spareTickets: 0, minPods: 1 } });
    try {
      assert.notEqual(w.arrive("busy"), "queued");
      assert.notEqual(w.arrive("socket"), "queued");
      w.openWebSocket("socket");
      const busy = new Set([w.podOf("busy"), w.podOf("socket")]);
      // socket's user makes no more requests: only the open WebSocket keeps its ticket.
      w.users.delete("socket");
      const idle = w.core.pods(APP).map((p) => p.name).filter((p) => !busy.has(p));
      assert.equal(idle.length, 1);
      await eventually(async () => {
        await w.pass(S);
        const costs = new Map(w.actors.inventory.observedPods(APP).map((p) => [p.name, Number(p.deletionCost)]));
        return [...busy].every((b) => (costs.get(idle[0] ?? "") ?? NaN) < (costs.get(b ?? "") ?? NaN)) || undefined;
      }, { what: "the idle pod's deletion cost below the busy ones'" });
      const pods = ok(await kube.api.get(PODS), "pods").items as KObject[];
      const annotated = pods.map((p) => p.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION]);
      assert.ok(annotated.every((c) => c !== undefined), "every pod carries a cost");
      // The owner lowers replicas (no HPA controller runs here: the test does what it would).
      ok(await kube.api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 2 } }, "application/merge-patch+json"), "the owner scales down");
      await w.pass(3 * S);
      assert.deepEqual(w.deletedPods, idle, "the idle pod went");
      for (const b of busy) assert.ok(w.core.pods(APP).some((p) => p.name === b), `${String(b)} stays`);
      assert.equal(w.core.verify(APP, w.users.get("busy")).ok, true);
      assert.equal(scaleWrites().length, 0, "ticketplane never wrote replicas another controller owns");
      assert.equal((ok(await kube.api.get(`${TICKETED_APPS}/web`), "app").status as AppStatus).replicasOwner, owner.owner);
    } finally {
      await w.stop();
    }
  });

  it("kubectl scale by someone else → one Event, adopted, converged calmly; a real 409 is re-read and retried", async () => {
    const w = await world();
    const kubectl = await Kubectl.create(kube.server);
    try {
      w.arrive("a");
      await w.pass(S);
      assert.equal(await w.replicas(), 2);
      await kubectl.ok(["scale", "deployment/web", "--replicas=5"]);
      await w.pass(2 * S);
      assert.equal(w.events.filter((e) => e.reason === "ReplicasChangedExternally").length, 1);
      await w.pass(150 * S);
      assert.equal(await w.replicas(), 2, "back to what the policy asks, one pod per period");
      assert.equal(w.events.filter((e) => e.reason === "ReplicasChangedExternally").length, 1, "our own writes are not taken for someone else's");
      assert.equal((await apiEvents("ReplicasChangedExternally")).length, 1);
      // A concurrent writer touches the Deployment between our read and our write: the API server answers 409.
      w.beforeWrite = async () => void ok(await kube.api.patch(`${DEPLOYMENTS}/web`, { metadata: { annotations: { touched: "yes" } } }, "application/merge-patch+json"), "touch");
      w.arrive("b");
      w.arrive("c");
      await w.pass(2 * S);
      assert.equal(await w.replicas(), 3);
      const writes = scaleWrites();
      assert.ok(writes.some((r) => r.status === 409) && writes.at(-1)?.status === 200, writes.map((r) => r.status).join());
    } finally {
      await kubectl.dispose();
      await w.stop();
    }
  });

  it("reads the scale from the Deployment cache; its own write not yet in the cache is not taken for someone else's (no Event, no second write)", async () => {
    const w = await world();
    try {
      const ownGets = () => kube.server.requests.filter((r) => r.method === "GET" && r.path.endsWith("/deployments/web/scale") && r.userAgent !== TEST_CLIENT_USER_AGENT).length;
      assert.ok(ownGets() >= 1, "the first reconcile confirmed the cache live");
      // The cache holds the Deployment as it is now (the controller's last status update included), so the
      // crossing's write names the live version; the informer's timers run on the fake clock, so time passes.
      const cacheCurrent = async (): Promise<boolean> =>
        ok(await kube.api.get(`${DEPLOYMENTS}/web`), "deployment").metadata?.resourceVersion === w.actors.inventory.deployment("default", "web")?.resourceVersion;
      await w.pass(2 * S);
      // Bounded by a real deadline, not a count of fake seconds: under load the watch event arrives late in real time.
      // Polled every quarter of a real second, with a fake second passed only every fourth poll: passed on every poll,
      // fake time outran a loaded machine's watch (ended, taken as stalled, listed again, never current) until the
      // deadline; the deadline stays under the test's own timeout.
      let polls = 0;
      await waitFor(
        async () => {
          if (await cacheCurrent()) return true;
          if (++polls % 4 === 0) await w.pass(S);
          return false;
        },
        { timeoutMs: 45_000, intervalMs: 250, what: "the Deployment cache is current before its watches stall" },
      );
      const confirmed = ownGets();
      // Then the cache stops following the API server, and a crossing scales 1 → 2.
      kube.server.stallWatches();
      w.arrive("a");
      await w.reconciler.idle();
      assert.deepEqual(scaleWrites().map((r) => r.status), [200]);
      assert.equal(ownGets(), confirmed, "the crossing's read came from the cache: no round trip before the write");
      assert.equal(await w.replicas(), 2);
      assert.equal(w.actors.inventory.deployment("default", "web")?.replicas, 1, "the cache has not seen the write");
      // Runs while the cache lags: each reads live and sees 2, ours.
      for (let i = 0; i < 3; i++) {
        w.reconciler.enqueue(APP);
        await w.pass(S, { settle: false });
      }
      assert.ok(ownGets() >= 1, "the lagging cache was confirmed live");
      assert.deepEqual(w.events.filter((e) => e.reason === "ReplicasChangedExternally"), [], "our own write is not someone else's");
      assert.deepEqual(scaleWrites().map((r) => r.status), [200], "no second write");
      assert.equal(await w.replicas(), 2);
      kube.server.dropWatches();
      await w.pass(3 * S);
      assert.equal(w.actors.inventory.deployment("default", "web")?.replicas, 2);
      const gets = ownGets();
      w.reconciler.enqueue(APP);
      await w.pass(2 * S);
      assert.equal(ownGets(), gets, "caught up: the cache answers again");
      assert.deepEqual(w.events.filter((e) => e.reason === "ReplicasChangedExternally"), []);
      assert.deepEqual(scaleWrites().map((r) => r.status), [200]);
      assert.equal((await apiEvents("ReplicasChangedExternally")).length, 0);
    } finally {
      await w.stop();
    }
  });

  it("a 429 with Retry-After from the API server is waited out, then the scale goes through", async () => {
    const w = await world();
    try {
      // The scale read comes from the Deployment cache: the write meets the 429.
      kube.server.failNext(1, { status: 429, path: "/apis/apps/v1/namespaces/default/deployments/web/scale", method: "PUT", retryAfterSeconds: 5 });
      w.arrive("a");
      await w.reconciler.idle();
      await w.pass(4 * S);
      assert.equal(await w.replicas(), 1, "not before Retry-After");
      await w.pass(2 * S);
      assert.equal(await w.replicas(), 2);
    } finally {
      await w.stop();
    }
  });
});
