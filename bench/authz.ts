/**
 * bench:authz — server CPU per Check against a floor: a grpc-js server whose
 * handler answers a pre-encoded CheckResponse of exactly the bytes ours
 * answers (same shape: routing headers, cookies), without decoding the
 * request or deciding anything. Load is open loop at fixed offered rates
 * (1,000 and 5,000 Checks/s) from a separate process; the server runs in
 * this process, whose CPU time over the measured window, divided by the
 * calls completed in it, is the figure. Two paths: a valid ticket, and a new
 * user (no cookie: a ticket is issued — probation and per-client limits on,
 * clients from 1,000 addresses). Rounds alternate which server goes first.
 * Also checks that the valid-ticket path makes no network call.
 *
 * Goals: CPU per call ≤ 1.2× the floor for a valid ticket, ≤ 1.5× for a new
 * user. p99 latency ratios and throughput are printed for information, and
 * the handler's own CPU per call without the transport (in-process).
 *
 * AUTHZ_BENCH_CPU_PROF=DIR writes a CPU profile of each run to DIR
 * (`<path>.<rate>.round<i>.cpuprofile` for our server, `floor.<path>…` for
 * the floor, with the calls it completed in the line printed beside it),
 * for bench/lib/cpu-profile.ts to summarise (`--minus` the floor's).
 * AUTHZ_BENCH_ONLY=<path>[.<rate>][,…] (e.g. `valid.1000,new_user.1000`) runs only those.
 */
import { spawn } from "node:child_process";
import diagnosticsChannel from "node:diagnostics_channel";
import dns from "node:dns";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { CheckRequest } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { Registry } from "prom-client";
import { createAuthzMetrics, createAuthzServer } from "../src/authz/index.js";
import { silentLogger, systemClock } from "../src/common/index.js";
import type { TicketCore } from "../src/tickets/index.js";
import { answer, handlerUs, newUserPath, validPath, type CheckPath as Path } from "./lib/check-paths.js";
import { profileThisProcess } from "./lib/cpu-profile.js";
import { alternate, figure, inconclusiveBecause, info, median, ratios, report } from "./lib/rounds.js";

const RATES = [1_000, 5_000];
const ROUNDS = 5;
const WARMUP_MS = 500;
const DURATION_MS = 2_000;
const CHANNELS = 4;
const SATURATED = 0.9;
const METHOD = "/envoy.service.auth.v3.Authorization/Check";
const identity = (b: Buffer): Buffer => b;
const PROFILE_DIR = process.env["AUTHZ_BENCH_CPU_PROF"];
const ONLY = process.env["AUTHZ_BENCH_ONLY"];

interface Served {
  readonly address: string;
  stop(): Promise<void>;
}

