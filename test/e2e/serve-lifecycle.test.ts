/**
 * The real `ticketplane serve` process: config edits (valid and invalid),
 * SIGHUP, SIGTERM with a saved state file, a corrupt state file set aside.
 * Everything observed from outside: stdout, exit codes, files, the admin API.
 */
import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { ServeProcess, TempDir } from "./serve-process.js";
import { configText, getJson, startServe, tempDir } from "./serve-process.js";
import { waitFor } from "../support/wait-for.js";

interface AppsBody {
  apps: { app: string; pods: { name: string; ready: boolean }[] }[];
}
interface ConfigBody {
  disk: { status: string; differs: boolean; errors?: { path: string; value: unknown; rule: string; message: string }[] };
  inForce: { keys: { active: string; source: { kind: string } }; apps: { pods?: { name: string }[] }[] };
  stateFile: { load?: { kind: string; movedTo?: string; reason?: string } };
}

const podNames = async (p: ServeProcess): Promise<string> => {
  const { body } = await getJson(`${p.admin}/api/apps`);
  return (body as AppsBody).apps[0]?.pods.map((x) => `${x.name}:${x.ready ? "ready" : "not-ready"}`).join(",") ?? "";
};

describe("ticketplane serve (process lifecycle)", () => {
  let tmp: TempDir;
  const running: ServeProcess[] = [];
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    for (const p of running) await p.kill();
    await tmp.remove();
  });

  it("prints exactly one listening line per server, with the bound ports", async () => {
    const file = await tmp.write("lines.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const p = await startServe(file);
    running.push(p);
    const lines = p.stdoutLines.filter((l) => / listening on /.test(l));
    assert.deepEqual(lines.map((l) => l.split(" ")[0]).sort(), ["accesslog", "admin", "authz", "xds"]);
    for (const l of lines) assert.match(l, /^\w+ listening on 127\.0\.0\.1:[1-9]\d*$/);
    assert.equal((await fetch(`${p.admin}/healthz`)).status, 200);
    assert.equal((await fetch(`${p.admin}/readyz`)).status, 200);
    p.signal("SIGTERM");
    assert.deepEqual(await p.waitExit(), { code: 0, signal: null });
  });

  it("applies valid edits (pod added, made not-ready, removed) and refuses an invalid one, keeping the last good config", async () => {
    const file = await tmp.write("edits.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const p = await startServe(file);
    running.push(p);
    assert.equal(await podNames(p), "a:ready");

    await writeFile(file, configText([{ name: "a", port: 8081, ready: true }, { name: "b", port: 8082, ready: true }]));
    await waitFor(async () => (await podNames(p)) === "a:ready,b:ready", { timeoutMs: 15_000, what: "pod b added" });

    await writeFile(file, configText([{ name: "a", port: 8081, ready: false }, { name: "b", port: 8082, ready: true }]));
    await waitFor(async () => (await podNames(p)) === "a:not-ready,b:ready", { timeoutMs: 15_000, what: "pod a not ready" });

    await writeFile(file, configText([{ name: "b", port: 8082, ready: true }]));
    await waitFor(async () => (await podNames(p)) === "b:ready", { timeoutMs: 15_000, what: "pod a removed" });

    // Invalid: a bad port and a bad ticketsPerPod. Nothing changes; readyz 503; /api/config says why.
    await writeFile(file, configText([{ name: "c", port: 70000, ready: true }]).replace("ticketsPerPod: 1", "ticketsPerPod: zero"));
    await waitFor(async () => (await fetch(`${p.admin}/readyz`)).status === 503, { timeoutMs: 15_000, what: "readyz 503 after invalid edit" });
    const ready = await getJson(`${p.admin}/readyz`);
    assert.match(JSON.stringify(ready.body), /config file .* on disk is invalid \(2 errors\)/);
    const cfg = (await getJson(`${p.admin}/api/config`)).body as ConfigBody;
    assert.equal(cfg.disk.status, "invalid");
    assert.equal(cfg.disk.differs, true);
    assert.deepEqual(cfg.disk.errors?.map((e) => e.path).sort(), ["apps[0].pods[0].address", "apps[0].ticketsPerPod"]);
    assert.deepEqual(cfg.inForce.apps[0]?.pods?.map((x) => x.name), ["b"], "last good config still in force");
    assert.equal(await podNames(p), "b:ready");
    // Each error is logged with field, value and rule.
    assert.match(p.stderr, /"path":"apps\[0\]\.ticketsPerPod".*"rule":/);

    // Fixing the file makes it ready again.
    await writeFile(file, configText([{ name: "b", port: 8082, ready: true }, { name: "c", port: 8083, ready: true }]));
    await waitFor(async () => (await fetch(`${p.admin}/readyz`)).status === 200, { timeoutMs: 15_000, what: "readyz 200 after fix" });
    assert.equal(await podNames(p), "b:ready,c:ready");
    assert.equal(((await getJson(`${p.admin}/api/config`)).body as ConfigBody).disk.status, "in-force");
    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });

  it("SIGHUP reloads the keys file at once", async () => {
    const secret = (fill: number): string => Buffer.alloc(32, fill).toString("base64");
    const keys = await tmp.write("keys.yaml", `active: k1\nkeys:\n  - { id: k1, secret: "${secret(1)}" }\n`);
    const file = await tmp.write("hup.yaml", configText([{ name: "a", port: 8081, ready: true }], `keys:\n  file: ${keys}\n`));
    const p = await startServe(file);
    running.push(p);
    const active = async (): Promise<string> => ((await getJson(`${p.admin}/api/config`)).body as ConfigBody).inForce.keys.active;
    assert.equal(await active(), "k1");
    await writeFile(keys, `active: k2\nkeys:\n  - { id: k1, secret: "${secret(1)}" }\n  - { id: k2, secret: "${secret(2)}" }\n`);
    p.signal("SIGHUP");
    await waitFor(async () => (await active()) === "k2", { timeoutMs: 15_000, what: "keys reloaded after SIGHUP" });
    assert.doesNotMatch(JSON.stringify((await getJson(`${p.admin}/api/config`)).body), new RegExp(secret(2).slice(0, 20)), "no secret in the API");
    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });

  it("SIGTERM exits 0 and leaves a state file; a corrupt state file is set aside on the next start", async () => {
    const file = await tmp.write("state.yaml", configText([{ name: "a", port: 8081, ready: true }]));
    const p = await startServe(file);
    running.push(p);
    p.signal("SIGTERM");
    assert.deepEqual(await p.waitExit(), { code: 0, signal: null });
    const saved = JSON.parse(await readFile(tmp.file("state.state.json"), "utf8")) as { format: string; apps: string[] };
    assert.equal(saved.format, "ticketplane-state");
    assert.deepEqual(saved.apps, ["default/shiny"]);

    await writeFile(tmp.file("state.state.json"), '{"format":"ticketplane-state","vers');
    const again = await startServe(file);
    running.push(again);
    assert.equal((await fetch(`${again.admin}/readyz`)).status, 200, "a bad state file does not make the process unready");
    const cfg = (await getJson(`${again.admin}/api/config`)).body as ConfigBody;
    assert.equal(cfg.stateFile.load?.kind, "set-aside");
    assert.match(cfg.stateFile.load?.movedTo ?? "", /state\.state\.json\.corrupt-\d{8}T\d+Z$/);
    assert.ok((await readdir(tmp.dir)).some((n) => n.startsWith("state.state.json.corrupt-")));
    assert.match(again.stderr, /TP_STATE_CORRUPT/);
    again.signal("SIGTERM");
    assert.equal((await again.waitExit()).code, 0);
  });
});
