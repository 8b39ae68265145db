/**
 * The reconciler against the test Kubernetes API server (real HTTP, real
 * resourceVersion and 409 semantics) and its simulated ReplicaSet
 * controller, which removes pods in Kubernetes' documented order (not
 * ready first, then lower pod-deletion-cost). The ports are implemented by
 * a thin adapter over plain HTTP (test/support/http-reconcile-ports.ts) —
 * the real adapters live in src/kube/ — and the ticket core learns pods from the API server as an
 * inventory would (Running, Ready, not terminating; the drain annotation
 * as `draining`). The reconciler's timers run on a fake clock; HTTP and the
 * controller are real.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { appKey, type AppSpec } from "../../src/config/app-spec.js";
import { DRAINING_ANNOTATION } from "../../src/config/pod-annotations.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import type { AppStatus } from "../../src/reconcile/index.js";
import { soleReplica } from "../../src/runtime/ports.js";
import { admit } from "../../src/tickets/admit.js";
import { TicketCore } from "../../src/tickets/ticket-core.js";
import { keyRing, sequentialIds } from "../../src/tickets/tickets.fixture.js";
import { makeSpec } from "../support/app-spec.js";
import { FakeClock } from "../support/fake-clock.js";
import { annotations, check, HttpPorts, isReady } from "../support/http-reconcile-ports.js";
import type { KObject } from "../support/kube-api/kinds.js";
import { deployment, DEPLOYMENTS, TICKETED_APPS, ticketedApp } from "../support/kube-api/objects.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { useKubeApi } from "../support/kube-api/harness.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { eventually } from "../support/wait-for.js";

const S = 1000;
const SPEC: AppSpec = makeSpec({
  namespace: "default",
  name: "web",
  deployment: "web",
  ticketsPerPod: 2,
  spareTickets: 2,
  minPods: 1,
  maxPods: 5,
  podCooldownMs: 10 * S,
  ticket: { probationMs: 10 * S, idleTimeoutMs: 60 * S },
  scaleUp: { pods: 4, periodMs: 15 * S, stabilizationMs: 0 },
  scaleDown: { pods: 1, periodMs: 15 * S, stabilizationMs: 30 * S },
});
const APP = appKey(SPEC.namespace, SPEC.name);

const kube = useKubeApi();

async function world() {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  core.setApps([SPEC]);
  check(await kube.api.post(DEPLOYMENTS, deployment("web", 1)), "create deployment");
  check(await kube.api.post(TICKETED_APPS, ticketedApp("web", { deployment: "web", ticketsPerPod: 2 })), "create ticketed app");
  const controller = new ReplicaController(kube.server.store, { readyAfterMs: 1 }).start();
  const http = new HttpPorts(kube.api);
  /** The inventory's part: slot-holders are Running, Ready and not terminating. */
  const syncPods = async (): Promise<KObject[]> => {
    const pods = await http.pods();
    core.setPods(APP, pods.filter((p) => p.metadata?.deletionTimestamp === undefined).map((p) => ({
      name: p.metadata?.name ?? "",
      host: String((p.status as { podIP?: string } | undefined)?.podIP ?? "127.0.0.1"),
      port: 8080,
      ready: isReady(p),
      draining: annotations(p)[DRAINING_ANNOTATION] !== undefined,
    })));
    return pods;
  };
  const replicas = async () => Number(((check(await kube.api.get(`${DEPLOYMENTS}/web/scale`), "scale").body.spec) as { replicas: number }).replicas);
  /** Waits until the controller has made the pods the Deployment asks for, all ready, and the core has them. */
  const settle = async () => {
    await eventually(async () => {
      const want = await replicas();
      const pods = await syncPods();
      return pods.length === want && pods.every(isReady) ? true : undefined;
    }, { what: "the pods to match replicas" });
  };
  await settle();
  const reconciler = new Reconciler({ clock, logger: new RecordingLogger(), registry: new Registry(), leadership: soleReplica(), views: core, ports: http.ports, backoff: { random: () => 0.5 } });
  await reconciler.start(new AbortController().signal);
  await reconciler.idle();
  const users = new Map<string, string>();
  /** Open WebSockets (connection id → ticket id), reported every second as a gateway's access log does. */
  const sockets = new Map<string, string>();
  const deletedPods: string[] = [];
  let known = new Set<string>();
  const w = {
    clock, core, http, controller, reconciler, users, replicas, settle, deletedPods,
    arrive(name: string): string {
      const a = admit(core, APP, { client: name });
      if (a.kind !== "issued") return a.kind;
      admit(core, APP, { ticketTokens: [a.token] });
      users.set(name, a.token);
      return a.pod.name;
    },
    /** The user's WebSocket opens and stays open (its requests stop when the user is removed from `users`). */
    openWebSocket(name: string): void {
      const v = core.verify(APP, users.get(name));
      if (!v.ok) throw new Error(`${name} holds no ticket`);
      sockets.set(`ws-${name}`, v.ticket.id);
      core.openConnection(APP, v.ticket.id, `ws-${name}`);
    },
    podOf(name: string): string | undefined {
      const v = core.verify(APP, users.get(name));
      return v.ok ? v.pod.name : undefined;
    },
    /** Time passes second by second: users stay active, the sweeper runs, the cluster catches up, the reconciler acts. */
    async pass(ms: number): Promise<void> {
      for (let t = 0; t < ms; t += S) {
        await clock.advanceAsync(S);
        for (const token of users.values()) admit(core, APP, { ticketTokens: [token] });
        for (const [conn, ticket] of sockets) core.openConnection(APP, ticket, conn);
        core.sweep();
        await reconciler.idle();
        await settle();
        const now = new Set(core.pods(APP).map((p) => p.name));
        for (const p of known) if (!now.has(p)) deletedPods.push(p);
        known = now;
        await reconciler.idle();
      }
    },
    async stop(): Promise<void> {
      await reconciler.stop();
      controller.stop();
    },
  };
  known = new Set(core.pods(APP).map((p) => p.name));
  return w;
}

