/**
 * LeaseLeadership against the test API server (real HTTP, resourceVersion,
 * 409), with time on the fake clock: the clock moves in small steps and
 * every elector's attempt finishes before the next step, so "within the
 * renew deadline" is checked in fake time, never by real timing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { apiClients } from "./kube-api.fixture.js";
import { CLIENT_GO_TIMING, LeaseLeadership, leaseIdentity } from "./lease-leadership.js";

const k = useKubeApi();
const LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/default/leases/ticketplane";

interface World {
  readonly clock: FakeClock;
  readonly electors: LeaseLeadership[];
  /** Moves fake time forward in steps of `stepMs`, letting every attempt finish after each; asserts there is never more than one leader. */
  run(ms: number, stepMs?: number): Promise<void>;
  /** When each elector was elected and lost, in fake time. */
  readonly times: Map<string, { elected?: number; lost?: number }>;
  readonly registry: Registry;
  readonly logger: RecordingLogger;
}

function world(count: number): World {
  const clock = new FakeClock();
  const registry = new Registry();
  const logger = new RecordingLogger();
  const { coordination } = apiClients(k.server);
  const times = new Map<string, { elected?: number; lost?: number }>();
  const electors = Array.from({ length: count }, (_, i) => {
    const e = new LeaseLeadership({ coordination, namespace: "default", lease: "ticketplane", identity: `replica-${i}`, clock, logger, registry, random: () => 0 });
    const t: { elected?: number; lost?: number } = {};
    times.set(e.identity, t);
    void e.elected.then(() => (t.elected = clock.now()));
    e.lost.addEventListener("abort", () => (t.lost = clock.now()));
    return e;
  });
  const settle = async () => {
    await Promise.all(electors.map((e) => e.settled()));
    await Promise.all(electors.map((e) => e.settled()));
  };
  return {
    clock,
    electors,
    times,
    registry,
    logger,
    async run(ms, stepMs = 250) {
      for (let left = ms; left > 0; left -= stepMs) {
        await clock.advanceAsync(Math.min(stepMs, left));
        await settle();
        const leaders = electors.filter((e) => e.isLeader()).map((e) => e.identity);
        assert.ok(leaders.length <= 1, `two leaders at once: ${leaders.join(", ")}`);
      }
    },
  };
}

async function leaseSpec(): Promise<{ holderIdentity?: string; leaseTransitions?: number; renewTime?: string; leaseDurationSeconds?: number }> {
  const r = await k.api.get(LEASE_PATH);
  return (r.body.spec ?? {});
}

async function startAll(w: World): Promise<void> {
  for (const e of w.electors) await e.start();
  await w.run(0);
  await Promise.all(w.electors.map((e) => e.settled()));
}

async function stopAll(w: World): Promise<void> {
  await Promise.all(w.electors.map((e) => e.stop()));
}

