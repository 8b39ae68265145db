/**
 * bench:authz-handler — the Check handler's own work per call, in-process,
 * as wall time and as this process's CPU time (which a loaded machine
 * inflates less), with no transport: deserialize → decide → serialize as grpc-js calls
 * them, with the metrics the server records, on a fake clock (time stands
 * still, so no ticket expires or leaves probation mid-run). 100,000 calls
 * per path and round; the new-user path takes a fresh ticket core every
 * 5,000 calls (as each open-loop run does), built outside the timed part.
 * Information only (no goal): it shows what a change to the handler saves
 * without the open-loop bench's transport noise.
 *
 *   npm run bench:authz-handler            # both paths
 *   AUTHZ_HANDLER_CALLS=20000 npm run bench:authz-handler
 *   AUTHZ_HANDLER_PATH=new_user node --cpu-prof --import tsx bench/authz-handler.ts
 */
import { Metadata, type ServerUnaryCall } from "@grpc/grpc-js";
import type { CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { Registry } from "prom-client";
import { createAuthzMetrics } from "../src/authz/index.js";
import { createCheckService, SafeAuthorizationService, type IncomingCheck } from "../src/authz/check-service.js";
import { silentLogger } from "../src/common/index.js";
import { FakeClock } from "../test/support/fake-clock.js";
import { newUserPath, validPath, type CheckPath } from "./lib/check-paths.js";
import { info, median, report, spread } from "./lib/rounds.js";

const ROUNDS = 5;
const CALLS = Number(process.env["AUTHZ_HANDLER_CALLS"] ?? 100_000);
/** One path only (valid or new_user), e.g. to profile it alone. */
const ONLY = process.env["AUTHZ_HANDLER_PATH"];
/** Calls per ticket core on the new-user path: what one open-loop run issues (2.5 s at 1,000/s), twice. */
const CALLS_PER_CORE = 5_000;

const check = SafeAuthorizationService.check;
const metadata = new Metadata();

/** Microseconds of wall and CPU time per call over `calls` calls of `path`'s requests, in turn, against fresh cores every `perCore` calls. */
function handlerUs(path: CheckPath, calls: number, perCore: number): { wall: number; cpu: number } {
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
      const request = check.requestDeserialize(path.requests[i % path.requests.length] ?? Buffer.alloc(0));
      service.implementation.check({ request, metadata } as ServerUnaryCall<IncomingCheck, CheckResponse>, (_err, response) => {
        if (response) sink += check.responseSerialize(response).length;
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

function main(): void {
  const clock = new FakeClock();
  const paths: [CheckPath, number][] = [
    [validPath(clock), CALLS],
    [newUserPath(clock), CALLS_PER_CORE],
  ];
  for (const [path, perCore] of paths) {
    if (ONLY !== undefined && ONLY !== path.name) continue;
    handlerUs(path, Math.min(CALLS, 20_000), perCore); // warm-up: optimised code before the timed rounds
    const samples = Array.from({ length: ROUNDS }, () => handlerUs(path, CALLS, perCore));
    for (const kind of ["wall", "cpu"] as const) {
      const values = samples.map((x) => x[kind]);
      report({ ...info(`authz.handler_${kind}_us_per_call.${path.name}`, median(values), "us"), spread: Math.round(spread(values) * 1000) / 1000, rounds: ROUNDS });
    }
  }
}

main();
