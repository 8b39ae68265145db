import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { TicketOffice } from "./office.js";
import { signTicketToken } from "./ticket-token.js";
import { SigningKeys } from "./signing-keys.js";
import { APP, harness, keyRing, makeSpec, pod, sequentialIds } from "./tickets.fixture.js";
import type { Admission, DeskSnapshot, OfficeChange } from "./types.js";

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
function releases(changes: OfficeChange[]): string[] {
  return changes.flatMap((c) => (c.kind === "released" ? [`${c.ticket.id}:${c.reason}`] : []));
}

describe("TicketOffice admission", () => {
  it("issues a ticket, then accepts it and refreshes its activity", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock);
    const a = issued(office.admit(APP, {}));
    assert.deepEqual([a.ticket.pod, a.ticket.slot, a.pod.name, a.replaced], ["p1", 0, "p1", undefined]);
    assert.match(a.token, /^t1\.k1\./);
    assert.deepEqual(changes.map((c) => c.kind), ["issued"]);
    clock.advance(1000);
    const v = office.admit(APP, { ticketToken: a.token });
    assert.equal(v.kind, "valid");
    assert.equal(office.tickets(APP)[0]?.lastActiveAt, clock.now());
    assert.equal(changes.length, 1, "a valid admission changes nothing observable");
  });

  it("answers unknown_app for apps it does not know", () => {
    const { office } = harness(new FakeClock());
    assert.deepEqual(office.admit("ns/nope", {}), { kind: "unknown_app" });
  });

  it("reports why a presented ticket was replaced", () => {
    const clock = new FakeClock();
    const spec = makeSpec({ ticketsPerPod: 10, ticket: { idleTimeoutMs: 1000, maxLifetimeMs: 10_000 } });
    const { office } = harness(clock, spec);
    const other = new SigningKeys(keyRing("k1", "k2"));
    const foreign = signTicketToken(other, { app: "ns/other", pod: "p1", slot: 0, id: "x", issuedAt: clock.now(), expiresAt: clock.now() + 5000 });
    const wrongSecret = signTicketToken(new SigningKeys({ active: "k1", keys: [{ id: "k1", secret: Buffer.alloc(32, 3) }] }), {
      app: APP, pod: "p1", slot: 0, id: "x", issuedAt: clock.now(), expiresAt: clock.now() + 5000,
    });
    assert.equal(issued(office.admit(APP, { ticketToken: "junk" })).replaced, "malformed");
    assert.equal(issued(office.admit(APP, { ticketToken: foreign })).replaced, "wrong_app");
    assert.equal(issued(office.admit(APP, { ticketToken: wrongSecret })).replaced, "forged");
    assert.equal(issued(office.admit(APP, { ticketToken: foreign.replace("t1.k1.", "t1.zz.") })).replaced, "unknown_key");
    assert.equal(issued(office.admit(APP, { ticketToken: "" })).replaced, undefined, "an empty cookie is no ticket");
  });

  it("a ticket released as idle comes back as `released`", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock, makeSpec({ ticket: { idleTimeoutMs: 1000 } }));
    const a = issued(office.admit(APP, {}));
    clock.advance(1000);
    assert.deepEqual(releases([...office.sweep()]), [`${a.ticket.id}:idle`]);
    assert.deepEqual(releases(changes), [`${a.ticket.id}:idle`], "listeners see what sweep returns");
    assert.equal(issued(office.admit(APP, { ticketToken: a.token })).replaced, "released");
  });

  it("a ticket whose pod is gone comes back as `pod_gone`", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock, makeSpec(), [pod("p1"), pod("p2")]);
    const a = issued(office.admit(APP, {}));
    office.setPods(APP, [pod("p2")]);
    assert.deepEqual(releases(changes), [`${a.ticket.id}:pod_gone`]);
    const b = issued(office.admit(APP, { ticketToken: a.token }));
    assert.deepEqual([b.replaced, b.pod.name], ["pod_gone", "p2"]);
  });

  it("an expired token frees its slot at once and gets a new ticket", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock, makeSpec({ ticketsPerPod: 1, ticket: { maxLifetimeMs: 5000, idleTimeoutMs: 60_000 } }));
    const a = issued(office.admit(APP, {}));
    clock.advance(5000);
    const b = issued(office.admit(APP, { ticketToken: a.token }));
    assert.equal(b.replaced, "expired");
    assert.deepEqual(releases(changes), [`${a.ticket.id}:lifetime`]);
    assert.equal(office.figures(APP)?.used, 1);
  });

  it("pods that are not ready, draining or not yet routable keep their tickets but get no new ones", () => {
    const clock = new FakeClock();
    const office = new TicketOffice({ clock, keys: keyRing("k1"), randomId: sequentialIds() });
    office.setApps([makeSpec({ ticketsPerPod: 1 })]);
    office.setPods(APP, [pod("p1"), pod("p2")]);
    const waiting = queued(office.admit(APP, {}));
    assert.equal(waiting.position, 1, "no pod is routable yet");
    office.setRoutable(APP, "ghost", true); // unknown pods are ignored
    office.setRoutable(APP, "p1", true);
    assert.equal(queued(office.admit(APP, {})).position, 2, "p1's slot is reserved for the waiting client");
    const a = issued(office.admit(APP, { queueToken: waiting.queueToken }));
    assert.equal(a.pod.name, "p1");
    office.setPods(APP, [pod("p1", { draining: true })]);
    assert.equal(office.admit(APP, { ticketToken: a.token }).kind, "valid");
    office.setPods(APP, [pod("p1", { ready: false })]);
    assert.equal(office.admit(APP, { ticketToken: a.token }).kind, "valid");
    assert.deepEqual(office.pods(APP).map((p) => [p.name, p.ready, p.routable, p.used]), [["p1", false, true, 1]]);
    assert.equal(office.figures(APP)?.servingPods, 0);
  });

  it("refuses with no_capacity when the app has no pods and cannot get any", () => {
    const { office } = harness(new FakeClock(), makeSpec({ maxPods: 0 }), []);
    assert.deepEqual(office.admit(APP, {}), { kind: "refused", reason: "no_capacity", retryAfterMs: 5000 });
  });
});

