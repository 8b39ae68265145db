/**
 * bench:authz — Check throughput for a valid ticket against a no-op grpc-js
 * unary handler returning a constant OK CheckResponse, same run, same machine.
 * The load generator (bench/authz-load.ts) runs in a separate process; the two
 * servers are measured alternately, ROUNDS times each, and the best of each is
 * compared. Also asserts that the valid-ticket path opens no network
 * connection (in-process loop and during the real-server rounds).
 *
 * Output: human lines, then JSON lines; the last is
 * {"bench":"authz.throughput_ratio","value":…,"goal":">= 0.8","pass":…}.
 */
import { spawn } from "node:child_process";
import diagnosticsChannel from "node:diagnostics_channel";
import dns from "node:dns";
import net from "node:net";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { AuthorizationService, CheckRequest, CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { Registry } from "prom-client";
import { AppIndex, createAuthzMetrics, createAuthzServer, DEFAULT_CHECK_LIMITS, decideCheck, toCheckResponse } from "../src/authz/index.js";
import { toCheckInput } from "../src/authz/check-service.js";
import { silentLogger, systemClock } from "../src/common/index.js";
import { DEFAULTS, type AppSpec } from "../src/config/app-spec.js";
import { TicketCore, admit } from "../src/tickets/index.js";

const ROUNDS = 2;
const WARMUP_MS = 1_500;
const DURATION_MS = 5_000;
const CONCURRENCY = 64;
const CHANNELS = 2;
const GOAL = 0.8;

const APP: AppSpec = {
  ...DEFAULTS,
  source: "file",
  namespace: "bench",
  name: "shiny",
  pathPrefix: "/shiny/",
  ticketsPerPod: 1,
  ticket: { ...DEFAULTS.ticket, idleTimeoutMs: 3_600_000, maxLifetimeMs: 3_600_000 },
};

/** A ticket core with one app, one pod and one valid ticket; returns the cookie a browser would send. */
function setUpCore(): { core: TicketCore; cookie: string } {
  const core = new TicketCore({ clock: systemClock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(9) }] }, routableByDefault: true });
  core.setApps([APP]);
  core.setPods("bench/shiny", [{ name: "shiny-7d9f-abcde", host: "10.244.1.17", port: 3838, ready: true }]);
  const admission = admit(core, "bench/shiny", {});
  if (admission.kind !== "issued") throw new Error(`bench set-up: expected a ticket, got ${admission.kind}`);
  return { core, cookie: `_ga=GA1.1.123456789.1700000000; ${APP.ticket.cookieName}=${admission.token}; theme=dark` };
}

/** A browser-like Check request, as Envoy would send it. */
function checkRequest(cookie: string): CheckRequest {
  return CheckRequest.fromPartial({
    attributes: {
      request: {
        http: {
          id: "6f1c2a7e-0c43-4b7e-9d0b-2f7d1c0a9e11",
          method: "GET",
          host: "apps.example.org",
          path: "/shiny/session/abc/dataobj/table?w=&nonce=0.123",
          scheme: "https",
          protocol: "HTTP/2",
          headers: {
            ":authority": "apps.example.org",
            ":method": "GET",
            ":path": "/shiny/session/abc/dataobj/table?w=&nonce=0.123",
            accept: "application/json, text/javascript, */*; q=0.01",
            "accept-encoding": "gzip, deflate, br",
            "accept-language": "en-GB,en;q=0.9",
            cookie,
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-proto": "https",
            "x-request-id": "6f1c2a7e-0c43-4b7e-9d0b-2f7d1c0a9e11",
          },
        },
      },
    },
  });
}

/** Counts client connections and DNS lookups made by this process while `active`. */
function networkWatch(): { count: () => number; active: (on: boolean) => void } {
  let on = false;
  let n = 0;
  diagnosticsChannel.subscribe("net.client.socket", () => {
    if (on) n++;
  });
  const proto = net.Socket.prototype as unknown as { connect: (...a: unknown[]) => net.Socket };
  const connect = proto.connect;
  proto.connect = function (this: net.Socket, ...args: unknown[]) {
    if (on) n++;
    return connect.apply(this, args);
  };
  const lookup = dns.lookup;
  dns.lookup = function (...args: unknown[]) {
    if (on) n++;
    return (lookup as (...a: unknown[]) => void).apply(dns, args);
  } as typeof lookup;
  return { count: () => n, active: (v) => (on = v) };
}

interface LoadResult {
  readonly callsPerSecond: number;
  readonly errors: number;
}

