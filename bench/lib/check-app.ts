/**
 * The app the Check benches load: bench/shiny behind /shiny/, room for
 * 100,000 tickets on 100 pods, and tickets that outlive a bench run (no
 * idle release or expiry mid-round).
 */
import { DEFAULTS, type AppSpec } from "../../src/config/app-spec.js";

export const CHECK_BENCH_APP: AppSpec = {
  ...DEFAULTS,
  source: "file",
  namespace: "bench",
  name: "shiny",
  pathPrefix: "/shiny/",
  ticketsPerPod: 1_000,
  maxPods: 100,
  ticket: { ...DEFAULTS.ticket, idleTimeoutMs: 3_600_000, maxLifetimeMs: 3_600_000 },
};
