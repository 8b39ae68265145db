/**
 * Property-style test: a seeded PRNG drives long random sequences of every
 * ticket-core operation, and the ledger's invariants are checked after each step.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { prng } from "../../test/support/prng.js";
import { admit } from "./admit.js";
import { TicketCore } from "./ticket-core.js";
import { verifyQueueToken } from "./queue-token.js";
import { SigningKeys } from "./signing-keys.js";
import { APP, keyRing, makeSpec, sequentialIds } from "./tickets.fixture.js";
import type { AppSpec } from "../config/app-spec.js";
import type { LedgerSnapshot, TicketCoreEvent, PodInput } from "./types.js";

interface Client {
  ticketToken?: string;
  queueToken?: string;
  ticketId?: string;
}

const verifier = new SigningKeys(keyRing("k1"));
/** The queue entry id the client's queue token names. */
function entryOf(c: Client): string | undefined {
  const v = c.queueToken === undefined ? undefined : verifyQueueToken(verifier, c.queueToken, APP);
  return v?.ok === true ? v.claims.id : undefined;
}

const POD_NAMES = ["p0", "p1", "p2", "p3", "p4"];
const STEPS = 4000;

function specFor(r: () => number): AppSpec {
  return makeSpec({
    ticketsPerPod: 1 + Math.floor(r() * 3),
    queue: { maxLength: 6, retryAfterMs: 2000, reservationMs: 5000 },
    ticket: { idleTimeoutMs: 8000, maxLifetimeMs: 60_000 },
    ...(r() < 0.5 ? { canary: { deployment: "c", weight: Math.floor(r() * 101) } } : {}),
  });
}

function randomPods(r: () => number): PodInput[] {
  return POD_NAMES.filter(() => r() < 0.7).map((name) => ({
    name,
    host: r() < 0.05 ? "10.1.1.1" : "10.0.0.1", // sometimes a pod comes back at a new address
    port: 80,
    ready: r() < 0.85,
    draining: r() < 0.1,
    canary: name === "p4",
  }));
}

/** The simulated world: the core under test, its clients and what the listener saw. */
interface World {
  readonly r: () => number;
  readonly clock: FakeClock;
  readonly core: TicketCore;
  readonly clients: Client[];
  readonly live: Set<string>;
  readonly events: TicketCoreEvent[];
  openConns: string[];
  connSerial: number;
  lastPods: PodInput[];
  context: string;
}

function pick<T>(w: World, xs: readonly T[]): T | undefined {
  return xs[Math.floor(w.r() * xs.length)];
}

function admitStep(w: World, c: Client): void {
  const { core, context } = w;
  const ownEntry = entryOf(c) !== undefined && core.queue(APP).some((e) => e.id === entryOf(c));
  const a = admit(core, APP, { ...(c.ticketToken ? { ticketTokens: [c.ticketToken] } : {}), ...(c.queueToken ? { queueTokens: [c.queueToken] } : {}) });
  if (a.kind === "issued") {
    // Nobody jumps the line: a client without a place gets a slot only when everyone still waiting holds one.
    if (!ownEntry) assert.ok(core.queue(APP).every((e) => e.reserved), `${context}: newcomer jumped the queue`);
    c.ticketToken = a.token;
    c.ticketId = a.ticket.id;
    delete c.queueToken;
  } else if (a.kind === "queued") {
    c.queueToken = a.queueToken;
    const q = core.queue(APP);
    // In line: the position names the client's entry. Turned away: no entry yet (it is made when the client comes back), and it is told it is next after everyone in line.
    if (q.some((e) => e.id === entryOf(c))) assert.equal(q[a.position - 1]?.id, entryOf(c), `${context}: position names the client's entry`);
    else assert.equal(a.position, q.length + 1, `${context}: a turned-away client is told it comes after everyone in line`);
  } else if (a.kind === "valid") {
    assert.equal(a.ticket.id, c.ticketId);
  }
}

/** Operations with their weights (summing to 100). */
const OPS: readonly (readonly [number, (w: World, c: Client) => void])[] = [
  [45, admitStep],
  [10, (w, c) => c.ticketId !== undefined && w.core.touch(APP, c.ticketId)],
  [5, (w, c) => {
    if (c.ticketId === undefined) return;
    const id = `conn-${++w.connSerial}`;
    w.core.openConnection(APP, c.ticketId, id);
    w.openConns.push(id);
  }],
  [5, (w) => {
    const id = pick(w, w.openConns);
    if (id === undefined) return;
    w.core.closeConnection(id);
    w.openConns = w.openConns.filter((o) => o !== id);
  }],
  [10, (w) => void w.core.sweep()],
  [5, (w) => {
    w.lastPods = randomPods(w.r);
    w.core.setPods(APP, w.lastPods);
  }],
  [8, (w) => w.core.setRoutable(APP, pick(w, POD_NAMES) as string, w.r() < 0.8)],
  [11, (w) => w.clock.advance(Math.floor(w.r() * 4000))],
  [1, (w) => w.core.setApps([specFor(w.r)])],
];