function runLoad(address: string, request: Buffer): Promise<LoadResult> {
  const script = fileURLToPath(new URL("./authz-load.ts", import.meta.url));
  const args = JSON.stringify({ address, requestBase64: request.toString("base64"), durationMs: DURATION_MS, warmupMs: WARMUP_MS, concurrency: CONCURRENCY, channels: CHANNELS });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${String(code)}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? "") as LoadResult);
      } catch (err) {
        reject(new Error(`load generator printed ${JSON.stringify(out)}`, { cause: err }));
      }
    });
  });
}

async function baselineServer(): Promise<{ address: string; stop: () => Promise<void> }> {
  const constant: CheckResponse = CheckResponse.fromPartial({ status: { code: 0 }, okResponse: {} });
  const server = new grpc.Server();
  server.addService(AuthorizationService, { check: (_call: unknown, cb: grpc.sendUnaryData<CheckResponse>) => cb(null, constant) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${String(port)}`, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

async function realServer(core: TicketCore): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = createAuthzServer({ tickets: core, logger: silentLogger, clock: systemClock, registry: new Registry(), metrics: createAuthzMetrics(new Registry(), core), listen: { authz: "127.0.0.1:0" } });
  await server.start();
  return { address: server.addresses.authz, stop: () => server.stop() };
}

/** One Check through the real server, to be sure the measured path is the valid-ticket path. */
async function assertValidPath(address: string, request: CheckRequest): Promise<void> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const bytes = await new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(
      "/envoy.service.auth.v3.Authorization/Check",
      (r: CheckRequest) => Buffer.from(CheckRequest.encode(r).finish()),
      (b: Buffer) => b,
      request,
      (err, v) => (err === null && v !== undefined ? resolve(v) : reject(err ?? new Error("no reply"))),
    ),
  );
  client.close();
  const res = CheckResponse.decode(bytes);
  const pod = res.okResponse?.headers.find((h) => h.header?.key === "x-ticketplane-pod")?.header?.value;
  if (pod !== "shiny-7d9f-abcde" || (res.okResponse?.responseHeadersToAdd.length ?? 1) !== 0) {
    throw new Error(`bench set-up: the request is not on the valid-ticket path: ${JSON.stringify(CheckResponse.toJSON(res))}`);
  }
}

async function main(): Promise<void> {
  const watch = networkWatch();
  const { core, cookie } = setUpCore();
  const request = checkRequest(cookie);
  const encoded = Buffer.from(CheckRequest.encode(request).finish());

  // The decision and response for a valid ticket, in-process: no connection, no lookup.
  const apps = new AppIndex(core);
  watch.active(true);
  for (let i = 0; i < 20_000; i++) {
    const input = toCheckInput(request.attributes?.request?.http, "default");
    if (typeof input === "string") throw new Error(input);
    const outcome = decideCheck(input, { tickets: core, apps, limits: DEFAULT_CHECK_LIMITS });
    if (outcome.kind !== "valid") throw new Error(`expected valid, got ${outcome.kind}`);
    toCheckResponse(outcome);
  }
  watch.active(false);
  apps.close();

  const best = { baseline: 0, real: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    const base = await baselineServer();
    const b = await runLoad(base.address, encoded);
    await base.stop();
    const real = await realServer(core);
    await assertValidPath(real.address, request);
    watch.active(true);
    const r = await runLoad(real.address, encoded);
    watch.active(false);
    await real.stop();
    if (b.errors > 0 || r.errors > 0) throw new Error(`calls failed: baseline ${String(b.errors)}, real ${String(r.errors)}`);
    process.stdout.write(`round ${String(round)}: baseline ${b.callsPerSecond.toFixed(0)} calls/s, ticketplane ${r.callsPerSecond.toFixed(0)} calls/s\n`);
    best.baseline = Math.max(best.baseline, b.callsPerSecond);
    best.real = Math.max(best.real, r.callsPerSecond);
  }
  const networkCalls = watch.count();
  const ratio = best.real / best.baseline;
  process.stdout.write(`no-op grpc-js Check handler (best of ${String(ROUNDS)}): ${best.baseline.toFixed(0)} calls/s\n`);
  process.stdout.write(`ticketplane Check, valid ticket (best of ${String(ROUNDS)}): ${best.real.toFixed(0)} calls/s\n`);
  process.stdout.write(`load: ${String(CONCURRENCY)} in flight over ${String(CHANNELS)} channels, ${String(DURATION_MS)} ms after ${String(WARMUP_MS)} ms warm-up, separate process\n`);
  process.stdout.write(JSON.stringify({ bench: "authz.valid_check_network_calls", value: networkCalls, goal: "== 0", pass: networkCalls === 0 }) + "\n");
  process.stdout.write(JSON.stringify({ bench: "authz.throughput_ratio", value: Number(ratio.toFixed(3)), goal: `>= ${String(GOAL)}`, pass: ratio >= GOAL }) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:authz failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
