import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { admit } from "./admit.js";
import { TicketCore } from "./ticket-core.js";
import { signTicketToken } from "./ticket-token.js";
import { SigningKeys } from "./signing-keys.js";
import { APP, harness, join, keyRing, makeSpec, pod, sequentialIds } from "./tickets.fixture.js";
import type { Admission, LedgerSnapshot, TicketCoreEvent } from "./types.js";

type Issued = Extract<Admission, { kind: "issued" }>;
type Queued = Extract<Admission, { kind: "queued" }>;

function issued(a: Admission): Issued {
  assert.equal(a.kind, "issued", `expected issued, got ${JSON.stringify(a)}`);
  return a;
}
function queued(a: Admission): Queued {
  assert.equal(a.kind, "queued", `expected queued, got ${JSON.stringify(a)}`);
  return a;
}
function releases(changes: TicketCoreEvent[]): string[] {
  return changes.flatMap((c) => (c.kind === "released" ? [`${c.ticket.id}:${c.reason}`] : []));
}

describe("TicketCore admission", () => {
  it("issues a ticket, then accepts it and refreshes its activity", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock);
    const a = issued(admit(core, APP, {}));
    assert.deepEqual([a.ticket.pod, a.ticket.slot, a.pod.name, a.replaced], ["p1", 0, "p1", undefined]);
    assert.match(a.token, /^t1\.k1\./);
    assert.deepEqual(changes.map((c) => c.kind), ["issued"]);
    clock.advance(1000);
    const v = admit(core, APP, { ticketTokens: [a.token] });
    assert.equal(v.kind, "valid");
    assert.equal(core.tickets(APP)[0]?.lastActiveAt, clock.now());
    assert.deepEqual(changes.map((c) => c.kind), ["issued", "confirmed"], "the first return ends probation (an event a ledger store keeps)");
    admit(core, APP, { ticketTokens: [a.token] });
    assert.equal(changes.length, 2, "later valid admissions change nothing observable");
  });

  it("answers unknown_app for apps it does not know", () => {
    const { core } = harness(new FakeClock());
    assert.deepEqual(admit(core, "ns/nope", {}), { kind: "unknown_app" });
  });

  it("reports why a presented ticket was replaced", () => {
    const clock = new FakeClock();
    const spec = makeSpec({ ticketsPerPod: 10, ticket: { idleTimeoutMs: 1000, maxLifetimeMs: 10_000 } });
    const { core } = harness(clock, spec);
    const other = new SigningKeys(keyRing("k1", "k2"));
    const foreign = signTicketToken(other, { app: "ns/other", pod: "p1", slot: 0, id: "x", issuedAt: clock.now(), expiresAt: clock.now() + 5000 });
    const wrongSecret = signTicketToken(new SigningKeys({ active: "k1", keys: [{ id: "k1", secret: Buffer.alloc(32, 3) }] }), {
      app: APP, pod: "p1", slot: 0, id: "x", issuedAt: clock.now(), expiresAt: clock.now() + 5000,
    });
    assert.equal(issued(admit(core, APP, { ticketTokens: ["junk"] })).replaced, "malformed");
    assert.equal(issued(admit(core, APP, { ticketTokens: [foreign] })).replaced, "wrong_app");
    assert.equal(issued(admit(core, APP, { ticketTokens: [wrongSecret] })).replaced, "forged");
    assert.equal(issued(admit(core, APP, { ticketTokens: [foreign.replace("t1.k1.", "t1.zz.")] })).replaced, "unknown_key");
    assert.equal(issued(admit(core, APP, { ticketTokens: [""] })).replaced, undefined, "an empty cookie is no ticket");
  });

  it("a ticket released as idle comes back as `released`", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, makeSpec({ ticket: { idleTimeoutMs: 1000 } }));
    const a = issued(admit(core, APP, {}));
    clock.advance(1000);
    assert.deepEqual(releases([...core.sweep()]), [`${a.ticket.id}:idle`]);
    assert.deepEqual(releases(changes), [`${a.ticket.id}:idle`], "listeners see what sweep returns");
    assert.equal(issued(admit(core, APP, { ticketTokens: [a.token] })).replaced, "released");
  });

  it("a ticket whose pod is gone comes back as `pod_gone`", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, makeSpec(), [pod("p1"), pod("p2")]);
    const a = issued(admit(core, APP, {}));
    core.setPods(APP, [pod("p2")]);
    assert.deepEqual(releases(changes), [`${a.ticket.id}:pod_gone`]);
    const b = issued(admit(core, APP, { ticketTokens: [a.token] }));
    assert.deepEqual([b.replaced, b.pod.name], ["pod_gone", "p2"]);
  });

  it("an expired token frees its slot at once and gets a new ticket", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, makeSpec({ ticketsPerPod: 1, ticket: { maxLifetimeMs: 5000, idleTimeoutMs: 60_000 } }));
    const a = issued(admit(core, APP, {}));
    clock.advance(5000);
    const b = issued(admit(core, APP, { ticketTokens: [a.token] }));
    assert.equal(b.replaced, "expired");
    assert.deepEqual(releases(changes), [`${a.ticket.id}:lifetime`]);
    assert.equal(core.figures(APP)?.used, 1);
  });

  it("pods that are not ready, draining or not yet routable keep their tickets but get no new ones", () => {
    const clock = new FakeClock();
    const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds() });
    core.setApps([makeSpec({ ticketsPerPod: 1 })]);
    core.setPods(APP, [pod("p1"), pod("p2")]);
    const waiting = queued(admit(core, APP, {}));
    assert.equal(waiting.position, 1, "no pod is routable yet");
    queued(admit(core, APP, { queueTokens: [waiting.queueToken] })); // it comes back: it is really waiting
    core.setRoutable(APP, "ghost", true); // unknown pods are ignored
    core.setRoutable(APP, "p1", true);
    assert.equal(queued(admit(core, APP, {})).position, 2, "p1's slot is reserved for the waiting client");
    const a = issued(admit(core, APP, { queueTokens: [waiting.queueToken] }));
    assert.equal(a.pod.name, "p1");
    core.setPods(APP, [pod("p1", { draining: true })]);
    assert.equal(admit(core, APP, { ticketTokens: [a.token] }).kind, "valid");
    core.setPods(APP, [pod("p1", { ready: false })]);
    assert.equal(admit(core, APP, { ticketTokens: [a.token] }).kind, "valid");
    assert.deepEqual(core.pods(APP).map((p) => [p.name, p.ready, p.routable, p.used]), [["p1", false, true, 1]]);
    assert.equal(core.figures(APP)?.servingPods, 0);
  });

  it("refuses with no_capacity when the app has no pods and cannot get any", () => {
    const { core } = harness(new FakeClock(), makeSpec({ maxPods: 0 }), []);
    assert.deepEqual(admit(core, APP, {}), { kind: "refused", reason: "no_capacity", retryAfterMs: 5000 });
  });
});

