import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppKey } from "../config/app-spec.js";
import { TicketCore, admit } from "../tickets/index.js";
import { replayJournal, type LedgerRecord } from "../tickets/ledger-journal.js";
import type { LedgerSnapshot } from "../tickets/types.js";
import { LedgerKeeper } from "./ledger-keeper.js";
import type { LedgerLoad, LedgerStore } from "./ports.js";

/** A ledger store in memory that records every call. */
class MemoryStore implements LedgerStore {
  readonly description = "memory";
  readonly calls: string[] = [];
  saved: { snapshot: LedgerSnapshot; apps: readonly AppKey[] }[] = [];
  appended: LedgerRecord[][] = [];
  next: LedgerLoad = { kind: "missing" };
  holder: string | undefined;
  acquire(): Promise<void> {
    this.calls.push("acquire");
    if (this.holder !== undefined) return Promise.reject(new TicketplaneError(ERROR_CODES.CONFLICT, `in use by ${this.holder}`));
    return Promise.resolve();
  }
  load(): Promise<LedgerLoad> {
    this.calls.push("load");
    return Promise.resolve(this.next);
  }
  append(records: readonly LedgerRecord[]): Promise<void> {
    this.calls.push("append");
    this.appended.push([...records]);
    return Promise.resolve();
  }
  save(snapshot: LedgerSnapshot, apps: readonly AppKey[]): Promise<void> {
    this.calls.push("save");
    this.saved.push({ snapshot, apps });
    return Promise.resolve();
  }
  release(): Promise<void> {
    this.calls.push("release");
    return Promise.resolve();
  }
}

function world(): { clock: FakeClock; core: TicketCore; store: MemoryStore; keeper: LedgerKeeper; logger: RecordingLogger } {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(1) }] }, routableByDefault: true });
  core.setApps([makeSpec({ name: "shiny" })]);
  core.setPods("ns/shiny", [{ name: "a", host: "10.0.0.1", port: 80, ready: true }]);
  const store = new MemoryStore();
  const logger = new RecordingLogger();
  return { clock, core, store, logger, keeper: new LedgerKeeper({ store, tickets: core, clock, logger, appendDelayMs: 20, compactEveryMs: 10_000, compactAfterRecords: 50 }) };
}