describe("Reconciler against the test API server and its ReplicaSet controller", () => {
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
      assert.ok(w.http.events.some((e) => e.reason === "ScaledUp") && w.http.events.some((e) => e.reason === "ScaledDown"));
      const app = check(await kube.api.get(`${TICKETED_APPS}/web`), "get app").body;
      const status = app.status as AppStatus;
      assert.equal(status.lastScale?.to, 3);
      assert.equal(status.usedSlots, 3);
      const events = (check(await kube.api.get("/api/v1/namespaces/default/events"), "events").body.items ?? []) as KObject[];
      assert.ok(events.some((e) => e.reason === "ScaledDown" && String(e.message).includes("removing")));
    } finally {
      await w.stop();
    }
  });

  it("replicas changed through the API by someone else → one Event, adopted, converged calmly; a real 409 is re-read and retried", async () => {
    const w = await world();
    try {
      w.arrive("a");
      await w.pass(S);
      assert.equal(await w.replicas(), 2);
      check(await kube.api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 5 } }, "application/merge-patch+json"), "kubectl scale");
      await w.pass(2 * S);
      assert.equal(w.http.events.filter((e) => e.reason === "ReplicasChangedExternally").length, 1);
      await w.pass(150 * S);
      assert.equal(await w.replicas(), 2, "back to what the policy asks, one pod per period");
      assert.equal(w.http.events.filter((e) => e.reason === "ReplicasChangedExternally").length, 1, "our own writes are not taken for someone else's");
      // A concurrent writer touches the Deployment between our read and our write: the API server answers 409.
      w.http.beforeWrite = async () => void check(await kube.api.patch(`${DEPLOYMENTS}/web`, { metadata: { annotations: { touched: "yes" } } }, "application/merge-patch+json"), "touch");
      w.arrive("b");
      w.arrive("c");
      await w.pass(2 * S);
      assert.equal(await w.replicas(), 3);
      const writes = kube.server.requests.filter((r) => r.method === "PUT" && r.path.endsWith("/deployments/web/scale"));
      assert.ok(writes.some((r) => r.status === 409) && writes.at(-1)?.status === 200, writes.map((r) => r.status).join());
    } finally {
      await w.stop();
    }
  });

  it("a 429 with Retry-After from the API server is waited out, then the scale goes through", async () => {
    const w = await world();
    try {
      kube.server.failNext(1, { status: 429, path: "/apis/apps/v1/namespaces/default/deployments/web/scale", method: "GET", retryAfterSeconds: 5 });
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
