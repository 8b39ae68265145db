/**
 * `ticketplane status` against the real CLI's admin server (standalone
 * mode): the same state as /api/status, as tables and as JSON; an admin
 * address that does not answer is exit 1 naming it, a bad one exit 2.
 */
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ServeProcess, TempDir } from "./serve-process.js";
import { configText, getJson, runCli, startServe, tempDir } from "./serve-process.js";

describe("ticketplane status (e2e)", () => {
  let tmp: TempDir;
  let serve: ServeProcess;

  before(async () => {
    tmp = await tempDir();
    const file = await tmp.write("tp.yaml", configText([{ name: "a", port: 8081, ready: true }, { name: "b", port: 8082, ready: false }]));
    serve = await startServe(file);
  });
  after(async () => {
    await serve.kill();
    await tmp.remove();
  });

  it("prints the apps, pods and gateways as tables", async () => {
    const out = await runCli(["status", "--admin", serve.admin]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split("\n");
    assert.match(lines[0] ?? "", /^APP\s+MODE\s+PODS/);
    assert.match(lines[1] ?? "", /^default\/shiny\s+Serve\s+2\s+0\/2\s+1\s+0\s+0\s+\/shiny\/$/);
    assert.ok(lines.some((l) => /^\s+a\s+127\.0\.0\.1:8081\s+serving/.test(l)), out.stdout);
    assert.ok(lines.some((l) => /^\s+b\s+127\.0\.0\.1:8082\s+not ready/.test(l)), out.stdout);
    assert.ok(lines.includes("No gateway connected to xDS."), out.stdout);
  });

  it("prints the very view /api/status serves with --json (address as HOST:PORT)", async () => {
    const out = await runCli(["status", "--json", "--admin", serve.admin.replace("http://", "")]);
    assert.equal(out.code, 0, out.stderr);
    const printed = JSON.parse(out.stdout) as { apps: unknown[]; gateways: unknown[]; generatedAt: string };
    const served = (await getJson(`${serve.admin}/api/status`)).body as typeof printed;
    assert.deepEqual({ ...printed, generatedAt: "" }, { ...served, generatedAt: "" });
  });

  it("exits 1 naming an admin address that does not answer, 2 for one that is no address", async () => {
    const port = await closedPort();
    const down = await runCli(["status", "--admin", `127.0.0.1:${String(port)}`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${String(port)}/api/status: .*ECONNREFUSED`));
    const bad = await runCli(["status", "--admin", "http://"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--admin "http:\/\/" is not a URL or HOST:PORT/);
  });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