describe("TicketOffice activity", () => {
  const spec = makeSpec({ ticketsPerPod: 4, ticket: { idleTimeoutMs: 1000, maxLifetimeMs: 100_000 } });

  it("touch keeps a ticket alive; unknown ids are ignored", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, spec);
    const a = issued(office.admit(APP, {}));
    for (let i = 0; i < 5; i++) {
      clock.advance(900);
      office.touch(APP, a.ticket.id);
      office.touch(APP, "nope");
      office.touch("ns/nope", a.ticket.id);
      assert.equal(office.sweep().length, 0);
    }
  });

  it("an open connection keeps a ticket from going idle; idleness counts from the close", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, spec);
    const id = issued(office.admit(APP, {})).ticket.id;
    office.openConnection(APP, id, "c1");
    office.openConnection(APP, id, "c1"); // idempotent
    office.openConnection(APP, id, "c2");
    office.openConnection(APP, "nope", "c3");
    assert.equal(office.tickets(APP)[0]?.openConnections, 2);
    clock.advance(40_000);
    assert.equal(office.sweep().length, 0);
    office.closeConnection("c1");
    office.closeConnection("c1");
    office.closeConnection("never-opened");
    clock.advance(40_000);
    assert.equal(office.sweep().length, 0, "c2 is still open");
    office.closeConnection("c2");
    clock.advance(999);
    assert.equal(office.sweep().length, 0);
    clock.advance(1);
    assert.deepEqual(releases([...office.sweep()]), [`${id}:idle`]);
  });

  it("maximum lifetime wins over open connections, and their ids are forgotten", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, spec);
    const id = issued(office.admit(APP, {})).ticket.id;
    office.openConnection(APP, id, "ws");
    clock.advance(100_000);
    assert.deepEqual(releases([...office.sweep()]), [`${id}:lifetime`]);
    office.closeConnection("ws"); // no-op on a released ticket
    const b = issued(office.admit(APP, {}));
    office.openConnection(APP, b.ticket.id, "ws"); // the id can be reused
    assert.equal(office.tickets(APP)[0]?.openConnections, 1);
  });
});

