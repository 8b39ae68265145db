/**
 * The scaling policies: how many pods an app wants now, from its demand.
 * Pure functions of numbers; the reconciler (src/reconcile/) feeds them what
 * it observed and the rate limits (scale-limits.ts) smooth what they say.
 *
 * - tickets  k8sTicket: enough slots for every ticket, every waiting user and
 *            `spareTickets` more: `ceil((used + queued + spare) / ticketsPerPod)`.
 * - formula  Kapacitor's K8sAutoscale node: `ceil(metric / target)`, the metric
 *            an app-wide total and the target its wanted value per pod.
 * - hpa      the HorizontalPodAutoscaler: `ceil(current × (metric / current) / target)`
 *            — the same number as formula — but no change while the ratio of
 *            the per-pod metric to its target is within `1 ± tolerance`.
 * Every result is clamped to `[minPods, maxPods]` (maxPods wins if they cross).
 */
import type { ScalingSettings } from "../config/app-spec.js";

/** Float noise (3 × 160/80 = 6.000000000000001) must not cost a pod. */
const EPSILON = 1e-9;

function ceilPods(x: number): number {
  return Math.max(0, Math.ceil(x - EPSILON));
}

/** `[minPods, maxPods]`; maxPods wins if they cross. */
export function clampPods(n: number, minPods: number, maxPods: number): number {
  return Math.min(Math.max(n, minPods), maxPods);
}

/** The tickets policy before clamping: `ceil((used + queued + spare) / ticketsPerPod)`; a ticketsPerPod below 1 counts as 1. */
export function ticketsDemandPods(used: number, queued: number, spare: number, ticketsPerPod: number): number {
  return ceilPods((Math.max(0, used) + Math.max(0, queued) + Math.max(0, spare)) / Math.max(1, ticketsPerPod));
}

/** The formula policy before clamping: `ceil(metric / target)`. */
export function formulaPods(metric: number, target: number): number {
  return ceilPods(Math.max(0, metric) / target);
}

/**
 * The hpa policy before clamping. With no pod there is no per-pod average,
 * and the HPA itself never scales from zero: the formula's answer stands in.
 */
export function hpaPods(current: number, metric: number, target: number, tolerance: number): number {
  if (current <= 0) return formulaPods(metric, target);
  const ratio = Math.max(0, metric) / current / target;
  if (Math.abs(ratio - 1) <= tolerance + EPSILON) return current;
  return ceilPods(current * ratio);
}

/** What a policy needs: the app's figures and settings. */
export interface PolicyInput {
  readonly scaling: ScalingSettings;
  readonly ticketsPerPod: number;
  readonly spareTickets: number;
  readonly minPods: number;
  readonly maxPods: number;
  /** Tickets held. */
  readonly used: number;
  /** Users waiting in line. */
  readonly queued: number;
  /** Replicas now (the hpa policy's `current`). */
  readonly current: number;
  /** The value of `scaling.metric` (formula, hpa); undefined when it could not be measured. */
  readonly metric?: number;
}

export type Recommendation =
  /** `desired` clamped; `unclamped` what the policy said; `reason` a sentence for Events and status. */
  | { readonly ok: true; readonly desired: number; readonly unclamped: number; readonly reason: string }
  /** formula or hpa without a measured metric: no recommendation (keep the replicas). */
  | { readonly ok: false; readonly reason: string };