describe("TicketCore activity", () => {
  const spec = makeSpec({ ticketsPerPod: 4, ticket: { idleTimeoutMs: 1000, maxLifetimeMs: 100_000 } });

  it("touch keeps a ticket alive; unknown ids are ignored", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    const a = issued(admit(core, APP, {}));
    for (let i = 0; i < 5; i++) {
      clock.advance(900);
      core.touch(APP, a.ticket.id);
      core.touch(APP, "nope");
      core.touch("ns/nope", a.ticket.id);
      assert.equal(core.sweep().length, 0);
    }
  });

  it("an open connection keeps a ticket from going idle; idleness counts from the close", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    const id = issued(admit(core, APP, {})).ticket.id;
    core.openConnection(APP, id, "c1");
    core.openConnection(APP, id, "c1"); // idempotent
    core.openConnection(APP, id, "c2");
    core.openConnection(APP, "nope", "c3");
    assert.equal(core.tickets(APP)[0]?.openConnections, 2);
    clock.advance(40_000);
    assert.equal(core.sweep().length, 0);
    core.closeConnection("c1");
    core.closeConnection("c1");
    core.closeConnection("never-opened");
    clock.advance(40_000);
    assert.equal(core.sweep().length, 0, "c2 is still open");
    core.closeConnection("c2");
    clock.advance(999);
    assert.equal(core.sweep().length, 0);
    clock.advance(1);
    assert.deepEqual(releases([...core.sweep()]), [`${id}:idle`]);
  });

  it("maximum lifetime wins over open connections, and their ids are forgotten", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    const id = issued(admit(core, APP, {})).ticket.id;
    core.openConnection(APP, id, "ws");
    clock.advance(100_000);
    assert.deepEqual(releases([...core.sweep()]), [`${id}:lifetime`]);
    core.closeConnection("ws"); // no-op on a released ticket
    const b = issued(admit(core, APP, {}));
    core.openConnection(APP, b.ticket.id, "ws"); // the id can be reused
    assert.equal(core.tickets(APP)[0]?.openConnections, 1);
  });
});

