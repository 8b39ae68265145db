/**
 * Puts a config's apps and their listed pods into the desk. setApps first
 * (new apps get ledgers, removed apps release their tickets), then every
 * app's pods as listed: a pod gone from the list releases its tickets, a pod
 * marked not ready takes no new tickets and keeps the ones it has.
 */
import { appKey } from "../config/app-spec.js";
import type { AppSpec } from "../config/app-spec.js";
import type { PodInput, TicketDesk } from "../tickets/types.js";

export function applyApps(desk: TicketDesk, apps: readonly AppSpec[]): void {
  desk.setApps(apps);
  for (const spec of apps) desk.setPods(appKey(spec.namespace, spec.name), podsOf(spec));
}

function podsOf(spec: AppSpec): PodInput[] {
  return (spec.pods ?? []).map((p) => ({ name: p.name, host: p.host, port: p.port, ready: p.ready }));
}