/** The policy's recommendation for an app. */
export function recommend(input: PolicyInput): Recommendation {
  const { scaling: s } = input;
  let unclamped: number;
  let why: string;
  if (s.policy === "tickets") {
    unclamped = ticketsDemandPods(input.used, input.queued, input.spareTickets, input.ticketsPerPod);
    why = `${input.used} tickets + ${input.queued} waiting + ${input.spareTickets} spare at ${input.ticketsPerPod} per pod`;
  } else {
    if (input.metric === undefined || !Number.isFinite(input.metric)) return { ok: false, reason: `${s.metric} is not measured; replicas kept` };
    unclamped = s.policy === "formula" ? formulaPods(input.metric, s.target) : hpaPods(input.current, input.metric, s.target, s.tolerance);
    why = `${s.metric} ${round(input.metric)} at ${s.target} per pod (${s.policy}${s.policy === "hpa" ? `, tolerance ${s.tolerance}` : ""})`;
  }
  const desired = clampPods(unclamped, input.minPods, input.maxPods);
  const clamp = desired === unclamped ? "" : desired === input.maxPods ? `, capped at maxPods ${input.maxPods}` : `, raised to minPods ${input.minPods}`;
  return { ok: true, desired, unclamped, reason: `${why} → ${unclamped} pods${clamp}` };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** One Deployment's part of a canary app. */
export interface Shares {
  readonly stable: number;
  readonly canary: number;
}

/**
 * Splits `total` pods by the canary weight (percent): the canary gets
 * `round(total × weight / 100)`, at least one pod when the weight and the
 * total are above zero and at most `total − 1` while the weight is below 100,
 * so each group that takes new tickets has a pod to take them.
 */
export function splitByWeight(total: number, weight: number): Shares {
  const w = Math.min(100, Math.max(0, weight));
  if (total <= 0 || w === 0) return { stable: Math.max(0, total), canary: 0 };
  if (w === 100) return { stable: 0, canary: total };
  const canary = total === 1 ? (w >= 50 ? 1 : 0) : Math.min(total - 1, Math.max(1, Math.round((total * w) / 100)));
  return { stable: total - canary, canary };
}

/** Tickets held on each Deployment's pods. */
export interface CanaryDemand {
  readonly usedStable: number;
  readonly usedCanary: number;
  readonly queued: number;
  readonly spareTickets: number;
  readonly ticketsPerPod: number;
  readonly weight: number;
  readonly minPods: number;
  readonly maxPods: number;
}

/**
 * The tickets policy for a canary app: new demand (waiting users and spare
 * slots) splits by weight as new tickets do; each Deployment then needs
 * enough pods for its own tickets plus its share. The sum is kept within
 * `[minPods, maxPods]`: extra pods for minPods go by weight; over maxPods,
 * each side keeps at least the pods its tickets hold and the rest is split
 * by weight.
 */
export function canaryTicketsPods(d: CanaryDemand): Shares {
  const w = Math.min(100, Math.max(0, d.weight)) / 100;
  const newDemand = Math.max(0, d.queued) + Math.max(0, d.spareTickets);
  let stable = ticketsDemandPods(d.usedStable, newDemand * (1 - w), 0, d.ticketsPerPod);
  let canary = ticketsDemandPods(d.usedCanary, newDemand * w, 0, d.ticketsPerPod);
  const total = stable + canary;
  if (total < d.minPods) {
    const extra = splitByWeight(d.minPods - total, d.weight);
    return { stable: stable + extra.stable, canary: canary + extra.canary };
  }
  if (total > d.maxPods) {
    const heldStable = Math.min(stable, ticketsDemandPods(d.usedStable, 0, 0, d.ticketsPerPod));
    const heldCanary = Math.min(canary, ticketsDemandPods(d.usedCanary, 0, 0, d.ticketsPerPod));
    const room = Math.max(0, d.maxPods - heldStable - heldCanary);
    const rest = splitByWeight(room, d.weight);
    stable = Math.min(stable, heldStable + rest.stable);
    canary = Math.min(canary, heldCanary + rest.canary);
    // A side that needed less than its weighted share leaves the rest to the other.
    const left = d.maxPods - stable - canary;
    if (left > 0) {
      const moreStable = Math.min(left, ticketsDemandPods(d.usedStable, newDemand * (1 - w), 0, d.ticketsPerPod) - stable);
      stable += Math.max(0, moreStable);
      canary += Math.max(0, Math.min(d.maxPods - stable - canary, ticketsDemandPods(d.usedCanary, newDemand * w, 0, d.ticketsPerPod) - canary));
    }
  }
  return { stable, canary };
}
