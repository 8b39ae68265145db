/**
 * bench:abuse — how long a real user waits for a slot while cookieless
 * floods arrive. A real Check server (gRPC on loopback) and the ticket core
 * with a real sweeper; a separate process floods N cookieless Checks per
 * second (each from another address: per-client limits do not help here,
 * probation and confirmed queue places must); the user arrives after the
 * flood has taken every slot, comes back every Retry-After with the cookies
 * it was given, and the time until it holds a ticket is measured.
 * Goal: within probation + Retry-After + one sweep, at every rate.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { CheckRequest, CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { Registry } from "prom-client";
import { createAuthzMetrics, createAuthzServer } from "../src/authz/index.js";
import { systemClock } from "../src/common/clock.js";
import { silentLogger } from "../src/common/logger.js";
import { DEFAULTS, type AppSpec } from "../src/config/app-spec.js";
import { Sweeper } from "../src/runtime/sweeper.js";
import { TicketCore } from "../src/tickets/index.js";

const PROBATION_MS = 2_000;
const RETRY_AFTER_MS = 2_000;
const SWEEP_MS = 1_000;
const GOAL_MS = PROBATION_MS + RETRY_AFTER_MS + SWEEP_MS;
const RATES = [10, 100, 1_000];
const METHOD = "/envoy.service.auth.v3.Authorization/Check";
const identity = (b: Buffer): Buffer => b;

const APP: AppSpec = {
  ...DEFAULTS,
  source: "file",
  namespace: "bench",
  name: "shiny",
  pathPrefix: "/shiny/",
  ticketsPerPod: 1,
  maxPods: 4,
  ticket: { ...DEFAULTS.ticket, cookieSecure: false, probationMs: PROBATION_MS },
  queue: { maxLength: 100, retryAfterMs: RETRY_AFTER_MS, reservationMs: 2 * RETRY_AFTER_MS },
};

function request(source: string, cookie: string | undefined): Buffer {
  const headers: Record<string, string> = cookie === undefined ? {} : { cookie };
  return Buffer.from(CheckRequest.encode(CheckRequest.fromPartial({ attributes: { source: { address: { socketAddress: { address: source, portValue: 40_000 } } }, request: { http: { id: "u", method: "GET", host: "bench", path: "/shiny/", headers } } } })).finish());
}

/** Starts the flood; resolves when the flood process ends. */
function flood(address: string, rate: number, durationMs: number): Promise<void> {
  const requestsBase64 = Array.from({ length: 1_000 }, (_, i) => request(`10.${(i >> 8) & 255}.${i & 255}.9`, undefined).toString("base64"));
  const script = fileURLToPath(new URL("./abuse-flood.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify({ address, requestsBase64, rate, durationMs })], { stdio: ["ignore", "ignore", "inherit"] });
  return new Promise((resolve, reject) => child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`flood exited ${String(code)}`)))));
}

function checkOnce(client: grpc.Client, jar: ReadonlyMap<string, string>): Promise<CheckResponse> {
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  return new Promise<CheckResponse>((resolve, reject) =>
    client.makeUnaryRequest(METHOD, identity, (b: Buffer) => CheckResponse.decode(b), request("192.0.2.1", cookie === "" ? undefined : cookie), (err, value) => (err === null && value !== undefined ? resolve(value) : reject(err ?? new Error("no reply")))),
  );
}

/** Keeps the cookies a response sets, as a browser does. */
function keepCookies(jar: Map<string, string>, res: CheckResponse): void {
  for (const h of [...(res.okResponse?.responseHeadersToAdd ?? []), ...(res.deniedResponse?.headers ?? [])]) {
    if (h.header?.key !== "set-cookie") continue;
    const m = /^([^=]+)=([^;]*)/.exec(h.header.value);
    if (m?.[1] !== undefined && m[2] !== undefined && m[2] !== "") jar.set(m[1], m[2]);
  }
}

/** One real user: returns the cookies it is given until it holds a ticket; resolves with the wait in ms. */
async function user(client: grpc.Client, deadlineMs: number): Promise<number> {
  const jar = new Map<string, string>();
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    const res = await checkOnce(client, jar);
    keepCookies(jar, res);
    if (res.okResponse !== undefined) return Date.now() - started;
    const retry = Number(res.deniedResponse?.headers.find((h) => h.header?.key === "retry-after")?.header?.value ?? "1");
    await new Promise((r) => setTimeout(r, retry * 1000));
  }
  return Number.POSITIVE_INFINITY;
}

async function measure(rate: number): Promise<number> {
  const core = new TicketCore({ clock: systemClock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(5) }] }, routableByDefault: true });
  core.setApps([APP]);
  core.setPods("bench/shiny", [0, 1, 2, 3].map((i) => ({ name: `shiny-${i}`, host: `10.244.0.${i + 1}`, port: 3838, ready: true })));
  const server = createAuthzServer({ tickets: core, logger: silentLogger, clock: systemClock, registry: new Registry(), metrics: createAuthzMetrics(new Registry(), core), listen: { authz: "127.0.0.1:0" } });
  const sweeper = new Sweeper(core, systemClock, silentLogger, SWEEP_MS);
  await server.start();
  await sweeper.start();
  const client = new grpc.Client(server.addresses.authz, grpc.credentials.createInsecure());
  try {
    const flooding = flood(server.addresses.authz, rate, 15_000);
    // Let the flood take every slot first.
    const until = Date.now() + 5_000;
    while ((core.figures("bench/shiny")?.free ?? 0) > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const waited = await user(client, 12_000);
    await flooding;
    return waited;
  } finally {
    client.close();
    await sweeper.stop();
    await server.stop();
  }
}

for (const rate of RATES) {
  const waited = await measure(rate);
  console.log(`flood of ${rate} cookieless Checks/s: a returning user held a slot after ${waited} ms (probation ${PROBATION_MS} ms, Retry-After ${RETRY_AFTER_MS} ms)`);
  console.log(JSON.stringify({ bench: `abuse.time_to_slot_ms.flood_${rate}_per_s`, value: waited, goal: `<= ${GOAL_MS}`, pass: waited <= GOAL_MS }));
}
