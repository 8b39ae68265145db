/**
 * Which pods go when an app shrinks, and the `pod-deletion-cost` each pod
 * carries so that Kubernetes removes exactly those. Pure.
 *
 * The rule: a pod with a ticket or an open WebSocket (busy) is never chosen
 * while an idle one exists. Idle pods qualify once they have been idle for
 * `podCooldown` (k8sTicket: "the time until an unused Pod will be
 * downscaled"; k8sTicket checks on that interval, so it removes a pod 1–2
 * cooldowns after its last user left, we at one). Pods that are not ready
 * serve nobody and Kubernetes removes them first whatever their cost, so an
 * idle one goes first and needs no cooldown. Busy pods are chosen only when
 * `allowBusy` and no pod is idle at all; they are drained and go once empty
 * or after `drainTimeout`.
 */
import { byName } from "../common/by-name.js";

/** A pod as the scale-in rule sees it. */
export interface PodLoad {
  readonly name: string;
  readonly ready: boolean;
  readonly tickets: number;
  /** Open WebSockets on the pod's tickets. */
  readonly connections: number;
  /** Since when the pod has held no ticket (ms); undefined while busy. */
  readonly idleSince?: number;
  /** The ticket core sees it draining (takes no new tickets). */
  readonly draining: boolean;
  /** When it was marked draining, by whoever marked it; undefined when not marked. */
  readonly drainSince?: number;
}

export function isBusy(p: Pick<PodLoad, "tickets" | "connections">): boolean {
  return p.tickets > 0 || p.connections > 0;
}

export interface VictimInput {
  readonly pods: readonly PodLoad[];
  /** How many pods should go. */
  readonly count: number;
  readonly now: number;
  readonly podCooldownMs: number;
  readonly drainTimeoutMs: number;
  /** Busy pods may be chosen when no pod is idle (load policies); never for the tickets policy. */
  readonly allowBusy: boolean;
}

export interface VictimChoice {
  /** The pods chosen to go, first to go first: they are drained (marked, no new tickets). */
  readonly victims: readonly string[];
  /**
   * Of those, the pods that may be removed now: seen draining (or not
   * ready) and empty, or drained for `drainTimeout`.
   */
  readonly removable: readonly string[];
  /** When another pod may qualify (an idle pod's cooldown ends, a drain times out). */
  readonly recheckAt?: number;
  /**
   * Lowering replicas now would let Kubernetes remove a pod that is not a
   * victim (a pod that is not ready and busy goes before any cost): why
   * scale-in must wait. Undefined when it may proceed.
   */
  readonly blockedBy?: string;
}

/** Chooses the pods that go. */
export function chooseVictims(input: VictimInput): VictimChoice {
  const { now, podCooldownMs } = input;
  const idle = input.pods.filter((p) => !isBusy(p));
  const unready = idle.filter((p) => !p.ready).sort(byName);
  // A pod already drained (chosen before, or drained from outside) that is empty needs no cooldown.
  const qualifies = (p: PodLoad) => p.drainSince !== undefined || cooledDown(p, now, podCooldownMs);
  const cooled = idle.filter((p) => p.ready && qualifies(p)).sort(idleOrder);
  const warming = idle.filter((p) => p.ready && !qualifies(p));
  let victims = [...unready, ...cooled];
  if (input.allowBusy && idle.length === 0) victims = input.pods.filter(isBusy).sort(busyOrder);
  victims = victims.slice(0, Math.max(0, input.count));
  const chosen = new Set(victims.map((p) => p.name));
  const times: number[] = [];
  if (victims.length < input.count) for (const p of warming) times.push((p.idleSince ?? now) + podCooldownMs);
  const { removable, drainEnds } = readyToGo(victims, now, input.drainTimeoutMs);
  times.push(...drainEnds);
  const unsafe = input.pods.find((p) => !chosen.has(p.name) && !p.ready && isBusy(p));
  const future = times.filter((t) => t > now);
  return {
    victims: victims.map((p) => p.name),
    removable,
    ...(future.length > 0 ? { recheckAt: Math.min(...future) } : {}),
    ...(unsafe !== undefined ? { blockedBy: `pod ${unsafe.name} is not ready and holds tickets: Kubernetes would remove it before any idle pod` } : {}),
  };
}

/** Victims seen draining (or not ready) and empty, or drained for drainTimeout; and when busy drains time out. */
function readyToGo(victims: readonly PodLoad[], now: number, drainTimeoutMs: number): { removable: string[]; drainEnds: number[] } {
  const removable: string[] = [];
  const drainEnds: number[] = [];
  for (const p of victims) {
    const timedOut = p.drainSince !== undefined && p.drainSince + drainTimeoutMs <= now;
    if ((!isBusy(p) && (p.draining || !p.ready)) || timedOut) removable.push(p.name);
    else if (p.drainSince !== undefined && isBusy(p)) drainEnds.push(p.drainSince + drainTimeoutMs);
  }
  return { removable, drainEnds };
}

function cooledDown(p: PodLoad, now: number, cooldown: number): boolean {
  return p.idleSince !== undefined && now - p.idleSince >= cooldown;
}

/** Already draining first (closest to done), then idle longest, then name. */
function idleOrder(a: PodLoad, b: PodLoad): number {
  if (a.draining !== b.draining) return a.draining ? -1 : 1;
  const ia = a.idleSince ?? 0;
  const ib = b.idleSince ?? 0;
  return ia !== ib ? ia - ib : byName(a, b);
}

/** Fewest tickets, then fewest connections, then name. */
function busyOrder(a: PodLoad, b: PodLoad): number {
  return a.tickets - b.tickets || a.connections - b.connections || byName(a, b);
}

/**
 * `controller.kubernetes.io/pod-deletion-cost` values (int32; lower goes
 * first): pods chosen to go lowest, then idle pods, then busy pods by their
 * tickets. Coarse on purpose: a pod's cost changes when it becomes idle or
 * busy or its ticket count changes, not with every request, because each
 * change is a write to the API server.
 */
export const DELETION_COST = {
  victim: -1000,
  idle: 0,
  /** Busy pods: this plus their tickets (capped below int32). */
  busy: 1000,
} as const;

const MAX_COST = 2_147_483_647;

/**
 * The cost of every pod of the app. Victims are lowest: idle ones, and busy
 * ones once `removable` (drained for drainTimeout); an idle pod marked
 * draining from outside (a preStop hook) counts as a victim too.
 */
export function deletionCosts(pods: readonly PodLoad[], victims: readonly string[], removable: readonly string[] = []): Map<string, number> {
  const chosen = new Set(victims);
  const going = new Set(removable);
  const costs = new Map<string, number>();
  for (const p of pods) {
    if (going.has(p.name)) costs.set(p.name, DELETION_COST.victim);
    else if (isBusy(p)) costs.set(p.name, Math.min(MAX_COST, DELETION_COST.busy + p.tickets));
    else if (chosen.has(p.name) || p.drainSince !== undefined) costs.set(p.name, DELETION_COST.victim);
    else costs.set(p.name, DELETION_COST.idle);
  }
  return costs;
}