describe("TicketOffice queue", () => {
  const spec = makeSpec({ ticketsPerPod: 1, queue: { maxLength: 3, retryAfterMs: 1000, reservationMs: 10_000 }, ticket: { idleTimeoutMs: 60_000 } });

  it("queues in FIFO order, keeps places across re-presentation, refuses past maxLength", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, spec);
    issued(office.admit(APP, {}));
    const q = [1, 2, 3].map(() => queued(office.admit(APP, {})));
    assert.deepEqual(q.map((x) => [x.position, x.length]), [[1, 1], [2, 2], [3, 3]]);
    assert.deepEqual(office.admit(APP, {}), { kind: "refused", reason: "queue_full", retryAfterMs: 1000 });
    const again = queued(office.admit(APP, { queueToken: q[1]?.queueToken }));
    assert.deepEqual([again.position, again.length, again.queueToken], [2, 3, q[1]?.queueToken]);
    assert.equal(office.figures(APP)?.queued, 3);
    // A forged or foreign queue token is a newcomer (and the queue is full).
    assert.equal(office.admit(APP, { queueToken: "q1.k1.AAAA." + "A".repeat(43) }).kind, "refused");
  });

  it("hands a freed slot to the head, not to a newcomer, and passes it on when the head does not come back", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock, spec);
    const holder = issued(office.admit(APP, {}));
    const first = queued(office.admit(APP, {}));
    const second = queued(office.admit(APP, {}));
    office.setPods(APP, []); // frees the slot…
    office.setPods(APP, [pod("p1")]); // …and a fresh pod serves at once
    assert.deepEqual(office.queue(APP).map((e) => e.reserved), [true, false]);
    assert.ok(changes.some((c) => c.kind === "queue"));
    const newcomer = queued(office.admit(APP, {}));
    assert.equal(newcomer.position, 3, "no jumping the line while someone waits");
    assert.equal(queued(office.admit(APP, { queueToken: second.queueToken })).position, 2, "only the reserved client may take it");
    clock.advance(9_999);
    office.admit(APP, { queueToken: second.queueToken });
    office.admit(APP, { queueToken: newcomer.queueToken });
    office.sweep();
    clock.advance(1);
    office.sweep(); // first never came back: its reservation lapses and passes on
    assert.deepEqual(office.queue(APP).map((e) => e.reserved), [true, false]);
    assert.equal(queued(office.admit(APP, { queueToken: first.queueToken })).position, 3, "a lapsed client is a newcomer again");
    const got = issued(office.admit(APP, { queueToken: second.queueToken, ticketToken: holder.token }));
    assert.equal(got.replaced, "released", "p1 is back under its old name, so the old ticket reads as released");
    assert.equal(queued(office.admit(APP, { queueToken: newcomer.queueToken })).position, 1);
  });

  it("reserves for the queue when a new pod becomes serving", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, spec);
    issued(office.admit(APP, {}));
    const q = queued(office.admit(APP, {}));
    office.setPods(APP, [pod("p1"), pod("p2", { ready: false })]);
    assert.deepEqual(office.queue(APP).map((e) => e.reserved), [false]);
    office.setPods(APP, [pod("p1"), pod("p2")]);
    assert.deepEqual(office.queue(APP).map((e) => e.reserved), [true]);
    assert.equal(issued(office.admit(APP, { queueToken: q.queueToken })).pod.name, "p2");
    assert.equal(office.figures(APP)?.queued, 0);
  });

  it("drops entries whose client stops coming back (3× retryAfter, at least 30 s)", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, spec);
    issued(office.admit(APP, {}));
    const a = queued(office.admit(APP, {}));
    const b = queued(office.admit(APP, {}));
    clock.advance(20_000);
    office.admit(APP, { queueToken: b.queueToken });
    clock.advance(10_000);
    office.sweep();
    assert.equal(office.queue(APP).length, 1);
    assert.equal(queued(office.admit(APP, { queueToken: b.queueToken })).position, 1);
    assert.equal(queued(office.admit(APP, { queueToken: a.queueToken })).position, 2, "a dropped client queues anew");
  });

  it("counts waiting users in the desired pod figure", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, makeSpec({ ticketsPerPod: 2, spareTickets: 1, maxPods: 4 }));
    assert.equal(office.figures(APP)?.desiredPods, 1);
    issued(office.admit(APP, {}));
    issued(office.admit(APP, {}));
    assert.equal(office.figures(APP)?.desiredPods, 2);
    for (let i = 0; i < 5; i++) queued(office.admit(APP, {}));
    assert.deepEqual(office.figures(APP), { app: APP, pods: 1, servingPods: 1, capacity: 2, used: 2, free: 0, queued: 5, desiredPods: 4, issuedTotal: 2 });
  });
});

describe("TicketOffice canary", () => {
  it("sends W% of new tickets to canary pods, falling back when a group is full", () => {
    const clock = new FakeClock();
    const spec = makeSpec({ ticketsPerPod: 100, maxPods: 10, canary: { deployment: "app-canary", weight: 20 } });
    const { office } = harness(clock, spec, [pod("stable"), pod("canary", { canary: true })]);
    const pods = Array.from({ length: 100 }, () => issued(office.admit(APP, {})).pod.name);
    assert.equal(pods.filter((p) => p === "canary").length, 20);
    const more = Array.from({ length: 80 }, () => issued(office.admit(APP, {})).pod.name);
    assert.equal(more.filter((p) => p === "stable").length, 20, "the split holds until stable is full, then canary takes the rest");
    assert.deepEqual(office.pods(APP).map((p) => [p.name, p.used]), [["canary", 80], ["stable", 100]]);
  });

  it("ignores the canary flag when the app has no canary", () => {
    const { office } = harness(new FakeClock(), makeSpec({ ticketsPerPod: 5 }), [pod("b"), pod("a", { canary: true })]);
    assert.equal(issued(office.admit(APP, {})).pod.name, "a");
  });
});