describe("TicketCore queue", () => {
  const spec = makeSpec({ ticketsPerPod: 1, queue: { maxLength: 3, retryAfterMs: 5000, reservationMs: 8_000 }, ticket: { idleTimeoutMs: 60_000 } });

  it("queues in FIFO order, keeps places across re-presentation, refuses past maxLength", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    issued(admit(core, APP, {}));
    const turnedAway = [1, 2, 3].map(() => queued(admit(core, APP, {})));
    assert.deepEqual(turnedAway.map((x) => [x.position, x.length]), [[1, 1], [1, 1], [1, 1]], "turned away: no place in line until they come back");
    assert.equal(core.figures(APP)?.queued, 0);
    const q = turnedAway.map((t) => queued(admit(core, APP, { queueTokens: [t.queueToken] })));
    assert.deepEqual(q.map((x) => [x.position, x.length]), [[1, 1], [2, 2], [3, 3]]);
    assert.deepEqual(admit(core, APP, {}), { kind: "refused", reason: "queue_full", retryAfterMs: 5000 });
    const again = queued(admit(core, APP, { queueTokens: [q[1]?.queueToken] }));
    assert.deepEqual([again.position, again.length, again.queueToken], [2, 3, q[1]?.queueToken]);
    assert.equal(core.figures(APP)?.queued, 3);
    // A forged or foreign queue token is a newcomer (and the queue is full).
    assert.equal(admit(core, APP, { queueTokens: ["q1.k1.AAAA." + "A".repeat(43)] }).kind, "refused");
  });

  it("hands a freed slot to the head, not to a newcomer, and passes it on when the head does not come back", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, spec);
    const holder = issued(admit(core, APP, {}));
    const first = queued(join(core));
    const second = queued(join(core));
    core.setPods(APP, []); // frees the slot…
    core.setPods(APP, [pod("p1")]); // …and a fresh pod serves at once
    assert.deepEqual(core.queue(APP).map((e) => e.reserved), [true, false]);
    assert.ok(changes.some((c) => c.kind === "queue"));
    const newcomer = queued(join(core));
    assert.equal(newcomer.position, 3, "no jumping the line while someone waits");
    assert.equal(queued(admit(core, APP, { queueTokens: [second.queueToken] })).position, 2, "only the reserved client may take it");
    clock.advance(4_000);
    admit(core, APP, { queueTokens: [second.queueToken] });
    admit(core, APP, { queueTokens: [newcomer.queueToken] });
    clock.advance(3_999);
    core.sweep();
    assert.deepEqual(core.queue(APP).map((e) => e.reserved), [true, false, false], "the head still holds it");
    clock.advance(1);
    core.sweep(); // first never came back: its reservation lapses and passes on
    assert.deepEqual(core.queue(APP).map((e) => e.reserved), [true, false]);
    assert.equal(queued(admit(core, APP, { queueTokens: [first.queueToken] })).position, 3, "a lapsed client is a newcomer again");
    const got = issued(admit(core, APP, { queueTokens: [second.queueToken], ticketTokens: [holder.token] }));
    assert.equal(got.replaced, "released", "p1 is back under its old name, so the old ticket reads as released");
    assert.equal(queued(admit(core, APP, { queueTokens: [newcomer.queueToken] })).position, 1);
  });

  it("reserves for the queue when a new pod becomes serving", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    issued(admit(core, APP, {}));
    const q = queued(join(core));
    core.setPods(APP, [pod("p1"), pod("p2", { ready: false })]);
    assert.deepEqual(core.queue(APP).map((e) => e.reserved), [false]);
    core.setPods(APP, [pod("p1"), pod("p2")]);
    assert.deepEqual(core.queue(APP).map((e) => e.reserved), [true]);
    assert.equal(issued(admit(core, APP, { queueTokens: [q.queueToken] })).pod.name, "p2");
    assert.equal(core.figures(APP)?.queued, 0);
  });

  it("drops entries whose client stops coming back (two Retry-After periods and a second of grace)", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    const holder = issued(admit(core, APP, {}));
    admit(core, APP, { ticketTokens: [holder.token] }); // the holder is really there
    const a = queued(join(core));
    const b = queued(join(core));
    clock.advance(8_000);
    admit(core, APP, { queueTokens: [b.queueToken] });
    clock.advance(2_999);
    core.sweep();
    assert.equal(core.queue(APP).length, 2, "not yet: 10.999 s since a was seen");
    clock.advance(1);
    core.sweep();
    assert.equal(core.queue(APP).length, 1);
    assert.equal(queued(admit(core, APP, { queueTokens: [b.queueToken] })).position, 1);
    const again = queued(admit(core, APP, { queueTokens: [a.queueToken] }));
    assert.notEqual(again.queueToken, a.queueToken, "a dropped client's token makes no place again: it is turned away anew");
    assert.equal(core.queue(APP).length, 1);
  });

  it("counts waiting users in the desired pod figure", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 2, spareTickets: 1, maxPods: 4 }));
    assert.equal(core.figures(APP)?.desiredPods, 1);
    issued(admit(core, APP, {}));
    issued(admit(core, APP, {}));
    assert.equal(core.figures(APP)?.desiredPods, 2);
    for (let i = 0; i < 5; i++) queued(admit(core, APP, {}));
    assert.equal(core.figures(APP)?.desiredPods, 2, "clients turned away are not demand until they come back (a flood scales nothing)");
    clock.advance(11_000); // past the turned-away clients' Retry-After: newcomers may take free slots again
    for (let i = 0; i < 5; i++) queued(join(core));
    assert.deepEqual(core.figures(APP), { app: APP, pods: 1, servingPods: 1, capacity: 2, used: 2, onProbation: 2, free: 0, queued: 5, desiredPods: 4, issuedTotal: 2 });
  });
});

