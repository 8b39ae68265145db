/**
 * Fixtures for the ticket core's own tests (imported only by *.test.ts here).
 */
import { makeSpec } from "../../test/support/app-spec.js";
import type { Clock } from "../common/clock.js";
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import { admit } from "./admit.js";
import { TicketCore } from "./ticket-core.js";
import type { Admission, KeyRing, TicketCoreEvent, PodInput } from "./types.js";

export { makeSpec };

export const APP = "ns/app";

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
  readonly core: TicketCore;
  readonly changes: TicketCoreEvent[];
}

/** A core with one app, routable-by-default pods, recorded changes. */
export function harness(clock: Clock, spec: AppSpec = makeSpec(), pods: readonly PodInput[] = [pod("p1")]): Harness {
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  const changes: TicketCoreEvent[] = [];
  core.subscribe((c) => changes.push(c));
  core.setApps([spec]);
  core.setPods(appKey(spec.namespace, spec.name), pods);
  changes.length = 0;
  return { core, changes };
}

/**
 * A client that finds no free slot and comes back at once with the place it
 * was given: it is in line now. (A client turned away holds no place until it
 * comes back.) Returns what the return answered.
 */
export function join(core: TicketCore, app: AppKey = APP, client?: string): Admission {
  const turned = admit(core, app, client === undefined ? {} : { client });
  if (turned.kind !== "queued") return turned;
  return admit(core, app, { queueTokens: [turned.queueToken], ...(client === undefined ? {} : { client }) });
}
