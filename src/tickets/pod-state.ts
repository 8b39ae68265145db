/**
 * The pod states, defined once. Every other module asks these functions
 * instead of combining the flags itself.
 *
 * - ready     the inventory says the pod passes its readiness check;
 * - draining  the inventory is removing it (scale-in, deletion);
 * - routable  every connected gateway of the app's node group has ACKed the
 *             pod's cluster, endpoints and route (make before use);
 * - serving   ready, not draining and routable: it takes new tickets.
 * A pod that is not serving keeps its tickets: their users keep reaching it.
 */
export interface PodFlags {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly routable: boolean;
}

/** Takes new tickets. */
export function isServing(pod: PodFlags): boolean {
  return pod.ready && !pod.draining && pod.routable;
}