describe("TicketOffice keys, apps and listeners", () => {
  it("rotates keys: old tickets verify while their key is in the ring", () => {
    const clock = new FakeClock();
    const { office } = harness(clock, makeSpec({ ticketsPerPod: 5 }));
    const a = issued(office.admit(APP, {}));
    office.setKeys(keyRing("k2", "k1"));
    assert.equal(office.admit(APP, { ticketToken: a.token }).kind, "valid");
    assert.match(issued(office.admit(APP, {})).token, /^t1\.k2\./);
    office.setKeys(keyRing("k2"));
    assert.equal(issued(office.admit(APP, { ticketToken: a.token })).replaced, "unknown_key");
    assert.throws(() => office.setKeys({ active: "k3", keys: [] }), /key ring/);
  });

  it("shrinking ticketsPerPod keeps tickets that still fit", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock, makeSpec({ ticketsPerPod: 3 }));
    const t = [0, 1, 2].map(() => issued(office.admit(APP, {})));
    office.setApps([makeSpec({ ticketsPerPod: 1 })]);
    assert.deepEqual(releases(changes).sort(), [`${t[1]?.ticket.id}:spec_changed`, `${t[2]?.ticket.id}:spec_changed`].sort());
    assert.equal(office.admit(APP, { ticketToken: t[0]?.token }).kind, "valid");
    assert.equal(office.admit(APP, { ticketToken: t[1]?.token }).kind, "queued", "its slot is gone and the pod is full");
    assert.deepEqual(office.figures(APP)?.capacity, 1);
  });

  it("removing an app releases its tickets and forgets it", () => {
    const clock = new FakeClock();
    const { office, changes } = harness(clock);
    const a = issued(office.admit(APP, {}));
    office.setApps([]);
    assert.deepEqual(releases(changes), [`${a.ticket.id}:app_removed`]);
    assert.equal(office.figures(APP), undefined);
    assert.deepEqual([office.pods(APP), office.tickets(APP), office.apps()], [[], [], []]);
    office.setPods(APP, [pod("p1")]); // ignored
    assert.deepEqual(office.admit(APP, { ticketToken: a.token }), { kind: "unknown_app" });
  });

  it("notifies every subscriber until it unsubscribes", () => {
    const { office } = harness(new FakeClock());
    const seen: string[] = [];
    const fn = (c: OfficeChange): void => void seen.push(c.kind);
    const off1 = office.subscribe(fn);
    const off2 = office.subscribe(fn);
    office.setApps([makeSpec()]);
    off1();
    office.setPods(APP, [pod("p1"), pod("p2")]);
    off2();
    office.setPods(APP, []);
    assert.deepEqual(seen, ["apps", "apps", "pods"]);
  });
});

describe("TicketOffice snapshot and restore", () => {
  function populated(clock: FakeClock): { office: TicketOffice; tokens: string[]; queueTokens: string[] } {
    const { office } = harness(clock, makeSpec({ ticketsPerPod: 2 }), [pod("p1"), pod("p2")]);
    const tokens = [0, 1, 2, 3].map(() => issued(office.admit(APP, {})).token);
    const queueTokens = [0, 1].map(() => queued(office.admit(APP, {})).queueToken);
    return { office, tokens, queueTokens };
  }

  function fresh(clock: FakeClock, pods = [pod("p1"), pod("p2")]): TicketOffice {
    return harness(clock, makeSpec({ ticketsPerPod: 2 }), pods).office;
  }

  it("round-trips through JSON: tickets stay valid, queue order and totals survive", () => {
    const clock = new FakeClock();
    const { office, tokens, queueTokens } = populated(clock);
    const saved = JSON.parse(JSON.stringify(office.snapshot())) as DeskSnapshot;
    const next = fresh(clock);
    const seen: OfficeChange[] = [];
    next.subscribe((c) => seen.push(c));
    assert.deepEqual(next.restore(saved), { restoredTickets: 4, restoredQueue: 2, dropped: [] });
    assert.ok(seen.some((c) => c.kind === "pods"));
    for (const t of tokens) assert.equal(next.admit(APP, { ticketToken: t }).kind, "valid");
    assert.deepEqual(queueTokens.map((q) => queued(next.admit(APP, { queueToken: q })).position), [1, 2]);
    assert.equal(next.figures(APP)?.issuedTotal, 4);
  });

  it("drops what does not fit and never puts two tickets on one slot", () => {
    const clock = new FakeClock();
    const { office } = populated(clock);
    const saved = office.snapshot();
    const t0 = saved.tickets[0];
    assert.ok(t0 !== undefined);
    const bad: DeskSnapshot = {
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

  it("refuses a snapshot of another version", () => {
    const next = fresh(new FakeClock());
    const report = next.restore({ version: 2 } as unknown as DeskSnapshot);
    assert.deepEqual(report, { restoredTickets: 0, restoredQueue: 0, dropped: [{ id: "snapshot", reason: "unsupported snapshot version" }] });
  });
});
