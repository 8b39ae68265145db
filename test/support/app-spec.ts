/**
 * A complete, valid AppSpec for tests: DEFAULTS plus overrides, so fakes
 * never need a cast to pass a partial spec.
 */
import { DEFAULTS, type AppSpec } from "../../src/config/app-spec.js";

export type SpecOverrides = Partial<Omit<AppSpec, "ticket" | "queue" | "limits">> & {
  readonly ticket?: Partial<AppSpec["ticket"]>;
  readonly queue?: Partial<AppSpec["queue"]>;
  readonly limits?: Partial<AppSpec["limits"]>;
};

/** `ns/app` (or the name given) at `/<name>/`, two tickets per pod, up to five pods. */
export function makeSpec(o: SpecOverrides = {}): AppSpec {
  const name = o.name ?? "app";
  return {
    source: "file",
    namespace: "ns",
    name,
    podPort: DEFAULTS.podPort,
    podPath: DEFAULTS.podPath,
    pathPrefix: `/${name}/`,
    gateway: DEFAULTS.gateway,
    ticketsPerPod: 2,
    minPods: 0,
    maxPods: 5,
    spareTickets: 0,
    podCooldownMs: DEFAULTS.podCooldownMs,
    drainTimeoutMs: DEFAULTS.drainTimeoutMs,
    scaleUp: DEFAULTS.scaleUp,
    scaleDown: DEFAULTS.scaleDown,
    scaling: DEFAULTS.scaling,
    resolverHoldTimeoutMs: DEFAULTS.resolverHoldTimeoutMs,
    resolverWaitingPage: DEFAULTS.resolverWaitingPage,
    resolverWaitingPageAfterMs: DEFAULTS.resolverWaitingPageAfterMs,
    ...o,
    ticket: { ...DEFAULTS.ticket, ...o.ticket },
    queue: { ...DEFAULTS.queue, ...o.queue },
    limits: { ...DEFAULTS.limits, ...o.limits },
  };
}