function runStep(w: World): void {
  let x = w.r() * 100;
  const c = pick(w, w.clients) as Client;
  for (const [weight, op] of OPS) {
    if (x < weight) return op(w, c);
    x -= weight;
  }
}

function newWorld(seed: number): World {
  const r = prng(seed);
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(`s${seed}`) });
  const w: World = { r, clock, core, clients: Array.from({ length: 14 }, () => ({})), live: new Set(), events: [], openConns: [], connSerial: 0, lastPods: [], context: "" };
  core.subscribe((c) => {
    w.events.push(c);
    if (c.kind === "issued") {
      assert.ok(!w.live.has(c.ticket.id), `ticket ${c.ticket.id} issued twice`);
      w.live.add(c.ticket.id);
    } else if (c.kind === "released") {
      assert.ok(w.live.delete(c.ticket.id), `ticket ${c.ticket.id} released twice or never issued`);
    }
  });
  core.setApps([specFor(r)]);
  return w;
}

function run(seed: number): void {
  const w = newWorld(seed);
  const { core, clock } = w;
  let queueBefore = core.queue(APP).map((e) => e.id);
  for (let step = 0; step < STEPS; step++) {
    w.context = `seed ${seed} step ${step}`;
    runStep(w);
    checkInvariants(core, w.live, w.context);
    const queueNow = core.queue(APP).map((e) => e.id);
    checkFifo(queueBefore, queueNow, w.context);
    queueBefore = queueNow;
  }
  // What was saved restores into a fresh core, whole.
  const saved = JSON.parse(JSON.stringify(core.snapshot())) as LedgerSnapshot;
  const next = new TicketCore({ clock, keys: keyRing("k1") });
  next.setApps(core.apps());
  next.setPods(APP, w.lastPods);
  const report = next.restore(saved);
  const expired = core.tickets(APP).filter((t) => clock.now() >= t.expiresAt).length;
  assert.deepEqual([report.restoredTickets, report.restoredQueue], [core.tickets(APP).length - expired, core.queue(APP).length]);
  assert.equal(report.dropped.length, expired);
  assert.ok(w.events.filter((e) => e.kind === "issued").length > 50, "the run exercised issuing");
  assert.ok(w.events.filter((e) => e.kind === "released").length > 20, "the run exercised releasing");
}

function checkInvariants(core: TicketCore, live: Set<string>, context: string): void {
  const tickets = core.tickets(APP);
  const pods = core.pods(APP);
  const slots = new Set<string>();
  for (const t of tickets) {
    const key = `${t.pod}/${t.slot}`;
    assert.ok(!slots.has(key), `${context}: slot ${key} held twice`);
    slots.add(key);
    const p = pods.find((q) => q.name === t.pod);
    assert.ok(p !== undefined && t.slot < p.slots && t.slot >= 0, `${context}: ticket ${t.id} on a slot that does not exist`);
  }
  assert.deepEqual(new Set(tickets.map((t) => t.id)), live, `${context}: events and ledger disagree (a lost or phantom release)`);
  let free = 0;
  let capacity = 0;
  for (const p of pods) {
    const used = tickets.filter((t) => t.pod === p.name).length;
    assert.equal(p.used, used, `${context}: pod ${p.name} used count`);
    assert.equal(p.idleSince === undefined, used > 0, `${context}: pod ${p.name} idleSince`);
    capacity += p.slots;
    if (p.ready && !p.draining && p.routable) free += p.slots - used;
  }
  const f = core.figures(APP);
  assert.ok(f !== undefined);
  assert.ok(f.used + f.free <= f.capacity, `${context}: used + free never exceed capacity (${JSON.stringify(f)})`);
  assert.deepEqual([f.free, f.capacity, f.used], [free, capacity, tickets.length], context);
  const q = core.queue(APP);
  const reserved = q.filter((e) => e.reserved).length;
  assert.equal(reserved, Math.min(free, q.length), `${context}: reservations match free slots`);
  assert.ok(q.length <= 6, `${context}: queue is bounded`);
}

/** Entries keep their relative order; new ones only join at the back. */
function checkFifo(before: readonly string[], after: readonly string[], context: string): void {
  // Entries keep their relative order; a client that comes back joins at its first arrival, which may be ahead of later arrivals.
  const kept = before.filter((id) => after.includes(id));
  assert.deepEqual(after.filter((id) => kept.includes(id)), kept, `${context}: queue order changed`);
}

describe("TicketCore properties", () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    it(`keeps its invariants over ${STEPS} random steps (seed ${seed})`, () => run(seed));
  }
});
