import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { silentLogger } from "../common/logger.js";
import type { LedgerSnapshot } from "../tickets/types.js";
import { StateFileStore } from "./state-file-store.js";

const ticket = { id: "t1", app: "default/shiny", pod: "a", slot: 0, issuedAt: 1, expiresAt: 2, lastActiveAt: 1, openConnections: 0, keyId: "k1" };
const snapshot: LedgerSnapshot = { version: 1, savedAt: 5, tickets: [ticket], queue: [{ app: "default/shiny", id: "q1", enqueuedAt: 3, lastSeenAt: 4 }], issuedTotal: { "default/shiny": 7 } };

const dirs: string[] = [];
async function setup(): Promise<{ dir: string; file: string; store: StateFileStore }> {
  const dir = await mkdtemp(join(tmpdir(), "tp-state-"));
  dirs.push(dir);
  const file = join(dir, "standalone.state.json");
  return { dir, file, store: new StateFileStore({ file, clock: new FakeClock(), logger: silentLogger }) };
}

after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("StateFileStore", () => {
  it("reports a missing file", async () => {
    const { store } = await setup();
    assert.deepEqual(await store.load(), { kind: "missing" });
  });

  it("round-trips the ledger with format marker, version and app keys", async () => {
    const { store, file } = await setup();
    await store.save(snapshot, ["default/shiny"]);
    const onDisk = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    assert.deepEqual([onDisk["format"], onDisk["version"], onDisk["apps"]], ["ticketplane-state", 1, ["default/shiny"]]);
    const again = new StateFileStore({ file, clock: new FakeClock(), logger: silentLogger });
    assert.deepEqual(await again.load(), { kind: "loaded", snapshot, savedAt: new FakeClock().now() });
  });

  it("reads a file written when the ledger was called the desk", async () => {
    const { store, file } = await setup();
    await writeFile(file, JSON.stringify({ format: "ticketplane-state", version: 1, savedAt: 9, apps: [], desk: snapshot }));
    assert.deepEqual(await store.load(), { kind: "loaded", snapshot, savedAt: 9 });
  });

  for (const [label, text] of [
    ["truncated JSON", '{"format":"ticketplane-state","version":1,"sav'],
    ["binary garbage", "\u0000\u0001\u0002"],
    ["foreign JSON", JSON.stringify({ hello: "world" })],
    ["our marker with a broken ledger", JSON.stringify({ format: "ticketplane-state", version: 1, savedAt: 1, apps: [], ledger: { version: 1, savedAt: 1, tickets: [{ id: 3 }], queue: [], issuedTotal: {} } })],
    ["a future version", JSON.stringify({ format: "ticketplane-state", version: 2 })],
  ] as const) {
    it(`sets aside ${label}`, async () => {
      const { store, dir, file } = await setup();
      await writeFile(file, text);
      const load = await store.load();
      assert.equal(load.kind, "set-aside");
      const names = await readdir(dir);
      assert.ok(!names.includes("standalone.state.json"), "the bad file is no longer in place");
      const aside = names.find((n) => n.startsWith("standalone.state.json.corrupt-"));
      assert.ok(aside !== undefined && load.kind === "set-aside" && load.movedTo === join(dir, aside), `set-aside file exists: ${names.join(", ")}`);
      assert.equal(await readFile(join(dir, aside), "utf8"), text, "content kept for inspection");
    });
  }

  it("ignores and removes a temp file left by a crash mid-write; the real file stays intact", async () => {
    const { store, dir, file } = await setup();
    await store.save(snapshot, []);
    const good = await readFile(file, "utf8");
    await writeFile(join(dir, "standalone.state.json.tmp-999-1"), '{"format":"ticketplane-st');
    assert.equal((await store.load()).kind, "loaded");
    assert.equal(await readFile(file, "utf8"), good);
    assert.deepEqual((await readdir(dir)).sort(), ["standalone.state.json"]);
  });

  it("rejects a failed save with TP_IO", async () => {
    const bad = new StateFileStore({ file: join("/nonexistent-dir-tp", "x.json"), clock: new FakeClock(), logger: silentLogger });
    await assert.rejects(bad.save(snapshot, []), { code: "TP_IO" });
  });
});

