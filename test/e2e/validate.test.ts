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

  it("validates a keys file as one: the shipped examples/keys.yaml is ok", async () => {
    const r = await runCli(["validate", `${ROOT}/examples/keys.yaml`]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, `${ROOT}/examples/keys.yaml: ok`);
  });

  it("never prints a secret, whatever the file gets wrong", async () => {
    const secret = Buffer.from("e2e-secret-never-to-be-printed-anywhere").toString("base64");
    const short = Buffer.from("short-e2e-secret").toString("base64");
    const files = [
      await tmp.write("listed.yaml", configText([], `keys:\n  - { id: k1, secret: "${secret}" }\n`)),
      await tmp.write("short-keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${short}" }\n`),
      await tmp.write("unknown-keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${secret}", algorithm: hs256 }\n`),
      await tmp.write("app.yaml", `apiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\nmetadata: { name: a }\nspec: { secret: "${secret}" }\n`),
      await tmp.write(
        "deployment.yaml",
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: { k8sTicket: "true" }\n  annotations: { ipb-halle.de/k8sticket.deployment.app: d, ipb-halle.de/k8sticket.deployment.secret: "${secret}" }\nspec: { template: { metadata: { labels: { ipb-halle.de/k8sticket.deployment.app: d } } } }\n`,
      ),
    ];
    const r = await runCli(["validate", ...files]);
    assert.equal(r.code, 1);
    for (const file of files) assert.ok(r.stdout.includes(`${file}: `), `${file} reported:\n${r.stdout}`);
    assert.ok(r.stdout.includes("<redacted, "), r.stdout);
    for (const s of [secret, short]) assert.ok(!(r.stdout + r.stderr).includes(s), r.stdout + r.stderr);
  });

  it("checks the files a config references: keys.file readable and valid, state.file's directory there", async () => {
    const secret = Buffer.from("referenced-but-short").toString("base64");
    const goodKeys = await tmp.write("ref-good-keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${Buffer.alloc(32, 5).toString("base64")}" }\n`);
    const shortKeys = await tmp.write("ref-short-keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${secret}" }\n`);
    const good = await tmp.write("ref-good.yaml", configText([], `keys: { file: ${goodKeys} }\nstate: { file: ref.state.json }\n`));
    const missing = await tmp.write("ref-missing.yaml", configText([], "keys: { file: no-such-keys.yaml }\n"));
    const invalid = await tmp.write("ref-invalid.yaml", configText([], "keys: { file: ref-short-keys.yaml }\n"));
    const noDir = await tmp.write("ref-nodir.yaml", configText([], "state: { file: no-such-dir/x.state.json }\n"));
    const r = await runCli(["validate", good, missing, invalid, noDir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = r.stdout.split("\n");
    assert.ok(lines.includes(`${good}: ok`), r.stdout);
    assert.ok(lines.some((l) => l.startsWith(`${missing}: keys.file: ${JSON.stringify(tmp.file("no-such-keys.yaml"))} — must name a readable keys file (ENOENT`)), r.stdout);
    assert.ok(lines.includes(`${invalid}: keys.file: ${shortKeys}: keys[0].secret: "<redacted, 28 bytes>" — must decode to at least 32 bytes (decodes to 20)`), r.stdout);
    assert.ok(lines.some((l) => l.startsWith(`${noDir}: state.file: ${JSON.stringify(tmp.file("no-such-dir/x.state.json"))} — its directory must exist (ENOENT`)), r.stdout);
    for (const file of [missing, invalid, noDir]) assert.ok(!lines.includes(`${file}: ok`), `${file} must not be ok:\n${r.stdout}`);
    assert.ok(!(r.stdout + r.stderr).includes(secret));
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
