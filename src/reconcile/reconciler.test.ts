/**
 * The reconciler on the fake clock, over the real ticket core and an
 * in-memory cluster behind its ports (fake-cluster.fixture.ts): users
 * arrive and leave, and the Deployment follows — ahead of demand going up,
 * exactly the idle pods going down.
 */
import { SimulatedUsers } from "../../test/support/simulated-users.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { makeSpec } from "../../test/support/app-spec.js";
import type { PodDrainer } from "../admin/drain-route.js";
import { appKey, type AppSpec } from "../config/app-spec.js";
import { TicketCore } from "../tickets/ticket-core.js";
import { keyRing, sequentialIds } from "../tickets/tickets.fixture.js";
import type { Leadership } from "../runtime/ports.js";
import { FakeCluster } from "./fake-cluster.fixture.js";
import { PodDrainRequests } from "./pod-drainer.js";
import { Reconciler } from "./reconciler.js";

const S = 1000;
const SPEC: AppSpec = makeSpec({
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

class TestLeadership implements Leadership {
  leading = true;
  readonly #ac = new AbortController();
  readonly elected = Promise.resolve();
  get lost(): AbortSignal {
    return this.#ac.signal;
  }
  isLeader(): boolean {
    return this.leading;
  }
  lose(): void {
    this.leading = false;
    this.#ac.abort();
  }
}

async function world(spec: AppSpec = SPEC, replicas: Record<string, number> = { web: 1 }) {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  core.setApps([spec]);
  const cluster = new FakeCluster(core, clock, spec, replicas);
  const leadership = new TestLeadership();
  const logger = new RecordingLogger();
  const registry = new Registry();
  const reconciler = new Reconciler({ clock, logger, registry, leadership, views: core, ports: cluster.ports, backoff: { random: () => 0.5 } });
  await reconciler.start(new AbortController().signal);
  await reconciler.idle();
  const people = new SimulatedUsers(core, APP);
  const users = people.tokens;
  const w = {
    clock,
    core,
    cluster,
    leadership,
    logger,
    registry,
    reconciler,
    users,
    arrive: (name: string): string => people.arrive(name),
    leave: (name: string): void => people.leave(name),
    openWebSocket: (name: string): void => people.openWebSocket(name),
    podOf: (name: string): string | undefined => people.podOf(name),
    /** Lets `ms` pass second by second: remaining users stay active, the sweeper runs, the reconciler catches up. */
    async pass(ms: number): Promise<void> {
      for (let t = 0; t < ms; t += S) {
        await clock.advanceAsync(S);
        people.keepActive();
        core.sweep();
        await reconciler.idle();
      }
    },
    async stop(): Promise<void> {
      await reconciler.stop();
    },
  };
  return w;
}

describe("Reconciler (fake clock, in-memory cluster)", () => {
  it("users arrive → pods are added ahead of demand, so nobody waits", async () => {
    const w = await world();
    try {
      assert.equal(w.cluster.writes.length, 0, "1 pod serves 0 users + 2 spare");
      const outcomes: string[] = [];
      for (let i = 1; i <= 7; i++) {
        outcomes.push(w.arrive(`u${i}`));
        await w.pass(S);
      }
      assert.ok(!outcomes.includes("queued") && !outcomes.includes("refused"), outcomes.join());
      // 7 users + 2 spare at 2 per pod → 5 pods (maxPods), each raise as soon as a ticket crossed the spare threshold.
      assert.deepEqual(w.cluster.writes.map((x) => x.to), [2, 3, 4, 5]);
      assert.equal(w.cluster.podsOf("web").length, 5);
      assert.deepEqual(w.cluster.reasons().filter((r) => r === "ScaledUp").length, 4);
      const last = w.cluster.statuses.at(-1);
      assert.equal(last?.lastScale?.to, 5);
      assert.match(last?.lastScale?.reason ?? "", /7 tickets \+ 0 waiting \+ 2 spare at 2 per pod → 5 pods/);
      // The views the dashboard shows: every decision written, with its reason, and the mode.
      const decisions = w.reconciler.recentDecisions(APP);
      assert.deepEqual(decisions.map((x) => [x.from, x.to]), [[1, 2], [2, 3], [3, 4], [4, 5]]);
      assert.deepEqual(decisions.at(-1), last?.lastScale);
      assert.equal(w.reconciler.mode(APP), "Serve");
      assert.equal(w.reconciler.mode("ns/unknown"), undefined);
    } finally {
      await w.stop();
    }
  });

  it("users leave → exactly the idle pods go, after podCooldown, one per period; busy pods stay", async () => {
    const w = await world(SPEC, { web: 4 });
    try {
      for (const u of ["a", "b", "c", "d", "e", "f"]) w.arrive(u);
      await w.pass(S);
      const before = new Set(w.cluster.podsOf("web").map((p) => p.name));
      // Everyone but a and b leaves; their tickets go idle and are released after the idle timeout (60 s).
      for (const u of ["c", "d", "e", "f"]) w.leave(u);
      const kept = new Set([w.podOf("a"), w.podOf("b")]);
      await w.pass(61 * S);
      const idleAt = w.clock.now();
      const idlePods = [...before].filter((p) => !kept.has(p));
      assert.ok(idlePods.length >= 2, "at least two pods hold no ticket now");
      assert.equal(w.cluster.deleted.length, 0, "nothing removed before podCooldown");
      await w.pass(120 * S);
      // 2 users + 2 spare at 2 per pod → 2 pods.
      assert.equal(w.cluster.podsOf("web").length, 2);
      for (const p of w.cluster.deleted) assert.ok(idlePods.includes(p), `${p} was idle`);
      for (const p of kept) assert.ok(w.cluster.podsOf("web").some((x) => x.name === p), `busy pod ${String(p)} kept`);
      const downs = w.cluster.writes.filter((x) => x.to < x.from);
      assert.ok(downs.every((x) => x.from - x.to === 1), "one pod per write");
      assert.ok((downs[0]?.at ?? 0) - idleAt >= 10 * S, "the first removal waited for podCooldown");
      for (let i = 1; i < downs.length; i++) assert.ok((downs[i]?.at ?? 0) - (downs[i - 1]?.at ?? 0) >= 15 * S, "one per scaleDown.period");
      assert.deepEqual([w.podOf("a") !== undefined, w.podOf("b") !== undefined], [true, true], "their users still hold their tickets");
    } finally {
      await w.stop();
    }
  });

  it("a pod whose only user keeps an open WebSocket is never removed while an idle pod exists", async () => {
    const spec = { ...SPEC, ticketsPerPod: 1, spareTickets: 0 };
    const w = await world(spec, { web: 3 });
    try {
      w.arrive("ws");
      w.arrive("web1");
      const wsPod = w.podOf("ws");
      w.openWebSocket("ws");
      w.leave("ws"); // no more requests: only the open WebSocket keeps the ticket active
      w.leave("web1");
      await w.pass(200 * S);
      // 1 ticket (the WebSocket's) + 0 spare at 1 per pod → 1 pod: the WebSocket's.
      assert.deepEqual(w.cluster.podsOf("web").map((p) => p.name), [wsPod]);
      assert.equal(w.cluster.deleted.length, 2);
      assert.equal(w.core.tickets(APP).length, 1, "the WebSocket's ticket is still held");
    } finally {
      await w.stop();
    }
  });

  it("someone else changes replicas → one Event, their value adopted, then calm convergence (no loop)", async () => {
    const w = await world(SPEC, { web: 1 });
    try {
      w.arrive("a"); // 1 + 2 spare → 2 pods
      await w.pass(S);
      assert.equal(w.cluster.deployments.get("web")?.replicas, 2);
      w.cluster.setReplicasFromOutside("web", 5);
      await w.pass(S);
      assert.deepEqual(w.cluster.reasons().filter((r) => r === "ReplicasChangedExternally").length, 1);
      const writesAfter = w.cluster.writes.length;
      await w.pass(14 * S);
      assert.equal(w.cluster.writes.length, writesAfter, "no write during the hold");
      await w.pass(180 * S);
      assert.equal(w.cluster.deployments.get("web")?.replicas, 2, "converged to what the policy asks");
      const downs = w.cluster.writes.slice(writesAfter);
      assert.ok(downs.every((x) => x.from - x.to === 1), JSON.stringify(downs));
      // And lowering them from outside below demand: one Event, one raise after the hold, no fight.
      w.cluster.setReplicasFromOutside("web", 1);
      const n = w.cluster.writes.length;
      await w.pass(60 * S);
      assert.deepEqual(w.cluster.writes.slice(n).map((x) => [x.from, x.to]), [[1, 2]]);
      assert.equal(w.cluster.reasons().filter((r) => r === "ReplicasChangedExternally").length, 2);
    } finally {
      await w.stop();
    }
  });

  it("409 on the scale write → re-read and write again at the new resourceVersion", async () => {
    const w = await world();
    try {
      w.cluster.conflictOnNextWrite(1);
      w.arrive("a");
      await w.pass(S);
      assert.deepEqual(w.cluster.writes.map((x) => [x.from, x.to]), [[1, 2]]);
      assert.equal(w.cluster.calls.get("scale.write"), 2);
      const metrics = await w.registry.getSingleMetricAsString("ticketplane_scale_conflicts_total");
      assert.match(metrics, /ticketplane_scale_conflicts_total 1/);
      assert.equal(w.cluster.reasons().filter((r) => r === "ReplicasChangedExternally").length, 0, "a status-only change is not someone else's scaling");
    } finally {
      await w.stop();
    }
  });

  it("a failure after a scale write (the Event) keeps the write as ours: no 'changed by someone else', no second write", async () => {
    const w = await world();
    try {
      w.cluster.failNext("events.record", 1);
      w.arrive("a");
      await w.pass(5 * S);
      assert.deepEqual(w.cluster.writes.map((x) => [x.from, x.to]), [[1, 2]]);
      assert.deepEqual(w.cluster.reasons().filter((r) => r === "ReplicasChangedExternally"), []);
      assert.equal(w.cluster.statuses.at(-1)?.lastScale?.to, 2, "the status names the decision once the retry went through");
    } finally {
      await w.stop();
    }
  });

  it("API failures back off exponentially (no tight loop) and the reconcile converges afterwards", async () => {
    const w = await world();
    try {
      w.cluster.failNext("scale.read", 4);
      const reads = () => w.cluster.calls.get("scale.read") ?? 0;
      const r0 = reads();
      w.arrive("a");
      await w.reconciler.idle();
      await w.pass(3 * S);
      assert.ok(reads() - r0 <= 4, `at most 4 reads in 3 s (500, 1000, 2000 ms backoff), got ${reads() - r0}`);
      await w.pass(10 * S);
      assert.deepEqual(w.cluster.writes.map((x) => x.to), [2]);
      assert.ok(w.logger.at("warn").some((l) => l.message === "reconcile failed; retrying" && l.fields.app === APP));
    } finally {
      await w.stop();
    }
  });

  it("losing the lead stops acting at once", async () => {
    const w = await world();
    try {
      w.leadership.lose();
      for (const u of ["a", "b", "c"]) w.arrive(u);
      await w.pass(30 * S);
      assert.equal(w.cluster.writes.length, 0);
      assert.ok(w.logger.at("warn").some((l) => /lost the lead/.test(l.message)));
    } finally {
      await w.stop();
    }
  });

  it("under an HPA: deletion costs and drains only; the HPA's own scale-in then removes the idle pod", async () => {
    const w = await world({ ...SPEC, spareTickets: 0 }, { web: 3 });
    try {
      w.cluster.setOwner("web", "hpa");
      w.arrive("a");
      const busy = w.podOf("a");
      await w.pass(60 * S);
      assert.equal(w.cluster.writes.length, 0);
      const costs = w.cluster.readCosts();
      for (const p of w.cluster.podsOf("web")) assert.ok((costs.get(p.name) ?? 0) < (costs.get(String(busy)) ?? 0) || p.name === busy, "idle pods cost less");
      w.cluster.setReplicasFromOutside("web", 1); // the HPA lowers replicas
      assert.deepEqual(w.cluster.podsOf("web").map((p) => p.name), [busy]);
      assert.ok(w.cluster.statuses.at(-1)?.conditions.some((c) => c.type === "ScalingActive" && c.reason === "HorizontalPodAutoscaler"));
    } finally {
      await w.stop();
    }
  });
});

describe("PodDrainRequests (POST /drain behind the admin port)", () => {
  it("marks a listed pod draining (the ticket core then gives it no new ticket); again is 'already'; unknown is 'not_found'", async () => {
    const clock = new FakeClock();
    const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
    core.setApps([SPEC]);
    const cluster = new FakeCluster(core, clock, SPEC, { web: 2 });
    const drainer: PodDrainer = new PodDrainRequests(core, cluster.ports.draining, clock);
    const [first] = cluster.podsOf("web");
    assert.ok(first !== undefined);
    assert.equal(await drainer.drain("ns", first.name), "drained");
    assert.equal(core.pods(APP).find((p) => p.name === first.name)?.draining, true);
    assert.deepEqual(cluster.readMarks().get(first.name), { since: clock.now(), by: "prestop" });
    assert.equal(await drainer.drain("ns", first.name), "already");
    assert.equal(await drainer.drain("ns", "ghost"), "not_found");
    assert.equal(await drainer.drain("other", first.name), "not_found");
  });
});