async function floorServer(response: Buffer): Promise<Served> {
  const server = new grpc.Server();
  server.register(METHOD, (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, response), identity, identity, "unary");
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `127.0.0.1:${String(port)}`, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

async function ourServer(core: TicketCore): Promise<Served> {
  const registry = new Registry();
  const server = createAuthzServer({ tickets: core, logger: silentLogger, clock: systemClock, registry, metrics: createAuthzMetrics(registry, core), listen: { authz: "127.0.0.1:0" } });
  await server.start();
  return { address: server.addresses.authz, stop: () => server.stop() };
}

interface Run {
  /** Calls completed in the measured window against those offered: below SATURATED the server (or the machine) did not keep up, and CPU per call means nothing. */
  readonly delivered: number;
  readonly cpuUsPerCall: number;
  readonly p99Ms: number;
  readonly callsPerSecond: number;
}

/** Offers `rate` Checks/s to `served` and measures this process's CPU time per completed call. */
function run(served: Served, requests: readonly Buffer[], rate: number): Promise<Run> {
  const script = fileURLToPath(new URL("./authz-load.ts", import.meta.url));
  const args = JSON.stringify({ address: served.address, requestsBase64: requests.map((r) => r.toString("base64")), rate, durationMs: DURATION_MS, warmupMs: WARMUP_MS, channels: CHANNELS });
  return new Promise((resolve, reject) => {
    // The options go through stdin: a thousand encoded requests do not fit in argv.
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdin.end(args);
    let buffer = "";
    let cpu0: NodeJS.CpuUsage | undefined;
    let result: Run | undefined;
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = JSON.parse(buffer.slice(0, nl)) as { event: string; completed?: number; errors?: number; seconds?: number; p99Ms?: number };
        buffer = buffer.slice(nl + 1);
        if (line.event === "start") cpu0 = process.cpuUsage();
        if (line.event === "end" && cpu0 !== undefined) {
          const used = process.cpuUsage(cpu0);
          const completed = line.completed ?? 0;
          if ((line.errors ?? 0) > 0) reject(new Error(`${String(line.errors)} calls failed`));
          result = { delivered: completed / (rate * ((line.seconds ?? 1) || 1)), cpuUsPerCall: (used.user + used.system) / Math.max(1, completed), p99Ms: line.p99Ms ?? Number.NaN, callsPerSecond: completed / (line.seconds ?? 1) };
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 && result !== undefined ? resolve(result) : reject(new Error(`load generator exited with ${String(code)}`))));
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

/** `measured()`, with a CPU profile of this process written as DIR/`name`.cpuprofile when AUTHZ_BENCH_CPU_PROF=DIR. */
async function profiled(name: string, measured: () => Promise<Run>): Promise<Run> {
  if (PROFILE_DIR === undefined) return measured();
  const stop = await profileThisProcess();
  const r = await measured();
  const file = join(PROFILE_DIR, `${name}.cpuprofile`);
  await stop(file);
  // The profile covers the warm-up and the calls still in flight at the end too: about (warm-up + window) × rate calls.
  console.log(`profile ${file}: ${String(Math.round((r.callsPerSecond * (WARMUP_MS + DURATION_MS)) / 1000))} calls`);
  return r;
}

async function measure(path: Path, rate: number, watch: ReturnType<typeof networkWatch>): Promise<void> {
  const floorRuns: Run[] = [];
  const ourRuns: Run[] = [];
  const samples = await alternate(
    ROUNDS,
    async () => {
      const served = await floorServer(path.response);
      const r = await profiled(`floor.${path.name}.${String(rate)}.round${String(floorRuns.length)}`, () => run(served, path.requests, rate));
      await served.stop();
      floorRuns.push(r);
      return r.cpuUsPerCall;
    },
    async () => {
      const served = await ourServer(path.core());
      watch.active(path.name === "valid");
      const r = await profiled(`${path.name}.${String(rate)}.round${String(ourRuns.length)}`, () => run(served, path.requests, rate));
      watch.active(false);
      await served.stop();
      ourRuns.push(r);
      return r.cpuUsPerCall;
    },
  );
  const tag = `${path.name}.${String(rate)}_per_s`;
  const pct = (runs: readonly { delivered: number }[]): string => runs.map((r) => `${(r.delivered * 100).toFixed(0)} %`).join(", ");
  console.log(
    `${tag}: CPU per call floor ${median(samples.a).toFixed(1)} us, ticketplane ${median(samples.b).toFixed(1)} us; p99 floor ${median(floorRuns.map((r) => r.p99Ms)).toFixed(2)} ms, ticketplane ${median(ourRuns.map((r) => r.p99Ms)).toFixed(2)} ms; ` +
      `offered calls completed: floor ${pct(floorRuns)}, ticketplane ${pct(ourRuns)}`,
  );
  const ratio = figure(`authz.cpu_ratio.${tag}`, ratios(samples), { op: "<=", limit: path.goal });
  const delivered = Math.min(...floorRuns.map((r) => r.delivered), ...ourRuns.map((r) => r.delivered));
  // Open loop: a run that completed well under the offered rate measured a saturated machine, not our cost per call.
  report(delivered < SATURATED ? inconclusiveBecause(ratio, `only ${(delivered * 100).toFixed(0)} % of the offered calls completed in a run: the machine did not keep up with ${String(rate)}/s`) : ratio);
  report(info(`authz.p99_latency_ratio.${tag}`, median(ourRuns.map((r, i) => r.p99Ms / (floorRuns[i]?.p99Ms ?? Number.NaN)))));
  report(info(`authz.cpu_us_per_call.${tag}`, median(samples.b), "us"));
  report(info(`authz.calls_per_second.${tag}`, median(ourRuns.map((r) => r.callsPerSecond))));
}

/** The handler's CPU per call in-process (handlerUs): information that stays readable when the machine is too loaded for the open-loop runs to deliver their rate. */
function handlerCpuUs(path: Path): number {
  // The new-user path below the per-client ticket limit (1,000 clients): a fresh core every 10,000 calls.
  return handlerUs(path, path.name === "valid" ? 20_000 : 10_000, 10_000).cpu;
}

async function main(): Promise<void> {
  const watch = networkWatch();
  // The decision and response for a valid ticket, in-process too: no connection, no lookup.
  const valid = validPath(systemClock);
  watch.active(true);
  for (let i = 0; i < 20_000; i++) answer(valid.core(), CheckRequest.decode(valid.requests[0]), "valid");
  watch.active(false);
  console.log(`load: open loop, ${String(DURATION_MS)} ms after ${String(WARMUP_MS)} ms warm-up per run, ${String(CHANNELS)} channels, separate process; ${String(ROUNDS)} rounds alternating which server goes first`);
  const paths = [valid, newUserPath(systemClock)];
  for (const path of paths) {
    handlerCpuUs(path); // warm-up
    report(info(`authz.handler_us_per_call.${path.name}`, median(Array.from({ length: ROUNDS }, () => handlerCpuUs(path))), "us"));
  }
  for (const path of paths) {
    for (const rate of RATES) if (ONLY === undefined || ONLY.split(",").some((o) => o === path.name || o === `${path.name}.${String(rate)}`)) await measure(path, rate, watch);
  }
  report({ bench: "authz.valid_check_network_calls", value: watch.count(), goal: "== 0", pass: watch.count() === 0 });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:authz failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  // A failed run can leave its server listening: exit rather than hang.
  process.exit(1);
});
