import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { admit } from "./admit.js";
import { journalRecord, replayJournal, type LedgerRecord } from "./ledger-journal.js";
import { TicketCore } from "./ticket-core.js";
import { APP, keyRing, makeSpec, pod, sequentialIds } from "./tickets.fixture.js";
import type { LedgerSnapshot } from "./types.js";

function world(): { clock: FakeClock; core: TicketCore; records: LedgerRecord[] } {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  core.setApps([makeSpec({ ticketsPerPod: 3 })]);
  core.setPods(APP, [pod("p1"), pod("p2")]);
  const records: LedgerRecord[] = [];
  core.subscribe((e) => {
    const r = journalRecord(e);
    if (r !== undefined) records.push(JSON.parse(JSON.stringify(r)) as LedgerRecord);
  });
  return { clock, core, records };
}

const tickets = (s: unknown): string[] => ((s as LedgerSnapshot).tickets ?? []).map((t) => `${t.id}:${t.confirmed === true ? "firm" : "probation"}`).sort();

describe("ledger journal", () => {
  it("a snapshot and the records since rebuild the ledger the ticket core has", () => {
    const { clock, core, records } = world();
    const a = admit(core, APP, {});
    const base = JSON.parse(JSON.stringify(core.snapshot())) as unknown;
    records.length = 0;
    const b = admit(core, APP, {});
    admit(core, APP, {});
    assert.ok(a.kind === "issued" && b.kind === "issued");
    clock.advance(1_000);
    admit(core, APP, { ticketTokens: [b.token] });
    core.setPods(APP, [pod("p2")]);
    const rebuilt = replayJournal(base, records);
    assert.deepEqual(tickets(rebuilt), tickets(core.snapshot()));
    assert.deepEqual((rebuilt as LedgerSnapshot).issuedTotal, core.snapshot().issuedTotal);
  });

  it("replaying records the snapshot already holds changes nothing (a crash between compaction and truncation)", () => {
    const { core, records } = world();
    for (let i = 0; i < 4; i++) admit(core, APP, {});
    const first = records[0];
    assert.ok(first?.op === "issue");
    admit(core, APP, { ticketTokens: [] });
    const snap = JSON.parse(JSON.stringify(core.snapshot())) as unknown;
    const again = replayJournal(snap, records) as LedgerSnapshot;
    assert.deepEqual(tickets(again), tickets(snap));
  });

  it("skips what is malformed, and starts from nothing when the snapshot is missing", () => {
    const r = replayJournal(undefined, [null, 7, { op: "issue" }, { op: "issue", ticket: { id: "t1", app: "ns/app" } }, { op: "release", app: "ns/app", id: "zz" }, { op: "what" }]) as LedgerSnapshot;
    assert.deepEqual(r.tickets.map((t) => t.id), ["t1"]);
    assert.deepEqual(r.issuedTotal, { "ns/app": 1 });
  });

  it("the line: joins and leaves rebuild the queue the ticket core has, in its order; replaying twice changes nothing", () => {
    const { clock, core, records } = world();
    for (let i = 0; i < 6; i++) admit(core, APP, {});
    const base = JSON.parse(JSON.stringify(core.snapshot())) as unknown;
    records.length = 0;
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const q = admit(core, APP, {});
      assert.ok(q.kind === "queued");
      tokens.push(q.queueToken);
      clock.advance(10);
    }
    for (const t of tokens) admit(core, APP, { queueTokens: [t] });
    assert.equal(core.queue(APP).length, 3);
    // Only the first two keep coming back: the third is dropped.
    for (let s = 0; s < 30; s++) {
      clock.advance(1_000);
      for (const t of tokens.slice(0, 2)) admit(core, APP, { queueTokens: [t] });
    }
    assert.equal(core.queue(APP).length, 2);
    const line = (snap: unknown): string[] => ((snap as LedgerSnapshot).queue ?? []).map((e) => e.id);
    const replayed = replayJournal(base, records);
    assert.deepEqual(line(replayed), line(core.snapshot()));
    assert.deepEqual(line(replayJournal(replayed, records)), line(core.snapshot()));
  });

  it("skips a malformed queue record or entry", () => {
    const r = replayJournal(undefined, [{ op: "queue", app: "ns/app" }, { op: "queue", app: "ns/app", joined: [7, null, { id: "q1", enqueuedAt: 1, lastSeenAt: 1 }], left: "q9" }]) as LedgerSnapshot;
    assert.deepEqual(r.queue.map((e) => [e.app, e.id]), [["ns/app", "q1"]]);
  });
});
