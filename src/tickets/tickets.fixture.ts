/**
 * Fixtures for the ticket core's own tests (imported only by *.test.ts here).
 */
import { appKey, DEFAULTS, type AppSpec } from "../config/app-spec.js";
import type { Clock } from "../common/clock.js";
import { TicketOffice } from "./office.js";
import type { KeyRing, OfficeChange, PodInput } from "./types.js";

export const APP = "ns/app";

type SpecOverrides = Partial<Omit<AppSpec, "ticket" | "queue">> & {
  readonly ticket?: Partial<AppSpec["ticket"]>;
  readonly queue?: Partial<AppSpec["queue"]>;
};

/** A complete AppSpec `ns/app` (or the name given), DEFAULTS plus overrides. */
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
    resolverHoldTimeoutMs: DEFAULTS.resolverHoldTimeoutMs,
    ...o,
    ticket: { ...DEFAULTS.ticket, ...o.ticket },
    queue: { ...DEFAULTS.queue, ...o.queue },
  };
}

/** A ring of 32-byte keys, each secret derived from its id so rings built twice agree. */
export function keyRing(active: string, ...others: string[]): KeyRing {
  const ids = [active, ...others];
  return { active, keys: ids.map((id) => ({ id, secret: Buffer.alloc(32, id) })) };
}

export function pod(name: string, extra: Partial<PodInput> = {}): PodInput {
  return { name, host: `10.0.0.${name.length}`, port: 8080, ready: true, ...extra };
}

/** Ids id-1, id-2, … so tests are deterministic. */
export function sequentialIds(prefix = "id"): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

export interface Harness {
  readonly office: TicketOffice;
  readonly changes: OfficeChange[];
}

/** An office with one app, routable-by-default pods, recorded changes. */
export function harness(clock: Clock, spec: AppSpec = makeSpec(), pods: readonly PodInput[] = [pod("p1")]): Harness {
  const office = new TicketOffice({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  const changes: OfficeChange[] = [];
  office.subscribe((c) => changes.push(c));
  office.setApps([spec]);
  office.setPods(appKey(spec.namespace, spec.name), pods);
  changes.length = 0;
  return { office, changes };
}
