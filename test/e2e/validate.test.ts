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
