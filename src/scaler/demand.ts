/**
 * What the external scaler reports for one app, from the ticket core's
 * figures. Pure.
 *
 * Metric: the tickets the app needs slots for — `used + queued + spare` —
 * clamped to `[minPods, maxPods] × ticketsPerPod`; target: `ticketsPerPod`.
 * KEDA's external triggers are AverageValue metrics, so the HPA asks for
 * `ceil(metric / target)` pods: exactly the app's `desiredPods`, its bounds
 * included, whatever the ScaledObject's own min/max say (those clamp again).
 *
 * Active: a ticket is held (while its holder is active within the idle
 * timeout or has a WebSocket open; idle tickets are released) or a client
 * waits in line. KEDA scales an inactive target to its minReplicaCount
 * (0 for scale to zero) and an active one to at least 1.
 */
import type { AppSpec } from "../config/app-spec.js";
import type { AppFigures } from "../tickets/types.js";

export interface Demand {
  /** Tickets demanded, clamped so that ceil(metric / target) is the app's desired pods. */
  readonly metric: number;
  /** Slots per pod: the per-pod target of the AverageValue metric. */
  readonly target: number;
  readonly active: boolean;
}

export function demandOf(figures: Pick<AppFigures, "used" | "queued">, spec: Pick<AppSpec, "ticketsPerPod" | "spareTickets" | "minPods" | "maxPods">): Demand {
  const target = Math.max(1, spec.ticketsPerPod);
  const wanted = figures.used + figures.queued + spec.spareTickets;
  const metric = Math.min(Math.max(wanted, spec.minPods * target), spec.maxPods * target);
  return { metric, target, active: isActive(figures) };
}

export function isActive(figures: Pick<AppFigures, "used" | "queued">): boolean {
  return figures.used > 0 || figures.queued > 0;
}

/** The metric's name for an app: KEDA prefixes it with `s<trigger index>-` in the HPA. */
export function metricNameOf(namespace: string, name: string): string {
  return `ticketplane-tickets-${namespace}-${name}`;
}
