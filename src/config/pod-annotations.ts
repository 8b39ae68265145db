/**
 * The annotations ticketplane writes on pods, defined once: the reconciler's
 * Kubernetes adapters write them and the inventory reads them back (a pod
 * marked draining reaches the ticket core as `PodInput.draining`).
 */

/** Kubernetes' own: lower goes first when a ReplicaSet shrinks (int32, as a decimal string). */
export const POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";

/** Set while a pod drains: `<RFC 3339 time>` and who marked it, e.g. `2026-01-01T00:00:00.000Z reconciler`. */
export const DRAINING_ANNOTATION = "ticketplane.dev/draining";

/** Who marked a pod draining: the reconciler (scale-in), or the pod's own preStop hook through the admin server. */
export type DrainedBy = "reconciler" | "prestop";

export interface DrainMark {
  /** When it was marked (ms since the epoch). */
  readonly since: number;
  readonly by: DrainedBy;
}

export function formatDrainMark(mark: DrainMark): string {
  return `${new Date(mark.since).toISOString()} ${mark.by}`;
}

/** The mark an annotation value holds, or undefined when it is not one (a hand-written value still drains: by "prestop" at time 0). */
export function parseDrainMark(value: string | undefined): DrainMark | undefined {
  if (value === undefined) return undefined;
  const [time = "", by = ""] = value.trim().split(/\s+/, 2);
  const since = Date.parse(time);
  return { since: Number.isFinite(since) ? since : 0, by: by === "reconciler" ? "reconciler" : "prestop" };
}

/** A deletion cost annotation's value, or undefined when absent or not an int32. */
export function parseDeletionCost(value: string | undefined): number | undefined {
  if (value === undefined || !/^[+-]?\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n >= -2_147_483_648 && n <= 2_147_483_647 ? n : undefined;
}