describe("TicketCore canary", () => {
  it("sends W% of new tickets to canary pods, falling back when a group is full", () => {
    const clock = new FakeClock();
    const spec = makeSpec({ ticketsPerPod: 100, maxPods: 10, canary: { deployment: "app-canary", weight: 20 } });
    const { core } = harness(clock, spec, [pod("stable"), pod("canary", { canary: true })]);
    const pods = Array.from({ length: 100 }, () => issued(admit(core, APP, {})).pod.name);
    assert.equal(pods.filter((p) => p === "canary").length, 20);
    const more = Array.from({ length: 80 }, () => issued(admit(core, APP, {})).pod.name);
    assert.equal(more.filter((p) => p === "stable").length, 20, "the split holds until stable is full, then canary takes the rest");
    assert.deepEqual(core.pods(APP).map((p) => [p.name, p.used]), [["canary", 80], ["stable", 100]]);
  });

  it("ignores the canary flag when the app has no canary", () => {
    const { core } = harness(new FakeClock(), makeSpec({ ticketsPerPod: 5 }), [pod("b"), pod("a", { canary: true })]);
    assert.equal(issued(admit(core, APP, {})).pod.name, "a");
  });
});

describe("TicketCore keys, apps and listeners", () => {
  it("rotates keys: old tickets verify while their key is in the ring", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 5 }));
    const a = issued(admit(core, APP, {}));
    core.setKeys(keyRing("k2", "k1"));
    assert.equal(admit(core, APP, { ticketTokens: [a.token] }).kind, "valid");
    assert.match(issued(admit(core, APP, {})).token, /^t1\.k2\./);
    core.setKeys(keyRing("k2"));
    assert.equal(issued(admit(core, APP, { ticketTokens: [a.token] })).replaced, "unknown_key");
    assert.throws(() => core.setKeys({ active: "k3", keys: [] }), /key ring/);
  });

  it("shrinking ticketsPerPod keeps tickets that still fit", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, makeSpec({ ticketsPerPod: 3 }));
    const t = [0, 1, 2].map(() => issued(admit(core, APP, {})));
    core.setApps([makeSpec({ ticketsPerPod: 1 })]);
    assert.deepEqual(releases(changes).sort(), [`${t[1]?.ticket.id}:spec_changed`, `${t[2]?.ticket.id}:spec_changed`].sort());
    assert.equal(admit(core, APP, { ticketTokens: [t[0]?.token] }).kind, "valid");
    assert.equal(admit(core, APP, { ticketTokens: [t[1]?.token] }).kind, "queued", "its slot is gone and the pod is full");
    assert.deepEqual(core.figures(APP)?.capacity, 1);
  });

  it("removing an app releases its tickets and forgets it", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock);
    const a = issued(admit(core, APP, {}));
    core.setApps([]);
    assert.deepEqual(releases(changes), [`${a.ticket.id}:app_removed`]);
    assert.equal(core.figures(APP), undefined);
    assert.deepEqual([core.pods(APP), core.tickets(APP), core.apps()], [[], [], []]);
    core.setPods(APP, [pod("p1")]); // ignored
    assert.deepEqual(admit(core, APP, { ticketTokens: [a.token] }), { kind: "unknown_app" });
  });

  it("notifies every subscriber until it unsubscribes", () => {
    const { core } = harness(new FakeClock());
    const seen: string[] = [];
    const fn = (c: TicketCoreEvent): void => void seen.push(c.kind);
    const off1 = core.subscribe(fn);
    const off2 = core.subscribe(fn);
    core.setApps([makeSpec()]);
    off1();
    core.setPods(APP, [pod("p1"), pod("p2")]);
    off2();
    core.setPods(APP, []);
    assert.deepEqual(seen, ["apps", "apps", "pods"]);
  });

  it("a listener removed while changes are delivered hears none of the rest; one added hears from the next change on", () => {
    const { core } = harness(new FakeClock(), makeSpec({ ticketsPerPod: 1 }), [pod("p1")]);
    admit(core, APP, {});
    const seen: string[] = [];
    let offLater = (): void => undefined;
    let armed = true;
    core.subscribe((c) => {
      seen.push(`first:${c.kind}`);
      if (!armed) return;
      armed = false;
      offLater();
      core.subscribe((d) => void seen.push(`added:${d.kind}`));
    });
    offLater = core.subscribe((c) => void seen.push(`later:${c.kind}`));
    // One call, two changes: the pod goes (its ticket is released), then the pods changed.
    core.setPods(APP, []);
    assert.deepEqual(seen, ["first:released", "first:pods", "added:pods"]);
  });
});

