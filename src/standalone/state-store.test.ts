import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { silentLogger } from "../common/logger.js";
import type { AppSpec } from "../config/app-spec.js";
import type { DeskSnapshot, OfficeChange, RestoreReport, TicketDesk } from "../tickets/types.js";
import { StateStore } from "./state-store.js";

/** The slice of TicketDesk the store uses, with a snapshot the test controls. */
class SnapshotDesk {
  snap: DeskSnapshot = { version: 1, savedAt: 0, tickets: [], queue: [], issuedTotal: {} };
  restored: DeskSnapshot[] = [];
  listeners: ((c: OfficeChange) => void)[] = [];
  apps(): readonly AppSpec[] {
    return [{ namespace: "default", name: "shiny" } as AppSpec];
  }
  snapshot(): DeskSnapshot {
    return this.snap;
  }
  restore(s: DeskSnapshot): RestoreReport {
    this.restored.push(s);
    return { restoredTickets: s.tickets.length, restoredQueue: s.queue.length, dropped: [] };
  }
  subscribe(l: (c: OfficeChange) => void): () => void {
    this.listeners.push(l);
    return () => (this.listeners = this.listeners.filter((x) => x !== l));
  }
  emit(): void {
    for (const l of this.listeners) l({ kind: "apps" });
  }
}

const ticket = { id: "t1", app: "default/shiny", pod: "a", slot: 0, issuedAt: 1, expiresAt: 2, lastActiveAt: 1, openConnections: 0 };

const dirs: string[] = [];
async function setup(debounceMs = 10): Promise<{ dir: string; file: string; desk: SnapshotDesk; store: StateStore }> {
  const dir = await mkdtemp(join(tmpdir(), "tp-state-"));
  dirs.push(dir);
  const file = join(dir, "standalone.state.json");
  const desk = new SnapshotDesk();
  const store = new StateStore({ file, desk: desk as unknown as TicketDesk, clock: new FakeClock(), logger: silentLogger, debounceMs });
  return { dir, file, desk, store };
}

after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("StateStore", () => {
  it("reports a missing file and restores nothing", async () => {
    const { store, desk } = await setup();
    assert.deepEqual(await store.restore(), { kind: "missing" });
    assert.equal(desk.restored.length, 0);
  });

  it("round-trips the desk snapshot with format marker, version and app keys", async () => {
    const { store, desk, file } = await setup();
    desk.snap = { version: 1, savedAt: 5, tickets: [ticket], queue: [{ app: "default/shiny", id: "q1", enqueuedAt: 3, lastSeenAt: 4 }], issuedTotal: { "default/shiny": 7 } };
    await store.save();
    const onDisk = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    assert.equal(onDisk["format"], "ticketplane-state");
    assert.equal(onDisk["version"], 1);
    assert.deepEqual(onDisk["apps"], ["default/shiny"]);

    const second = await setup();
    const again = new StateStore({ file, desk: second.desk as unknown as TicketDesk, clock: new FakeClock(), logger: silentLogger });
    const load = await again.restore();
    assert.equal(load.kind, "loaded");
    assert.deepEqual(second.desk.restored, [desk.snap]);
    assert.equal(again.status().restore?.restoredTickets, 1);
  });

  for (const [label, text] of [
    ["truncated JSON", '{"format":"ticketplane-state","version":1,"sav'],
    ["binary garbage", "\u0000\u0001\u0002"],
    ["foreign JSON", JSON.stringify({ hello: "world" })],
    ["our marker with a broken desk", JSON.stringify({ format: "ticketplane-state", version: 1, savedAt: 1, apps: [], desk: { version: 1, savedAt: 1, tickets: [{ id: 3 }], queue: [], issuedTotal: {} } })],
    ["a future version", JSON.stringify({ format: "ticketplane-state", version: 2 })],
  ] as const) {
    it(`sets aside ${label} and starts empty`, async () => {
      const { store, desk, dir, file } = await setup();
      await writeFile(file, text);
      const load = await store.restore();
      assert.equal(load.kind, "set-aside");
      assert.equal(desk.restored.length, 0);
      const names = await readdir(dir);
      assert.ok(!names.includes("standalone.state.json"), "the bad file is no longer in place");
      const aside = names.find((n) => n.startsWith("standalone.state.json.corrupt-"));
      assert.ok(aside !== undefined, `set-aside file exists: ${names.join(", ")}`);
      assert.equal(await readFile(join(dir, aside), "utf8"), text, "content kept for inspection");
      assert.equal(store.status().load?.kind, "set-aside");
    });
  }

  it("ignores and removes a temp file left by a crash mid-write; the real file stays intact", async () => {
    const { store, desk, dir, file } = await setup();
    desk.snap = { version: 1, savedAt: 5, tickets: [ticket], queue: [], issuedTotal: {} };
    await store.save();
    const good = await readFile(file, "utf8");
    await writeFile(join(dir, "standalone.state.json.tmp-999-1"), '{"format":"ticketplane-st');
    const second = await setup();
    const again = new StateStore({ file, desk: second.desk as unknown as TicketDesk, clock: new FakeClock(), logger: silentLogger });
    assert.equal((await again.restore()).kind, "loaded");
    assert.equal(await readFile(file, "utf8"), good);
    assert.deepEqual((await readdir(dir)).sort(), ["standalone.state.json"]);
  });

  it("saves after a desk change (debounced, once for a burst) and on close", async () => {
    const { store, desk, file } = await setup(20);
    store.watch();
    desk.snap = { ...desk.snap, tickets: [ticket] };
    desk.emit();
    desk.emit();
    await waitFor(async () => (await readFile(file, "utf8").catch(() => "")).includes('"t1"'));
    desk.snap = { ...desk.snap, tickets: [] };
    await store.close();
    assert.doesNotMatch(await readFile(file, "utf8"), /"t1"/);
    desk.emit();
    assert.equal(desk.listeners.length, 0, "close unsubscribes");
  });

  it("rejects a failed save with TP_IO and records it", async () => {
    const { store, desk } = await setup();
    const bad = new StateStore({ file: join("/nonexistent-dir-tp", "x.json"), desk: desk as unknown as TicketDesk, clock: new FakeClock(), logger: silentLogger });
    await assert.rejects(bad.save(), { code: "TP_IO" });
    assert.match(bad.status().lastError ?? "", /cannot write/);
    await store.save();
    assert.equal(store.status().lastError, undefined);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