describe("LeaseLeadership", () => {
  it("of two electors exactly one leads; the Lease names it; it keeps renewing and the other keeps following", async () => {
    const w = world(2);
    await startAll(w);
    await w.run(1000);
    const leader = w.electors.find((e) => e.isLeader());
    assert.ok(leader !== undefined, "someone leads");
    const follower = w.electors.find((e) => e !== leader);
    assert.ok(follower !== undefined);
    const first = await leaseSpec();
    assert.equal(first.holderIdentity, leader.identity);
    assert.equal(first.leaseDurationSeconds, 15);
    assert.equal(first.leaseTransitions, 0);
    await w.run(60_000);
    assert.equal(leader.isLeader(), true, "renewing keeps it leading well past the lease duration");
    assert.equal(follower.isLeader(), false);
    assert.equal(follower.holder(), leader.identity);
    const later = await leaseSpec();
    assert.ok(Date.parse(String(later.renewTime)) >= w.clock.now() - CLIENT_GO_TIMING.retryPeriodMs - 250, "renewTime follows the clock");
    assert.equal(later.leaseTransitions, 0, "renewing is not a transition");
    assert.equal(leader.lost.aborted, false);
    assert.match(await w.registry.metrics(), /ticketplane_leader\{lease="default\/ticketplane"\} 1/);
    await stopAll(w);
  });

  it("a leader that stops releases the Lease: the other leads at its next attempt, without waiting for expiry", async () => {
    const w = world(2);
    await startAll(w);
    await w.run(500);
    const [a, b] = [w.electors.find((e) => e.isLeader()), w.electors.find((e) => !e.isLeader())];
    assert.ok(a !== undefined && b !== undefined);
    const stoppedAt = w.clock.now();
    await a.stop();
    assert.equal(a.isLeader(), false);
    assert.equal(a.lost.aborted, true, "stopping ends leadership for the leader-only parts");
    assert.equal((await leaseSpec()).holderIdentity, "", "released: no holder");
    await w.run(CLIENT_GO_TIMING.retryPeriodMs + 500);
    assert.equal(b.isLeader(), true);
    const took = w.times.get(b.identity)?.elected ?? Infinity;
    assert.ok(took - stoppedAt <= CLIENT_GO_TIMING.retryPeriodMs + 500, `took over ${took - stoppedAt} ms after the release (lease duration: 15000)`);
    assert.equal((await leaseSpec()).leaseTransitions, 1);
    assert.match(w.logger.lines.map((l) => l.message).join("\n"), /released the leader Lease/);
    await stopAll(w);
  });

  it("a leader whose renewals fail (500) steps down within the renew deadline; the other takes over only after the lease expires; never both", async () => {
    const w = world(2);
    await startAll(w);
    await w.run(500);
    const [a, b] = [w.electors.find((e) => e.isLeader()), w.electors.find((e) => !e.isLeader())];
    assert.ok(a !== undefined && b !== undefined);
    await w.run(3000);
    const lastRenew = a.status().lastRenewedAt ?? 0;
    k.server.failNext(1000, { status: 500, method: "PUT", path: LEASE_PATH });
    await w.run(CLIENT_GO_TIMING.renewDeadlineMs + 2000);
    const lostAt = w.times.get(a.identity)?.lost;
    assert.ok(lostAt !== undefined, "stepped down");
    assert.ok(lostAt - lastRenew <= CLIENT_GO_TIMING.renewDeadlineMs, `stepped down ${lostAt - lastRenew} ms after its last renewal`);
    assert.ok(a.lost.reason instanceof TicketplaneError && a.lost.reason.code === ERROR_CODES.CONFLICT);
    assert.match(String((a.lost.reason as Error).message), /renew deadline/);
    k.server.clearFailures();
    await w.run(CLIENT_GO_TIMING.leaseDurationMs);
    assert.equal(b.isLeader(), true, "the other took over");
    const tookAt = w.times.get(b.identity)?.elected ?? 0;
    assert.ok(tookAt - lastRenew >= CLIENT_GO_TIMING.leaseDurationMs, `took over ${tookAt - lastRenew} ms after the last renewal it saw (not before the lease expired)`);
    assert.equal(a.isLeader(), false, "a replica that lost never leads again");
    assert.equal((await leaseSpec()).holderIdentity, b.identity);
    assert.match(await w.registry.metrics(), /ticketplane_leader_transitions_total\{lease="default\/ticketplane",event="lost"\} 1/);
    await stopAll(w);
  });

  it("the API server going away: the leader steps down within the renew deadline; when it returns the other takes over", async () => {
    const w = world(2);
    await startAll(w);
    await w.run(500);
    const [a, b] = [w.electors.find((e) => e.isLeader()), w.electors.find((e) => !e.isLeader())];
    assert.ok(a !== undefined && b !== undefined);
    const lastRenew = a.status().lastRenewedAt ?? 0;
    await k.server.pause();
    await w.run(CLIENT_GO_TIMING.renewDeadlineMs + 1000);
    const lostAt = w.times.get(a.identity)?.lost;
    assert.ok(lostAt !== undefined && lostAt - lastRenew <= CLIENT_GO_TIMING.renewDeadlineMs, `stepped down at +${String(lostAt === undefined ? "never" : lostAt - lastRenew)} ms`);
    await k.server.resume();
    await w.run(CLIENT_GO_TIMING.leaseDurationMs + 5000);
    assert.equal(b.isLeader(), true);
    assert.equal((await leaseSpec()).holderIdentity, b.identity);
    await stopAll(w);
  });

  it("someone else writing the Lease (another holder) makes the leader step down at its next attempt", async () => {
    const w = world(1);
    const [a] = w.electors;
    assert.ok(a !== undefined);
    await startAll(w);
    await w.run(500);
    assert.equal(a.isLeader(), true);
    const current = (await k.api.get(LEASE_PATH)).body;
    const put = await k.api.put(LEASE_PATH, { ...current, spec: { ...(current.spec as object), holderIdentity: "intruder", renewTime: new Date(w.clock.now()).toISOString() } });
    assert.equal(put.status, 200);
    const before = w.clock.now();
    await w.run(CLIENT_GO_TIMING.retryPeriodMs + 250);
    assert.equal(a.isLeader(), false);
    assert.ok((w.times.get(a.identity)?.lost ?? Infinity) - before <= CLIENT_GO_TIMING.retryPeriodMs, "within one retry period");
    assert.match(String((a.lost.reason as Error).message), /another replica holds the lease: intruder/);
    await stopAll(w);
    assert.equal((await leaseSpec()).holderIdentity, "intruder", "stopping does not release a lease it does not hold");
  });

  it("two electors writing the same read at once: one write is a 409 and only one leads; the loser re-reads and follows", async () => {
    const w = world(2);
    // An expired lease both will try to take from the same resourceVersion.
    await k.api.post("/apis/coordination.k8s.io/v1/namespaces/default/leases", { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "ticketplane" }, spec: { holderIdentity: "", leaseTransitions: 4 } });
    await startAll(w);
    const conflicts = k.server.requests.filter((r) => r.method === "PUT" && r.status === 409).length;
    assert.equal(conflicts, 1, "both wrote from the same read; the API server took one");
    assert.equal(w.electors.filter((e) => e.isLeader()).length, 1);
    await w.run(5000);
    assert.equal(w.electors.filter((e) => e.isLeader()).length, 1);
    assert.equal((await leaseSpec()).leaseTransitions, 5, "taking a released lease is one transition");
    assert.doesNotMatch(await w.registry.metrics(), /ticketplane_leader_lease_failures_total\{[^}]*\} [1-9]/, "a 409 is not counted as a failure");
    await stopAll(w);
  });

  it("judges expiry by when it saw the record change, not by the timestamps in it (clock skew)", async () => {
    const w = world(1);
    const [a] = w.electors;
    assert.ok(a !== undefined);
    const anHourAgo = new Date(w.clock.now() - 3_600_000).toISOString();
    await k.api.post("/apis/coordination.k8s.io/v1/namespaces/default/leases", { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "ticketplane" }, spec: { holderIdentity: "skewed", leaseDurationSeconds: 15, renewTime: anHourAgo, acquireTime: anHourAgo, leaseTransitions: 2 } });
    await startAll(w);
    await w.run(CLIENT_GO_TIMING.leaseDurationMs - 1000);
    assert.equal(a.isLeader(), false, "the holder may be alive with a skewed clock: wait a full lease duration from first sight");
    await w.run(CLIENT_GO_TIMING.leaseDurationMs);
    assert.equal(a.isLeader(), true);
    assert.equal(a.term(), 3);
    assert.equal((await leaseSpec()).leaseTransitions, 3);
    await stopAll(w);
  });

  it("refuses timings that could let two leaders act at once; identities are unique per process", () => {
    const { coordination } = apiClients(k.server);
    const base = { coordination, namespace: "default", lease: "x", identity: "a", clock: new FakeClock(), logger: new RecordingLogger(), registry: new Registry() };
    assert.throws(() => new LeaseLeadership({ ...base, timing: { renewDeadlineMs: 20_000 } }), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.INVALID_CONFIG && /renewDeadline < leaseDuration/.test(e.message));
    assert.match(leaseIdentity("web-7d9f-x2"), /^web-7d9f-x2_[0-9a-f]{8}$/);
    assert.notEqual(leaseIdentity("a"), leaseIdentity("a"));
    assert.match(leaseIdentity(""), /^ticketplane_/);
  });
});
