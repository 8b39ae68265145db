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
import { FakeClock } from "../test/support/fake-clock.js";
import { handlerUs, newUserPath, validPath, type CheckPath } from "./lib/check-paths.js";
import { info, median, report, spread } from "./lib/rounds.js";

const ROUNDS = 5;
const CALLS = Number(process.env["AUTHZ_HANDLER_CALLS"] ?? 100_000);
/** One path only (valid or new_user), e.g. to profile it alone. */
const ONLY = process.env["AUTHZ_HANDLER_PATH"];
/** Calls per ticket core on the new-user path: what one open-loop run issues (2.5 s at 1,000/s), twice. */
const CALLS_PER_CORE = 5_000;

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
