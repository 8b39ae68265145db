/** `ticketplane validate` as a user runs it: exit codes and one line per error. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TempDir } from "./serve-process.js";
import { ROOT, configText, runCli, tempDir } from "./serve-process.js";

describe("ticketplane validate", () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.remove();
  });

  it("accepts the shipped example and a generated config: exit 0, ok", async () => {
    const good = await tmp.write("good.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const r = await runCli(["validate", `${ROOT}/examples/standalone.yaml`, good]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split("\n"), [`${ROOT}/examples/standalone.yaml: ok`, `${good}: ok`]);
  });

  it("prints every error as FILE: path: value — rule and exits 1", async () => {
    const bad = await tmp.write("bad.yaml", configText([{ name: "a", port: 8081, ready: true }]).replace("ticketsPerPod: 1", "ticketsPerPod: 0").replace("127.0.0.1:8081", "127.0.0.1:99999"));
    const good = await tmp.write("good2.yaml", configText([]));
    const r = await runCli(["validate", bad, good]);
    assert.equal(r.code, 1);
    const lines = r.stdout.split("\n");
    assert.ok(lines.some((l) => l.startsWith(`${bad}: apps[0].ticketsPerPod: 0 — `)), r.stdout);
    assert.ok(lines.some((l) => l.startsWith(`${bad}: apps[0].pods[0].address: "127.0.0.1:99999" — `)), r.stdout);
    assert.ok(lines.includes(`${good}: ok`), "later files are still checked");
  });

  it("reports an unreadable file and a missing argument", async () => {
    const missing = tmp.file("nope.yaml");
    const r = await runCli(["validate", missing]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`^${missing}: cannot read: `));
    const none = await runCli(["validate"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name at least one FILE/);
  });

  it("prints the version and per-command help", async () => {
    const v = await runCli(["version"]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^ticketplane \d+\.\d+\.\d+/);
    for (const cmd of ["serve", "dev", "validate", "version"]) {
      const h = await runCli([cmd, "--help"]);
      assert.equal(h.code, 0, cmd);
      assert.match(h.stdout, new RegExp(`Usage: ticketplane ${cmd}`));
    }
    const unknown = await runCli(["frobnicate"]);
    assert.equal(unknown.code, 2);
  });
});