describe("StateFileStore lock", () => {
  it("refuses a second claim while the first holds it, naming the holder; released, it can be taken", async () => {
    const { file, store } = await setup();
    await store.acquire();
    const second = new StateFileStore({ file, clock: new FakeClock(), logger: silentLogger });
    // Our own pid in the lock reads as an earlier incarnation; hold it from another live process instead.
    await store.release();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    try {
      await writeFile(`${file}.lock`, JSON.stringify({ pid: holder.pid, host: hostname(), startedAt: "2026-12-01T00:00:00.000Z", command: "ticketplane serve --config x.yaml" }));
      await assert.rejects(second.acquire(), (err: Error & { code?: string }) => {
        assert.equal(err.code, "TP_CONFLICT");
        assert.match(err.message, new RegExp(`in use by process ${holder.pid} \\(started 2026-12-01T00:00:00.000Z: ticketplane serve --config x.yaml\\)`));
        assert.match(err.message, /delete .*standalone\.state\.json\.lock/);
        return true;
      });
    } finally {
      holder.kill("SIGKILL");
    }
    await new Promise((r) => holder.once("exit", r));
    await second.acquire();
    assert.equal((JSON.parse(await readFile(`${file}.lock`, "utf8")) as { pid: number }).pid, process.pid, "a lock whose process is gone is taken over");
    await second.release();
    await second.release();
    await assert.rejects(readFile(`${file}.lock`), { code: "ENOENT" });
  });

  it("takes over a lock that is half-written or names this very pid (a restarted container is pid 1 again)", async () => {
    const { file, store } = await setup();
    await writeFile(`${file}.lock`, '{"pid":');
    await store.acquire();
    await store.release();
    await writeFile(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: "x" }));
    await store.acquire();
    await store.release();
  });
});

describe("StateFileStore journal", () => {
  it("appends records a line each, replays them over the snapshot on load, and empties the journal on the next snapshot", async () => {
    const { file, store } = await setup();
    await store.save(snapshot, ["default/shiny"]);
    const second = { ...ticket, id: "t2", slot: 1, keyId: "k1", confirmed: false };
    await store.append([{ op: "issue", ticket: second }]);
    await store.append([{ op: "confirm", app: "default/shiny", id: "t2", at: 9 }, { op: "release", app: "default/shiny", id: "t1" }]);
    const journal = await readFile(`${file}.journal`, "utf8");
    assert.equal(journal.trim().split("\n").length, 3, "one line per record");
    const load = await new StateFileStore({ file, clock: new FakeClock(), logger: silentLogger }).load();
    assert.ok(load.kind === "loaded");
    const tickets = (load.snapshot as LedgerSnapshot).tickets;
    assert.deepEqual(tickets.map((t) => [t.id, t.confirmed, t.lastActiveAt]), [["t2", true, 9]]);
    assert.equal((load.snapshot as LedgerSnapshot).issuedTotal["default/shiny"], 8, "seven saved, one journaled");
    await store.save(load.snapshot as LedgerSnapshot, []);
    assert.equal(await readFile(`${file}.journal`, "utf8"), "", "a snapshot empties the journal");
    await store.release();
  });

  it("skips a journal line cut short by a crash, and loads a journal without a snapshot", async () => {
    const { file, store } = await setup();
    await writeFile(`${file}.journal`, JSON.stringify({ op: "issue", ticket }) + "\n" + '{"op":"issue","tick');
    const load = await store.load();
    assert.ok(load.kind === "loaded");
    assert.deepEqual((load.snapshot as LedgerSnapshot).tickets.map((t) => t.id), ["t1"]);
  });

  it("writes O(1) bytes per issue, whatever the size of the ledger", async () => {
    const { file, store } = await setup();
    const many: LedgerSnapshot = { ...snapshot, tickets: Array.from({ length: 5_000 }, (_, i) => ({ ...ticket, id: `t${i}`, slot: i })) };
    await store.save(many, []);
    const before = (await stat(file)).size;
    await store.append([{ op: "issue", ticket: { ...ticket, id: "new" } }]);
    const appended = (await stat(`${file}.journal`)).size;
    assert.ok(appended < 400, `one issue appended ${appended} bytes (the snapshot is ${before} bytes)`);
    await store.release();
  });
});