describe("TicketCore snapshot and restore", () => {
  function populated(clock: FakeClock): { core: TicketCore; tokens: string[]; queueTokens: string[] } {
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 2 }), [pod("p1"), pod("p2")]);
    const tokens = [0, 1, 2, 3].map(() => issued(admit(core, APP, {})).token);
    const queueTokens = [0, 1].map(() => queued(join(core)).queueToken);
    return { core, tokens, queueTokens };
  }

  function fresh(clock: FakeClock, pods = [pod("p1"), pod("p2")]): TicketCore {
    return harness(clock, makeSpec({ ticketsPerPod: 2 }), pods).core;
  }

  it("round-trips through JSON: tickets stay valid, queue order and totals survive", () => {
    const clock = new FakeClock();
    const { core, tokens, queueTokens } = populated(clock);
    const saved = JSON.parse(JSON.stringify(core.snapshot())) as LedgerSnapshot;
    const next = fresh(clock);
    const seen: TicketCoreEvent[] = [];
    next.subscribe((c) => seen.push(c));
    assert.deepEqual(next.restore(saved), { restoredTickets: 4, restoredQueue: 2, dropped: [] });
    assert.ok(seen.some((c) => c.kind === "pods"));
    for (const t of tokens) assert.equal(admit(next, APP, { ticketTokens: [t] }).kind, "valid");
    assert.deepEqual(queueTokens.map((q) => queued(admit(next, APP, { queueTokens: [q] })).position), [1, 2]);
    assert.equal(next.figures(APP)?.issuedTotal, 4);
  });

  it("drops what does not fit and never puts two tickets on one slot", () => {
    const clock = new FakeClock();
    const { core } = populated(clock);
    const saved = core.snapshot();
    const t0 = saved.tickets[0];
    assert.ok(t0 !== undefined);
    const bad: LedgerSnapshot = {
      ...saved,
      tickets: [
        ...saved.tickets,
        { ...t0, id: "dup-slot" },
        t0,
        { ...t0, id: "other-app", app: "ns/zz" },
        { ...t0, id: "gone-pod", pod: "p9" },
        { ...t0, id: "high-slot", slot: 7 },
        { ...t0, id: "expired", expiresAt: clock.now() },
        { id: "junk" } as never,
        null as never,
      ],
      queue: [...saved.queue, saved.queue[0], { app: "ns/zz", id: "q-other", enqueuedAt: 0, lastSeenAt: 0 }, 7 as never],
    };
    const next = fresh(clock, [pod("p1")]);
    const report = next.restore(bad);
    assert.equal(report.restoredTickets, 2, "only p1's two tickets fit");
    assert.deepEqual(
      report.dropped.map((d) => `${d.id}:${d.reason}`).sort(),
      [
        "dup-slot:slot already held",
        `${t0.id}:duplicate ticket id`,
        "other-app:unknown app",
        "gone-pod:unknown pod",
        "high-slot:slot out of range",
        "expired:expired",
        "junk:malformed entry",
        "?:malformed entry",
        ...saved.tickets.filter((t) => t.pod === "p2").map((t) => `${t.id}:unknown pod`),
        `${saved.queue[0]?.id}:duplicate queue entry`,
        "q-other:unknown app",
        "?:malformed entry",
      ].sort(),
    );
    const slots = next.tickets(APP).map((t) => `${t.pod}/${t.slot}`);
    assert.equal(new Set(slots).size, slots.length);
  });

  it("restoring over a ledger held here makes it the snapshot's: identical tickets stay (with their connections), others are superseded, the queue follows", () => {
    const clock = new FakeClock();
    const { core: owner, tokens } = populated(clock);
    const follower = fresh(clock);
    follower.restore(JSON.parse(JSON.stringify(owner.snapshot())));
    const [t0, t1] = follower.tickets(APP);
    assert.ok(t0 !== undefined && t1 !== undefined);
    follower.openConnection(APP, t0.id, "ws-1");
    // The owner released t1 and gave its slot to n1; the first waiting user left.
    const later = owner.snapshot();
    const n1 = { ...t1, id: "n1", issuedAt: clock.now() + 1, lastActiveAt: clock.now() + 1 };
    clock.advance(5);
    const next = { ...later, tickets: [...later.tickets.filter((t) => t.id !== t1.id), n1], queue: later.queue.slice(1) };
    const seen: TicketCoreEvent[] = [];
    follower.subscribe((c) => seen.push(c));
    const report = follower.restore(JSON.parse(JSON.stringify(next)));
    assert.deepEqual([report.restoredTickets, report.restoredQueue, report.dropped], [4, 1, []]);
    assert.deepEqual(releases(seen), [`${t1.id}:superseded`]);
    assert.equal(follower.verify(APP, tokens[1]).ok, false, "t1's token stops validating");
    assert.deepEqual(follower.verify(APP, signTicketToken(new SigningKeys(keyRing("k1")), n1)).ok, true, "n1 validates on t1's old slot");
    assert.equal(follower.tickets(APP).find((t) => t.id === t0.id)?.openConnections, 1, "t0 kept its open connection");
    assert.deepEqual(follower.queue(APP).map((q) => q.id), [later.queue[1]?.id]);
    const slots = follower.tickets(APP).map((t) => `${t.pod}/${t.slot}`);
    assert.equal(new Set(slots).size, 4);
  });

  it("restores only the apps it is given: the others keep their tickets", () => {
    const clock = new FakeClock();
    const { core, tokens } = populated(clock);
    const report = core.restore({ version: 1, savedAt: 0, tickets: [], queue: [], issuedTotal: {} }, ["ns/other"]);
    assert.deepEqual([report.restoredTickets, report.dropped], [0, []]);
    assert.equal(core.verify(APP, tokens[0]).ok, true);
    core.restore({ version: 1, savedAt: 0, tickets: [], queue: [], issuedTotal: {} }, [APP]);
    assert.equal(core.verify(APP, tokens[0]).ok, false, "an empty snapshot of the app releases its tickets");
    assert.deepEqual(core.queue(APP), []);
  });

  it("refuses a snapshot of another version", () => {
    const next = fresh(new FakeClock());
    const report = next.restore({ version: 2 });
    assert.deepEqual(report, { restoredTickets: 0, restoredQueue: 0, dropped: [{ id: "snapshot", reason: "unsupported snapshot version" }] });
  });
});

