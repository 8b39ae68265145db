import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppKey } from "../config/app-spec.js";
import { TicketCore, admit } from "../tickets/index.js";
import type { LedgerSnapshot } from "../tickets/types.js";
import { LedgerKeeper } from "./ledger-keeper.js";
import type { LedgerLoad, LedgerStore } from "./ports.js";

/** A ledger store in memory that records every call. */
class MemoryStore implements LedgerStore {
  readonly description = "memory";
  readonly calls: string[] = [];
  saved: { snapshot: LedgerSnapshot; apps: readonly AppKey[] }[] = [];
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
  return { clock, core, store, logger, keeper: new LedgerKeeper({ store, tickets: core, clock, logger, debounceMs: 500 }) };
}

describe("LedgerKeeper", () => {
  it("claims the store before it reads it, and restores what it loads", async () => {
    const { core, store, keeper } = world();
    const source = world();
    const issued = admit(source.core, "ns/shiny", {});
    assert.equal(issued.kind, "issued");
    store.next = { kind: "loaded", snapshot: JSON.parse(JSON.stringify(source.core.snapshot())) as unknown, savedAt: 1 };
    await keeper.start();
    assert.deepEqual(store.calls, ["acquire", "load"]);
    assert.equal(core.tickets("ns/shiny").length, 1);
    assert.equal(keeper.status().restore?.restoredTickets, 1);
    await keeper.stop();
  });

  it("saves once for a burst of changes, after the debounce on the clock, and once more on stop", async () => {
    const { clock, core, store, keeper } = world();
    await keeper.start();
    admit(core, "ns/shiny", {});
    admit(core, "ns/shiny", {});
    await clock.advanceAsync(499);
    assert.equal(store.saved.length, 0, "nothing before the debounce");
    await clock.advanceAsync(1);
    assert.equal(store.saved.length, 1, "one save for the burst");
    assert.equal(store.saved[0]?.snapshot.tickets.length, 2);
    assert.deepEqual(store.saved[0]?.apps, ["ns/shiny"]);
    assert.equal(keeper.status().lastSavedAt, clock.now());
    await keeper.stop();
    await keeper.stop();
    assert.deepEqual(store.calls.slice(-2), ["save", "release"], "a last save, then the claim is given up");
    assert.equal(store.saved.length, 2);
    admit(core, "ns/shiny", {});
    await clock.advanceAsync(1_000);
    assert.equal(store.saved.length, 2, "stopped: no more saves");
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