describe("LedgerKeeper", () => {
  it("claims the store before it reads it, restores what it loads, and starts from a fresh snapshot", async () => {
    const { core, store, keeper } = world();
    const source = world();
    const issued = admit(source.core, "ns/shiny", {});
    assert.equal(issued.kind, "issued");
    store.next = { kind: "loaded", snapshot: JSON.parse(JSON.stringify(source.core.snapshot())) as unknown, savedAt: 1 };
    await keeper.start();
    assert.deepEqual(store.calls, ["acquire", "load", "save"]);
    assert.equal(core.tickets("ns/shiny").length, 1);
    assert.equal(keeper.status().restore?.restoredTickets, 1);
    await keeper.stop();
  });

  it("stops recording the moment it begins to stop, before its final save (the owner must not issue a ticket no store would hold)", async () => {
    const { store, keeper } = world();
    assert.equal(keeper.recording(), false, "not before it restored");
    await keeper.start();
    assert.equal(keeper.recording(), true);
    let saved: (() => void) | undefined;
    store.save = () => new Promise<void>((resolve) => (saved = resolve));
    const stopping = keeper.stop();
    assert.equal(keeper.recording(), false, "while the final save is under way");
    assert.equal(keeper.restored(), true, "the ledger is still known: valid tickets are still answered");
    while (saved === undefined) await new Promise((resolve) => setImmediate(resolve));
    saved();
    await stopping;
    assert.equal(keeper.recording(), false);
  });

  it("journals each change as a small record, batched; compacts on a timer and on stop", async () => {
    const { clock, core, store, keeper } = world();
    await keeper.start();
    const a = admit(core, "ns/shiny", {});
    admit(core, "ns/shiny", {});
    assert.ok(a.kind === "issued");
    await clock.advanceAsync(19);
    assert.equal(store.appended.length, 0, "nothing before the batch delay");
    await clock.advanceAsync(1);
    assert.deepEqual(store.appended.map((b) => b.map((r) => r.op)), [["issue", "issue"]], "one append for the burst, one record per issue");
    admit(core, "ns/shiny", { ticketTokens: [a.token] });
    await clock.advanceAsync(20);
    assert.deepEqual(store.appended.at(-1)?.map((r) => r.op), ["confirm"]);
    assert.equal(keeper.status().journalRecords, 3);
    assert.equal(store.saved.length, 1, "only the start's snapshot so far");
    await clock.advanceAsync(10_000);
    assert.equal(store.saved.length, 2, "compacted within 10 s of the first change");
    assert.equal(store.saved[1]?.snapshot.tickets.length, 2);
    assert.deepEqual(store.saved[1]?.apps, ["ns/shiny"]);
    assert.equal(keeper.status().journalRecords, 0);
    await keeper.stop();
    await keeper.stop();
    assert.deepEqual(store.calls.slice(-2), ["save", "release"], "a last snapshot, then the claim is given up");
    admit(core, "ns/shiny", {});
    await clock.advanceAsync(20_000);
    assert.equal(store.calls.at(-1), "release", "stopped: no more writes");
  });

  it("keeps the line through a crash: who joins and who leaves goes to the journal, so the next owner restores the line in its order", async () => {
    const { clock, core, store } = world();
    // No compaction in this test: the line must come back from the journal alone.
    const keeper = new LedgerKeeper({ store, tickets: core, clock, logger: new RecordingLogger(), appendDelayMs: 20, compactEveryMs: 3_600_000, compactAfterRecords: 1_000 });
    await keeper.start();
    admit(core, "ns/shiny", {});
    admit(core, "ns/shiny", {});
    const places: string[] = [];
    for (let i = 0; i < 3; i++) {
      const turnedAway = admit(core, "ns/shiny", { client: `c${String(i)}` });
      assert.ok(turnedAway.kind === "queued", turnedAway.kind);
      places.push(turnedAway.queueToken);
      clock.advance(100);
    }
    // Each comes back and takes its place in line; then the second stops coming back and is dropped.
    for (const [i, token] of places.entries()) assert.equal(admit(core, "ns/shiny", { queueTokens: [token], client: `c${String(i)}` }).kind, "queued");
    const line = core.queue("ns/shiny").map((q) => q.id);
    assert.equal(line.length, 3);
    for (let t = 0; t < 20; t++) {
      await clock.advanceAsync(1_000);
      for (const i of [0, 2]) admit(core, "ns/shiny", { queueTokens: [places[i] ?? ""], client: `c${String(i)}` });
    }
    const kept = core.queue("ns/shiny").map((q) => q.id);
    assert.deepEqual(kept, [line[0], line[2]], "the one who stopped coming back left the line");
    await clock.advanceAsync(20);
    assert.equal(store.saved.length, 1, "only the start's snapshot: nothing compacted");
    const queueRecords = store.appended.flat().filter((r) => r.op === "queue");
    assert.deepEqual(queueRecords.flatMap((r) => r.joined.map((j) => j.id)), line);
    assert.deepEqual(queueRecords.flatMap((r) => r.left), [line[1]]);

    // The process dies without a word; the next owner loads the snapshot and the journal.
    const next = world();
    next.clock.advance(clock.now() - next.clock.now() + 30_000);
    next.store.next = { kind: "loaded", snapshot: replayJournal(store.saved[0]?.snapshot, store.appended.flat()), savedAt: 1 };
    await next.keeper.start();
    assert.deepEqual(next.core.queue("ns/shiny").map((q) => q.id), kept, "the line as it was, in its order, although the failover took longer than a client may stay away");
    assert.equal(next.core.tickets("ns/shiny").length, 2);
    await next.keeper.stop();
    await keeper.stop();
  });

  it("compacts early once the journal holds enough records, so loading stays bounded", async () => {
    const { clock, core, store, keeper } = world();
    core.setApps([makeSpec({ name: "shiny", ticketsPerPod: 100 })]);
    await keeper.start();
    for (let i = 0; i < 60; i++) admit(core, "ns/shiny", {});
    await clock.advanceAsync(0);
    assert.ok(store.saved.length >= 2, `a compaction at 50 records (saves: ${store.saved.length})`);
    await keeper.stop();
  });

  it("never saves when another process holds the store (nothing overwritten), and rejects naming the holder", async () => {
    const { store, keeper } = world();
    store.holder = "process 4242";
    await assert.rejects(keeper.start(), /in use by process 4242/);
    await keeper.stop();
    assert.deepEqual(store.calls, ["acquire"]);
  });

  it("reports a stored ledger set aside once, with its code", async () => {
    const { store, keeper, logger } = world();
    store.next = { kind: "set-aside", reason: "not JSON", movedTo: "/x.corrupt-1" };
    await keeper.start();
    const errors = logger.at("error");
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.fields["code"], "TP_STATE_CORRUPT");
    assert.equal(errors[0]?.message, "the stored ledger is not ours (not JSON); it was set aside as /x.corrupt-1 and the ledger starts empty");
    assert.equal(keeper.status().load?.kind, "set-aside");
    await keeper.stop();
  });
});