describe("TicketCore verify and allocate are separate faces", () => {
  it("verify reads only: no ticket, no queue entry, no event, whatever it is shown", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock);
    for (const token of [undefined, "", "junk", "t1.k1.AAAA.AAAA"]) assert.equal(core.verify(APP, token).ok, false);
    assert.deepEqual(core.verify("ns/nope", "junk"), { ok: false, reason: "unknown_app" });
    assert.deepEqual([core.tickets(APP), core.queue(APP), changes], [[], [], []]);
  });

  it("verify of a valid ticket returns the same object every time (no allocation on the hot path)", () => {
    const { core } = harness(new FakeClock());
    const a = issued(admit(core, APP, {}));
    const v1 = core.verify(APP, a.token);
    assert.ok(v1.ok);
    assert.equal(core.verify(APP, a.token), v1);
  });

  it("allocate frees an expired ticket's slot only when the ledger's own record has expired", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 1, ticket: { maxLifetimeMs: 1_000 } }));
    const a = issued(admit(core, APP, {}));
    const claims = { app: APP, pod: a.ticket.pod, slot: a.ticket.slot, id: a.ticket.id, issuedAt: a.ticket.issuedAt, expiresAt: a.ticket.expiresAt };
    const waiting = queued(core.allocate(APP, { rejected: { ok: false, reason: "expired", claims } }));
    assert.equal(core.tickets(APP).length, 1, "a caller's word alone frees nothing");
    clock.advance(1_000);
    const next = issued(core.allocate(APP, { queueTokens: [waiting.queueToken], rejected: { ok: false, reason: "expired", claims } }));
    assert.equal(next.replaced, "expired");
    assert.deepEqual(core.tickets(APP).map((t) => t.id), [next.ticket.id], "the expired ticket's slot went to the one waiting");
  });
});

describe("TicketCore figures", () => {
  it("never shows more used than capacity when a pod with tickets stops being ready", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 2 }), [pod("p1"), pod("p2")]);
    for (let i = 0; i < 3; i++) issued(admit(core, APP, {}));
    core.setPods(APP, [pod("p1", { ready: false }), pod("p2", { ready: false })]);
    const f = core.figures(APP);
    assert.deepEqual([f?.capacity, f?.used, f?.free, f?.servingPods], [4, 3, 0, 0]);
  });
});

describe("TicketCore keys and the tickets they signed", () => {
  it("removing a key from the ring releases the tickets it signed (no token of theirs can verify)", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, makeSpec({ ticketsPerPod: 5 }));
    const old = issued(admit(core, APP, {}));
    core.setKeys(keyRing("k2", "k1"));
    const fresh = issued(admit(core, APP, {}));
    assert.equal(fresh.ticket.keyId, "k2");
    assert.deepEqual(releases(changes), []);
    core.setKeys(keyRing("k2"));
    assert.deepEqual(releases(changes), [`${old.ticket.id}:key_removed`]);
    assert.equal(core.verify(APP, fresh.token).ok, true);
    assert.equal(core.figures(APP)?.used, 1);
  });

  it("restore drops a saved ticket whose key is no longer in the ring, and keeps one without a key id", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 5 }));
    issued(admit(core, APP, {}));
    const saved = JSON.parse(JSON.stringify(core.snapshot())) as LedgerSnapshot;
    const t = saved.tickets[0];
    assert.ok(t !== undefined && t.keyId === "k1");
    const legacy = { ...t, id: "legacy", slot: 1 } as Record<string, unknown>;
    delete legacy["keyId"];
    const next = new TicketCore({ clock, keys: keyRing("k9"), routableByDefault: true });
    next.setApps([makeSpec({ ticketsPerPod: 5 })]);
    next.setPods(APP, [pod("p1")]);
    const report = next.restore({ ...saved, tickets: [t, legacy] });
    assert.deepEqual(report.dropped, [{ id: t.id, reason: 'signing key "k1" is no longer in the ring' }]);
    assert.equal(report.restoredTickets, 1);
  });
});

