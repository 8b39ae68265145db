/** The pod count an app needs: enough slots for its users plus the spare ones. Pure. */
export interface DemandInput {
  /** Users holding a ticket plus users waiting in the queue. */
  readonly active: number;
  readonly spare: number;
  readonly ticketsPerPod: number;
  readonly minPods: number;
  readonly maxPods: number;
}

/** `ceil((active + spare) / ticketsPerPod)`, clamped to `[minPods, maxPods]` (maxPods wins if they cross). */
export function desiredPods(d: DemandInput): number {
  const perPod = Math.max(1, d.ticketsPerPod);
  const raw = Math.ceil((Math.max(0, d.active) + Math.max(0, d.spare)) / perPod);
  return Math.min(Math.max(raw, d.minPods), d.maxPods);
}
