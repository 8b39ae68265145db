/**
 * The two Check paths the authz benches load, built once for the open-loop
 * bench (bench/authz.ts) and the in-process handler measure
 * (bench/authz-handler.ts): a valid ticket (one browser presenting its
 * cookie), and a new user (no cookie, clients from many addresses, so a
 * ticket is issued on every call).
 */
import { Metadata, type ServerUnaryCall } from "@grpc/grpc-js";
import { CheckRequest, CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { Registry } from "prom-client";
import type { Clock } from "../../src/common/clock.js";
import { silentLogger } from "../../src/common/logger.js";
import { AppIndex, DEFAULT_CHECK_LIMITS, createAuthzMetrics, decideCheck, toCheckResponse } from "../../src/authz/index.js";
import { createCheckService, SafeAuthorizationService, toCheckInput, type IncomingCheck } from "../../src/authz/check-service.js";
import { TicketCore, admit } from "../../src/tickets/index.js";
import { CHECK_BENCH_APP } from "./check-app.js";

const APP = CHECK_BENCH_APP;
const PODS = Array.from({ length: 100 }, (_, i) => ({ name: `shiny-7d9f-${String(i).padStart(5, "0")}`, host: `10.244.1.${i + 1}`, port: 3838, ready: true }));

/** A ticket core serving the bench app on 100 pods (100,000 slots), every pod routable. */
export function newCheckCore(clock: Clock): TicketCore {
  const core = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(9) }] }, routableByDefault: true });
  core.setApps([APP]);
  core.setPods("bench/shiny", PODS);
  return core;
}

/** A browser-like Check request, as Envoy sends it, from `source`. */
export function checkRequest(cookie: string | undefined, source: string): CheckRequest {
  const headers: Record<string, string> = {
    ":authority": "apps.example.org",
    ":method": "GET",
    ":path": "/shiny/session/abc/dataobj/table?w=&nonce=0.123",
    accept: "application/json, text/javascript, */*; q=0.01",
    "accept-encoding": "gzip, deflate, br",
    "accept-language": "en-GB,en;q=0.9",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "x-forwarded-proto": "https",
    "x-request-id": "6f1c2a7e-0c43-4b7e-9d0b-2f7d1c0a9e11",
    ...(cookie === undefined ? {} : { cookie }),
  };
  return CheckRequest.fromPartial({
    attributes: {
      source: { address: { socketAddress: { address: source, portValue: 51_000 } } },
      request: { http: { id: "6f1c2a7e-0c43-4b7e-9d0b-2f7d1c0a9e11", method: "GET", host: "apps.example.org", path: headers[":path"], scheme: "https", protocol: "HTTP/2", headers } },
    },
  });
}

export interface CheckPath {
  readonly name: "valid" | "new_user";
  /** The open-loop bench's goal: CPU per call against the floor's. */
  readonly goal: number;
  /** The requests the load sends, encoded, in turn. */
  readonly requests: readonly Buffer[];
  /** A ticket core for one run of our server (the valid path's is the one that issued its ticket). */
  readonly core: () => TicketCore;
  /** The bytes our server answers on this path (what the floor answers, whatever it is asked). */
  readonly response: Buffer;
}

/** One ticket, presented among a browser's other cookies, from one address. */
export function validPath(clock: Clock): CheckPath {
  const core = newCheckCore(clock);
  const issued = admit(core, "bench/shiny", {});
  if (issued.kind !== "issued") throw new Error(`bench set-up: expected a ticket, got ${issued.kind}`);
  const request = checkRequest(`_ga=GA1.1.123456789.1700000000; ${APP.ticket.cookieName}=${issued.token}; theme=dark`, "203.0.113.7");
  return { name: "valid", goal: 1.2, requests: [Buffer.from(CheckRequest.encode(request).finish())], core: () => core, response: answer(core, request, "valid") };
}

/**
 * No cookie, from `clients` addresses in turn: every call issues a ticket
 * while each client holds fewer than the app's per-client limit (20), so up
 * to 20 × `clients` calls.
 */
export function newUserPath(clock: Clock, clients = 1_000): CheckPath {
  const requests = Array.from({ length: clients }, (_, i) => checkRequest(undefined, `198.51.${(i >> 8) & 255}.${i & 255}`));
  const first = requests[0];
  if (first === undefined) throw new Error("bench set-up: no clients");
  return { name: "new_user", goal: 1.5, requests: requests.map((r) => Buffer.from(CheckRequest.encode(r).finish())), core: () => newCheckCore(clock), response: answer(newCheckCore(clock), first, "issued") };
}

/** Our decision and response for `request`, in-process (the floor's constant answer). */
export function answer(core: TicketCore, request: CheckRequest, kind: string): Buffer {
  const apps = new AppIndex(core);
  const input = toCheckInput(request.attributes?.request?.http, "default", "203.0.113.7");
  if (typeof input === "string") throw new Error(input);
  const outcome = decideCheck(input, { tickets: core, apps, limits: DEFAULT_CHECK_LIMITS });
  apps.close();
  if (outcome.kind !== kind) throw new Error(`bench set-up: expected ${kind}, got ${outcome.kind}`);
  return Buffer.from(CheckResponse.encode(toCheckResponse(outcome)).finish());
}

const CHECK = SafeAuthorizationService.check;
const METADATA = new Metadata();

/**
 * The Check handler's own work, in this process with no transport:
 * deserialize → decide → serialize as grpc-js calls them, with the metrics
 * the server records. Microseconds of wall and CPU time per call over
 * `calls` calls of `path`'s requests, in turn, against fresh cores every
 * `perCore` calls (built outside the timed part).
 */
export function handlerUs(path: CheckPath, calls: number, perCore: number): { wall: number; cpu: number } {
  let spent = 0;
  let cpu = 0;
  let sink = 0;
  for (let done = 0; done < calls; done += perCore) {
    const core = path.core();
    const registry = new Registry();
    const service = createCheckService({ tickets: core, logger: silentLogger, metrics: createAuthzMetrics(registry, core) });
    const n = Math.min(perCore, calls - done);
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const request = CHECK.requestDeserialize(path.requests[i % path.requests.length] ?? Buffer.alloc(0));
      service.implementation.check({ request, metadata: METADATA } as ServerUnaryCall<IncomingCheck, CheckResponse>, (_err, response) => {
        if (response) sink += CHECK.responseSerialize(response).length;
      });
    }
    const used = process.cpuUsage(cpu0);
    spent += performance.now() - started;
    cpu += used.user + used.system;
    service.close();
  }
  if (sink === 0) throw new Error("the handler answered nothing");
  return { wall: (spent * 1000) / calls, cpu: cpu / calls };
}