describe("TicketCore: slots go to people who come back", () => {
  const spec = makeSpec({ ticketsPerPod: 1, ticket: { probationMs: 5_000, idleTimeoutMs: 60_000 }, queue: { retryAfterMs: 5_000, reservationMs: 10_000, maxLength: 100 } });

  it("a ticket whose cookie never comes back is released after probation; one that comes back is firm", () => {
    const clock = new FakeClock();
    const { core, changes } = harness(clock, spec, [pod("p1"), pod("p2")]);
    const gone = issued(admit(core, APP, {}));
    const kept = issued(admit(core, APP, {}));
    assert.deepEqual([gone.ticket.confirmed, core.figures(APP)?.onProbation], [false, 2]);
    clock.advance(1_000);
    assert.equal(admit(core, APP, { ticketTokens: [kept.token] }).kind, "valid");
    assert.equal(core.figures(APP)?.onProbation, 1);
    clock.advance(3_999);
    core.sweep();
    assert.deepEqual(releases(changes), []);
    clock.advance(1);
    core.sweep();
    assert.deepEqual(releases(changes), [`${gone.ticket.id}:probation`]);
    clock.advance(50_000);
    core.sweep();
    assert.ok(core.tickets(APP).some((t) => t.id === kept.ticket.id), "the firm ticket lives to its idle timeout");
  });

  it("an open WebSocket confirms its ticket", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec);
    const a = issued(admit(core, APP, {}));
    core.openConnection(APP, a.ticket.id, "rid-1");
    clock.advance(6_000);
    core.sweep();
    assert.equal(core.tickets(APP)[0]?.confirmed, true);
  });

  it("cookieless floods free their slots within probation, and a waiting user who comes back gets the next one before newer abusers", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec, [pod("p1"), pod("p2")]);
    for (let i = 0; i < 2; i++) issued(admit(core, APP, {})); // abusers take every slot…
    for (let i = 0; i < 30; i++) queued(admit(core, APP, {})); // …and fill the queue, never to return
    const user = queued(admit(core, APP, {}));
    clock.advance(5_000);
    queued(admit(core, APP, { queueTokens: [user.queueToken] })); // the user comes back at Retry-After
    for (let i = 0; i < 30; i++) admit(core, APP, {}); // more abusers arrive
    core.sweep(); // probation over: both abusers' slots are free, reserved for the only client really waiting
    const got = issued(admit(core, APP, { queueTokens: [user.queueToken] }));
    assert.ok(got.pod.name === "p1" || got.pod.name === "p2");
    clock.advance(11_000);
    core.sweep();
    assert.deepEqual(core.queue(APP), [], "entries nobody came back for are dropped after two Retry-After periods and a second");
  });

  it("a cookieless flood takes no place in line: the queue holds only clients that came back", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 1, queue: { maxLength: 3, retryAfterMs: 5_000 } }));
    issued(admit(core, APP, {}));
    for (let i = 0; i < 10_000; i++) queued(admit(core, APP, {}));
    assert.equal(core.figures(APP)?.queued, 0);
    const user = queued(join(core));
    assert.deepEqual([user.position, user.length], [1, 1]);
    const late = queued(admit(core, APP, { queueTokens: [queued(admit(core, APP, {})).queueToken] }));
    assert.equal(late.position, 2);
    clock.advance(11_001);
    const stale = queued(admit(core, APP, {}));
    clock.advance(11_001);
    assert.notEqual(queued(admit(core, APP, { queueTokens: [stale.queueToken] })).queueToken, stale.queueToken, "a place brought back too late is no place: turned away anew");
  });

  it("bounds tickets and queue places per client, without hurting anyone else", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 10, limits: { ticketsPerClient: 2, queuePerClient: 1 } }), [pod("p1")]);
    const nat = "198.51.100.7";
    issued(admit(core, APP, { client: nat }));
    issued(admit(core, APP, { client: nat }));
    assert.deepEqual(admit(core, APP, { client: nat }), { kind: "refused", reason: "client_limit", retryAfterMs: 5000 });
    assert.equal(issued(admit(core, APP, { client: "203.0.113.1" })).ticket.client, "203.0.113.1", "another client is not held up");
    assert.equal(issued(admit(core, APP, {})).ticket.client, undefined, "an unknown client is not limited");
    core.setApps([makeSpec({ ticketsPerPod: 3, limits: { ticketsPerClient: 2, queuePerClient: 1 } })]);
    const one = queued(admit(core, APP, { client: "203.0.113.2" }));
    const two = queued(admit(core, APP, { client: "203.0.113.2" }));
    assert.equal(queued(admit(core, APP, { client: "203.0.113.2", queueTokens: [one.queueToken] })).position, 1);
    assert.deepEqual(admit(core, APP, { client: "203.0.113.2", queueTokens: [two.queueToken] }), { kind: "refused", reason: "client_limit", retryAfterMs: 5000 });
  });

  it("a junk cookie of the ticket's name never shadows the real ticket", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec, [pod("p1"), pod("p2"), pod("p3")]);
    const a = issued(admit(core, APP, {}));
    for (const jar of [["x", a.token], ["t1.k1.AAAA.AAAA", a.token, "y"], [a.token, "x"]]) {
      const again = admit(core, APP, { ticketTokens: jar });
      assert.ok(again.kind === "valid" && again.ticket.id === a.ticket.id, JSON.stringify(jar));
    }
    assert.equal(core.figures(APP)?.used, 1, "one user, one slot");
  });

  it("restarts keep idle clocks and probation: a crash loop does not keep abandoned tickets alive", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, spec, [pod("p1"), pod("p2")]);
    const firm = issued(admit(core, APP, {}));
    admit(core, APP, { ticketTokens: [firm.token] });
    issued(admit(core, APP, {}));
    let saved = JSON.parse(JSON.stringify(core.snapshot())) as LedgerSnapshot;
    for (let restart = 0; restart < 10; restart++) {
      clock.advance(7_000);
      const next = new TicketCore({ clock, keys: keyRing("k1"), routableByDefault: true });
      next.setApps([spec]);
      next.setPods(APP, [pod("p1"), pod("p2")]);
      next.restore(saved);
      next.sweep();
      saved = JSON.parse(JSON.stringify(next.snapshot())) as LedgerSnapshot;
    }
    assert.deepEqual(saved.tickets, [], "70 s of restarts: the unconfirmed ticket went at probation, the firm one at its idle timeout");
  });

  it("an issue that fails (a lifetime the token cannot hold) leaves no slot bound", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticket: { maxLifetimeMs: 2 ** 49 } }));
    assert.throws(() => admit(core, APP, {}), /u48|fit/);
    assert.deepEqual([core.tickets(APP), core.figures(APP)?.used, core.figures(APP)?.issuedTotal], [[], 0, 0]);
  });
});

