/**
 * The status an app shows (the TicketedApp status subresource). The CRD's
 * status schema and the Kubernetes adapter follow this type.
 */
import type { ScalingPolicy } from "../config/app-spec.js";
import type { ReplicaOwner } from "./ports.js";

export type ConditionStatus = "True" | "False" | "Unknown";

/** A Kubernetes-style condition (metav1.Condition's fields). */
export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  /** UpperCamelCase. */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339; changes only when `status` does. */
  readonly lastTransitionTime: string;
}

/**
 * - Ready           a pod serves the app (False with minPods 0 and no pod: scaled to zero).
 * - ScalingActive   ticketplane computes and applies (or, under an HPA/KEDA, reports) the desired pods.
 * - ScalingLimited  the replicas differ from the policy's recommendation because of a rate limit,
 *                   stabilization window, cooldown or a pod that may not go yet.
 * - ScaleToZeroReady  (minPods 0 with a route to flip) the app's VirtualService and its ticketplane
 *                   route exist and can be flipped; False: the app is not scaled to zero.
 */
export type ConditionType = "Ready" | "ScalingActive" | "ScalingLimited" | "ScaleToZeroReady";

/** The last replica change ticketplane made, and why. */
export interface ScaleDecision {
  /** RFC 3339. */
  readonly time: string;
  readonly deployment: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export interface AppStatus {
  /** Pods the inventory lists for the app (both Deployments of a canary). */
  readonly pods: number;
  readonly readyPods: number;
  /** Tickets held. */
  readonly usedSlots: number;
  /** Free slots on serving pods. */
  readonly freeSlots: number;
  /** Users waiting in line. */
  readonly queueLength: number;
  /** Serve: requests go to pods; Proxy: scaled to zero, the resolver holds requests. */
  readonly mode: "Serve" | "Proxy";
  readonly policy: ScalingPolicy;
  /** What the policy recommends (both Deployments together). */
  readonly desiredPods: number;
  /** Who sets replicas (the stable Deployment's). */
  readonly replicasOwner: ReplicaOwner;
  readonly lastScale?: ScaleDecision;
  readonly conditions: readonly Condition[];
}

/** `next`'s conditions, each keeping `previous`'s lastTransitionTime when its status did not change. */
export function carryTransitions(previous: readonly Condition[] | undefined, next: readonly Condition[]): Condition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return old !== undefined && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  });
}
