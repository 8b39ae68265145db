/**
 * The KEDA external scaler in the real CLI: `listen.keda` in the config file
 * starts it (and prints its listening line); a ticket Check hands out makes
 * the app active for KEDA. Without `listen.keda` no scaler runs.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { call, kedaClient } from "../support/keda-protos.js";
import { Browser, checkClient } from "./check-client.js";
import { configText, startServe, tempDir, type ServeProcess, type TempDir } from "./serve-process.js";

describe("KEDA external scaler (real CLI)", () => {
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

  it("serves on listen.keda and reports the tickets Check issues", async () => {
    const config = configText([{ name: "a", port: 8081, ready: true }]).replace("  admin: 127.0.0.1:0\n", "  admin: 127.0.0.1:0\n  keda: 127.0.0.1:0\n");
    const p = await startServe(await tmp.write("keda.yaml", config));
    running.push(p);
    const address = p.addresses.keda;
    assert.ok(address !== undefined, `no "keda listening on" line in ${JSON.stringify(p.stdoutLines)}`);
    const keda = kedaClient(address);
    clients.push(keda);
    const ref = { name: "shiny", namespace: "default", scalerMetadata: {} };
    assert.deepEqual(await call(keda.IsActive, keda, ref), { result: false });

    const authz = checkClient(p.addresses.authz ?? "");
    clients.push(authz);
    assert.equal((await new Browser(authz, "alice").get("/shiny/")).kind, "ok");
    assert.deepEqual(await call(keda.IsActive, keda, ref), { result: true });
    const metrics = await call(keda.GetMetrics, keda, { scaledObjectRef: ref, metricName: "ticketplane-tickets-default-shiny" });
    assert.equal(metrics.metricValues[0]?.metricValueFloat, 1);

    p.signal("SIGTERM");
    assert.equal((await p.waitExit()).code, 0);
  });

  it("runs no scaler without listen.keda", async () => {
    const p = await startServe(await tmp.write("plain.yaml", configText([])));
    running.push(p);
    assert.equal(p.addresses.keda, undefined);
    assert.equal(p.stdoutLines.some((l) => l.startsWith("keda ")), false);
  });
});
