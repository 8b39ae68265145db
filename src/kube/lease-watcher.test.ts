/**
 * Hand-over and partition on the leader Lease, against the test API server
 * with time on the fake clock:
 *
 * - a leader that stops releases the Lease and the follower, watching it,
 *   takes it without any time passing (no retry period waited);
 * - a leader cut off from the API server (a partition of its client only:
 *   the follower still reaches it) steps down within the renew deadline,
 *   and the follower leads only after that and after the lease expired —
 *   and the owner gate stops allocating the moment the leader steps down.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Watch } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { waitFor } from "../../test/support/wait-for.js";
import { makeSpec } from "../../test/support/app-spec.js";
import { ownerOnlyAllocation } from "../runtime/owner-gate.js";
import { TicketCore } from "../tickets/index.js";
import { apiClients } from "./kube-api.fixture.js";
import { CLIENT_GO_TIMING, LeaseLeadership } from "./lease-leadership.js";
import { LeaseWatcher } from "./lease-watcher.js";

const k = useKubeApi();
const LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/default/leases/ticketplane";

interface Replica {
  readonly election: LeaseLeadership;
  readonly watcher: LeaseWatcher;
  elected?: number;
  lost?: number;
}

function replica(clock: FakeClock, name: string): Replica {
  const { coordination, kubeConfig } = apiClients(k.server, name);
  const logger = new RecordingLogger();
  const election = new LeaseLeadership({ coordination, namespace: "default", lease: "ticketplane", identity: name, clock, logger, registry: new Registry(), random: () => 0 });
  const watcher = new LeaseWatcher({ coordination, watch: new Watch(kubeConfig), namespace: "default", lease: "ticketplane", onReleased: () => election.nudge(), clock, logger });
  const r: Replica = { election, watcher };
  void election.elected.then(() => (r.elected = clock.now()));
  election.lost.addEventListener("abort", () => (r.lost = clock.now()));
  return r;
}

async function settle(replicas: readonly Replica[]): Promise<void> {
  for (let i = 0; i < 2; i++) await Promise.all(replicas.map((r) => r.election.settled()));
}

/** Moves fake time in steps, every attempt finishing after each; never two leaders. */
async function run(clock: FakeClock, replicas: readonly Replica[], ms: number, stepMs = 250): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    await clock.advanceAsync(Math.min(stepMs, left));
    await settle(replicas);
    assert.ok(replicas.filter((r) => r.election.isLeader()).length <= 1, "two leaders at once");
  }
}

async function twoReplicas(clock: FakeClock): Promise<{ a: Replica; b: Replica; all: Replica[] }> {
  const a = replica(clock, "replica-a");
  await a.election.start();
  await settle([a]);
  assert.equal(a.election.isLeader(), true);
  const b = replica(clock, "replica-b");
  await b.election.start();
  for (const r of [a, b]) await r.watcher.start(new AbortController().signal);
  await run(clock, [a, b], 500);
  assert.equal(b.election.isLeader(), false);
  return { a, b, all: [a, b] };
}

async function stop(all: readonly Replica[]): Promise<void> {
  for (const r of all) {
    await r.watcher.stop();
    await r.election.stop();
  }
}

describe("LeaseWatcher: fast hand-over", () => {
  it("the follower takes a released Lease at once: no retry period passes between the release and its lead", async () => {
    const clock = new FakeClock();
    const { a, b, all } = await twoReplicas(clock);
    const releasedAt = clock.now();
    await a.election.stop();
    // No fake time passes: only the watch event can make b try now (its next retry is 2 s away).
    await waitFor(() => b.election.isLeader(), { what: "b leads after the release, with the clock standing still" });
    assert.equal(b.elected, releasedAt);
    const spec = (await k.api.get(LEASE_PATH)).body.spec as { holderIdentity?: string; leaseTransitions?: number };
    assert.deepEqual([spec.holderIdentity, spec.leaseTransitions], ["replica-b", 1]);
    await stop(all);
  });

  it("renewals by the leader do not make the follower call the API server", async () => {
    const clock = new FakeClock();
    const { all } = await twoReplicas(clock);
    const before = k.server.requests.filter((r) => r.client === "replica-b" && r.method === "GET" && r.path === LEASE_PATH).length;
    // The leader renews every 2 s; b's own attempts run every 2 s too (random 0): over 6 s, 3 of them, not 3 more per renewal.
    await run(clock, all, 6_000);
    const reads = k.server.requests.filter((r) => r.client === "replica-b" && r.method === "GET" && r.path === LEASE_PATH).length - before;
    assert.ok(reads <= 3, `b read the Lease ${reads} times in 6 s`);
    await stop(all);
  });
});

describe("LeaseLeadership in a partition", () => {
  it("the leader that cannot reach the API server (its peers can) stops allocating within the renew deadline; the follower leads only after the lease expired", async () => {
    const clock = new FakeClock();
    const { a, b, all } = await twoReplicas(clock);
    const tickets = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(1) }] }, routableByDefault: true });
    tickets.setApps([makeSpec({ name: "shiny" })]);
    tickets.setPods("ns/shiny", [{ name: "p", host: "10.0.0.1", port: 80, ready: true }]);
    const check = ownerOnlyAllocation(tickets, () => a.election.isLeader());
    assert.equal(check.allocate("ns/shiny", { rejected: { ok: false, reason: "absent" } }).kind, "issued");
    await run(clock, all, 3_000);
    const lastRenew = a.election.status().lastRenewedAt ?? 0;
    k.server.partition("replica-a");
    await run(clock, all, CLIENT_GO_TIMING.leaseDurationMs + 6_000);
    assert.ok(a.lost !== undefined && a.lost - lastRenew <= CLIENT_GO_TIMING.renewDeadlineMs, `a stepped down ${String(a.lost === undefined ? "never" : a.lost - lastRenew)} ms after its last renewal`);
    assert.deepEqual(check.allocate("ns/shiny", { rejected: { ok: false, reason: "absent" } }), { kind: "refused", reason: "no_owner", retryAfterMs: makeSpec({}).queue.retryAfterMs });
    assert.ok(b.elected !== undefined, "b took over");
    assert.ok(b.elected > a.lost, "b led only after a stopped");
    assert.ok(b.elected - lastRenew >= CLIENT_GO_TIMING.leaseDurationMs, `b took over ${b.elected - lastRenew} ms after a's last renewal, not before the lease expired`);
    k.server.heal("replica-a");
    await stop(all);
  });
});