describe("TicketCore: the waiting room's estimate", () => {
  it("tells a waiting client how long it will probably wait, from the slots freed lately", () => {
    const clock = new FakeClock();
    const spec = makeSpec({ ticketsPerPod: 1, ticket: { probationMs: 5_000, idleTimeoutMs: 5_000, maxLifetimeMs: 3_600_000 } });
    const { core } = harness(clock, spec);
    issued(admit(core, APP, {}));
    const first = queued(join(core));
    assert.equal(first.estimatedWaitMs, undefined, "no slot was ever freed: no estimate, no made-up number");
    // Two holders in a row never come back: their slots are freed by probation 5 s apart.
    for (let i = 0; i < 2; i++) {
      clock.advance(5_000);
      core.sweep();
      issued(admit(core, APP, { queueTokens: [first.queueToken] }));
      clock.advance(1);
    }
    const later = queued(join(core));
    assert.equal(later.position, 1);
    // Two releases over the ~5 s since the first of them: about 2.5 s per slot.
    assert.equal(later.estimatedWaitMs, 3_000);
    clock.advance(20_000);
    const afterSilence = queued(admit(core, APP, { queueTokens: [later.queueToken] }));
    assert.ok((afterSilence.estimatedWaitMs ?? 0) > 3_000, `the estimate grows while no slot is freed (${String(afterSilence.estimatedWaitMs)})`);
  });
});

describe("TicketCore: a waiting client away for a while", () => {
  it("keeps its place for the reservation window when that is longer than two Retry-After periods, and loses it after", () => {
    const clock = new FakeClock();
    const spec = makeSpec({ ticketsPerPod: 1, ticket: { probationMs: 60_000, idleTimeoutMs: 120_000, maxLifetimeMs: 3_600_000 }, queue: { maxLength: 10, retryAfterMs: 1_000, reservationMs: 10_000 } });
    const { core } = harness(clock, spec);
    issued(admit(core, APP, {}));
    const first = queued(join(core));
    const second = queued(join(core));
    assert.deepEqual([first.position, second.position], [1, 2]);
    // The first closes the tab for 9 s (more than 2 × 1 s + 1 s); the second keeps polling.
    for (let t = 0; t < 9; t++) {
      clock.advance(1_000);
      core.sweep();
      queued(admit(core, APP, { queueTokens: [second.queueToken] }));
    }
    assert.equal(queued(admit(core, APP, { queueTokens: [first.queueToken] })).position, 1, "back within the window: still first");
    for (let t = 0; t < 11; t++) {
      clock.advance(1_000);
      core.sweep();
      queued(admit(core, APP, { queueTokens: [second.queueToken] }));
    }
    assert.equal(queued(admit(core, APP, { queueTokens: [second.queueToken] })).position, 1, "the first stayed away too long: the second moved up");
  });
});
