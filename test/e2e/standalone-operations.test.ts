/**
 * Operating standalone mode as a person would, with the real CLI: a second
 * instance on the same state file, SIGHUP with a keys file that cannot be
 * read, moving from the generated key to a keys file, restart-only edits as
 * /api/config shows them, and the start-up hint about Envoy's bootstrap.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { waitFor } from "../support/wait-for.js";
import { Browser, checkClient } from "./check-client.js";
import type { ServeProcess, TempDir } from "./serve-process.js";
import { ServeProcess as Process, configText, getJson, startServe, tempDir } from "./serve-process.js";

interface ConfigBody {
  restartRequired: { field: string; inForce?: string; afterRestart?: string }[];
  inForce: { listen: { admin: string }; keys: { active: string; ids: string[]; error?: string; source: { kind: string; alsoVerifying?: string } } };
}

const config = async (p: ServeProcess): Promise<ConfigBody> => (await getJson(`${p.admin}/api/config`)).body as ConfigBody;
const secret = (fill: number): string => Buffer.alloc(32, fill).toString("base64");

describe("standalone operations (real CLI)", () => {
  let tmp: TempDir;
  const running: ServeProcess[] = [];
  const clients: grpc.Client[] = [];
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const p of running) await p.kill();
    await tmp.remove();
  });
  const browser = (p: ServeProcess, name: string): Browser => {
    const client = checkClient(p.addresses.authz ?? "");
    clients.push(client);
    return new Browser(client, name);
  };

  it("decides from the moment it says it listens: the first Check after the authz line gets a ticket, not a queue place", async () => {
    const file = await tmp.write("early.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const p = new Process(["serve", "--config", file, "--log-format", "json"]);
    running.push(p);
    await waitFor(() => p.addresses.authz !== undefined || p.child.exitCode !== null, { what: "the authz line" });
    const first = await browser(p, "early").get("/shiny/");
    assert.equal(first.kind, "ok", `the first Check after "authz listening" was ${JSON.stringify(first)}`);
    await p.listening();
    assert.equal((await fetch(`${p.admin}/readyz`)).status, 200);
    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });

  it("a second instance on the same state file fails fast, naming the first, and leaves its state file alone", async () => {
    const file = await tmp.write("twice.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const first = await startServe(file);
    running.push(first);
    const alice = browser(first, "alice");
    const ticket = await alice.get("/shiny/");
    assert.equal(ticket.kind, "ok");
    assert.deepEqual(await alice.get("/shiny/"), ticket, "alice comes back: her ticket is firm (no probation release later)");
    const stateFile = tmp.file("twice.state.json");
    const journal = `${stateFile}.journal`;
    // Wait for the compaction that follows the issue (within 10 s) to finish — snapshot written, journal emptied:
    // after it nothing changes, so any write would be the second instance's.
    // A compaction writes the snapshot, then empties the journal: it has finished once the journal is no older than the snapshot
    // (an already-empty journal seen between the two writes would otherwise pass, and its emptying would look like a write).
    const compacted = async (): Promise<boolean> => {
      const [state, log] = await Promise.all([readFile(stateFile, "utf8").catch(() => ""), readFile(journal, "utf8").catch(() => "x")]);
      if (!state.includes(ticket.ticket ?? "?") || log !== "") return false;
      const [s, j] = await Promise.all([stat(stateFile), stat(journal)]);
      return j.mtimeMs >= s.mtimeMs;
    };
    await waitFor(compacted, { timeoutMs: 20_000, what: "the ticket in the snapshot, the journal emptied after it" });
    const files = async (): Promise<unknown> => ({ state: await readFile(stateFile, "utf8"), stateMtime: (await stat(stateFile)).mtimeMs, journal: await readFile(journal, "utf8"), journalMtime: (await stat(journal)).mtimeMs });
    const before = await files();

    const second = new Process(["serve", "--config", file, "--log-format", "json"]);
    running.push(second);
    const exit = await second.waitExit();
    assert.equal(exit.code, 1);
    assert.match(second.stderr, new RegExp(`twice\\.state\\.json is in use by process ${first.child.pid ?? "?"}`));
    assert.deepEqual(second.stdoutLines.filter((l) => l.includes("listening")), [], "it never listened");
    assert.deepEqual(await files(), before, "the first instance's state file and journal are untouched");
    assert.deepEqual(await alice.get("/shiny/"), ticket, "the first instance still serves its tickets");
    first.signal("SIGTERM");
    assert.equal((await first.waitExit()).code, 0);
  });

  it("SIGHUP with a keys file that cannot be read keeps the process and the keys in force", async () => {
    const keys = await tmp.write("hup-keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${secret(1)}" }\n`);
    const file = await tmp.write("hup.yaml", configText([{ name: "a", port: 8081, ready: true }], `keys:\n  file: ${keys}\n`));
    const p = await startServe(file);
    running.push(p);
    await rm(keys);
    await mkdir(keys); // read fails with EISDIR, not ENOENT
    p.signal("SIGHUP");
    await waitFor(async () => (await config(p)).inForce.keys.error !== undefined, { what: "the refused reload shown in /api/config" });
    const body = await config(p);
    assert.equal(body.inForce.keys.active, "k1");
    assert.match(body.inForce.keys.error ?? "", /EISDIR.*the keys in force stay/);
    assert.equal((await fetch(`${p.admin}/healthz`)).status, 200, "still alive");
    p.signal("SIGHUP");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await fetch(`${p.admin}/healthz`)).status, 200, "a second SIGHUP does not crash it either");
    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });

  it("moving from the generated key to a keys file keeps every session: old tickets still verify", async () => {
    const file = await tmp.write("move.yaml", configText([{ name: "a", port: 8081, ready: true }, { name: "b", port: 8082, ready: true }]));
    const first = await startServe(file);
    running.push(first);
    const bob = browser(first, "bob");
    const ticket = await bob.get("/shiny/");
    assert.equal(ticket.kind, "ok");
    first.signal("SIGTERM");
    assert.equal((await first.waitExit()).code, 0);

    const keys = await tmp.write("move-keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${secret(7)}" }\n`);
    await writeFile(file, configText([{ name: "a", port: 8081, ready: true }, { name: "b", port: 8082, ready: true }], `keys:\n  file: ${keys}\n`));
    const second = await startServe(file);
    running.push(second);
    const again = browser(second, "bob-again");
    for (const [k, v] of bob.cookies) again.cookies.set(k, v);
    assert.deepEqual(await again.get("/shiny/"), ticket, "same ticket, same pod, no second slot");
    const keysView = (await config(second)).inForce.keys;
    assert.deepEqual([keysView.active, keysView.source.kind], ["k1", "file"]);
    assert.match(keysView.source.alsoVerifying ?? "", /^gen-/);
    assert.match(second.stderr, /still verifies the tickets it signed before keys\.file was configured/);
    const carol = await browser(second, "carol").get("/shiny/");
    assert.ok(carol.kind === "ok" && carol.pod !== ticket.pod, "bob's slot is still his");
    second.signal("SIGTERM");
    assert.equal((await second.waitExit()).code, 0);
  });

  it("shows restart-only settings as in force until a restart, with the value the restart will use", async () => {
    const file = await tmp.write("restart.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const p = await startServe(file);
    running.push(p);
    const admin = p.addresses.admin ?? "";
    await writeFile(file, configText([{ name: "a", port: 8081, ready: true }]).replace("admin: 127.0.0.1:0", "admin: 127.0.0.1:9"));
    await waitFor(async () => (await config(p)).restartRequired.length > 0, { what: "restartRequired" });
    const body = await config(p);
    assert.equal(body.inForce.listen.admin, "127.0.0.1:0", "what the process listens on, as configured at start");
    assert.deepEqual(body.restartRequired, [{ field: "listen.admin", inForce: "127.0.0.1:0", afterRestart: "127.0.0.1:9" }]);
    assert.equal(p.addresses.admin, admin);
    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });

  it("tells a person when Envoy's bootstrap points at another ADS address than ticketplane listens on", async () => {
    const file = await tmp.write("hint.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const p = await startServe(file);
    running.push(p);
    const hint = new RegExp(`ADS listens on ${(p.addresses.xds ?? "").replace(/\./g, "\\.")}, not 127\\.0\\.0\\.1:18000: change the xds_cluster address`);
    // The next-steps block may arrive in several chunks; wait for the line itself, not its heading.
    await waitFor(() => hint.test(p.stderr), { what: () => `the ADS address hint among the next-steps lines; stderr so far:\n${p.stderr}` });
    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });
});
