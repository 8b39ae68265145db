/**
 * The reconcile plan: observed state and memory in, actions out. Pure and
 * idempotent: planning twice from the same observation gives the same
 * actions, and applying them moves the observation to where the plan asks
 * for nothing more (level-triggered).
 *
 * Per Deployment: the policy recommends (src/tickets/scaling.ts), the rate
 * limits smooth (scale-limits.ts); a raise is one scale write; a lowering
 * is a sequence over several runs — choose the pods to go (scale-in.ts),
 * drain them, give every pod its deletion cost, and only when the chosen
 * pods are seen draining and empty (or their drain timed out) and the costs
 * are seen in place, lower replicas by exactly that many. When an HPA or a
 * KEDA ScaledObject owns replicas, only the costs and drains are done.
 * Replicas that change under us are adopted with an Event and no write for
 * one period, so two writers never loop.
 */
import { canaryTicketsPods, chooseVictims, deletionCosts, EMPTY_HISTORY, limitScale, recommend, splitByWeight } from "../tickets/index.js";
import type { Recommendation } from "../tickets/index.js";
import type { AppMemory, Observed, ObservedPod, ObservedWorkload, Role, WorkloadMemory } from "./observed.js";
import type { AppEvent, ReplicaOwner, WorkloadRef } from "./ports.js";
import type { AppStatus, Condition, ScaleDecision } from "./status.js";
import { carryTransitions } from "./status.js";
import { routeEvent, withZero, zeroStep, type RouteAction, type ZeroStep } from "./scale-to-zero.js";

export type Action =
  | { readonly kind: "undrain"; readonly pod: string }
  | { readonly kind: "drain"; readonly pod: string; readonly since: number }
  /** Only the pods whose cost changes. */
  | { readonly kind: "costs"; readonly costs: ReadonlyMap<string, number> }
  | { readonly kind: "scale"; readonly role: Role; readonly ref: WorkloadRef; readonly from: number; readonly to: number; readonly resourceVersion: string; readonly reason: string; readonly removing: readonly string[] }
  | { readonly kind: "event"; readonly event: AppEvent }
  | { readonly kind: "status"; readonly status: AppStatus }
  /** Flip the app's route (scale to zero: see scale-to-zero.ts). */
  | RouteAction;

export interface Plan {
  /** In the order they must be applied: undrain, drain, route, scale, costs, events, status. */
  readonly actions: readonly Action[];
  /** The memory to keep once the actions are applied (apply's scale step adds its own change, see afterScale). */
  readonly memory: AppMemory;
  /** Run again after this long (a cooldown, window, drain or cost that settles); undefined: only on change. */
  readonly requeueAfterMs?: number;
}

/** After costs or a drain mark are written, look again this soon if the next step waits on seeing them. */
export const SETTLE_MS = 1000;

interface WorkloadPlan {
  readonly actions: Action[];
  readonly memory: WorkloadMemory;
  readonly times: number[];
  readonly costs: Map<string, number>;
  readonly warnings: Warning[];
  readonly limitedBy: string;
  readonly active?: { readonly ok: boolean; readonly reason: string; readonly message: string };
}

interface Warning {
  readonly key: string;
  readonly event: AppEvent;
}

/** Plans one reconcile of one app. */
export function plan(o: Observed, memory: AppMemory): Plan {
  const recs = recommendations(o);
  const parts = o.workloads.map((w) => planWorkload(o, w, memory.workloads[w.role], recs[w.role]));
  const actions: Action[] = [];
  for (const kind of ["undrain", "drain"] as const) for (const p of parts) actions.push(...p.actions.filter((a) => a.kind === kind));
  // The scale write goes before the costs: a raise is latency-critical, and a
  // lowering is planned only once the costs it needs are seen in place.
  const planned = parts.flatMap((p) => p.actions.filter((a) => a.kind === "scale"));
  const zero = zeroStep(o, planned.length > 0 && totalAfter(o, planned) === 0);
  // The route goes to the resolver first and is read back before the last replica goes.
  const scales = zero.holdScaleToZero ? planned.filter((a) => !(a.kind === "scale" && a.to < a.from)) : planned;
  if (zero.route !== undefined) actions.push(zero.route, { kind: "event", event: routeEvent(zero.route, o) });
  actions.push(...scales);
  const costs = changedCosts(o.pods, parts);
  if (costs.size > 0) actions.push({ kind: "costs", costs });
  for (const a of scales) if (a.kind === "scale") actions.push({ kind: "event", event: scaleEvent(a) });
  const warnings = [...parts.flatMap((p) => p.warnings), ...(zero.warning === undefined ? [] : [zero.warning])];
  const warned = warnings.map((w) => w.key);
  for (const w of warnings) if (!memory.warned.includes(w.key)) actions.push({ kind: "event", event: w.event });
  actions.push(...parts.flatMap((p) => p.actions.filter((a) => a.kind === "event")));
  const lastScale = scales.length > 0 ? decisionOf(scales[scales.length - 1], o.now) : memory.lastScale;
  const status = statusOf(o, memory, parts, recs, lastScale, zero);
  if (memory.status === undefined || JSON.stringify(memory.status) !== JSON.stringify(status)) actions.push({ kind: "status", status });
  const workloads: Partial<Record<Role, WorkloadMemory>> = {};
  o.workloads.forEach((w, i) => {
    const m = parts[i]?.memory;
    if (m !== undefined) workloads[w.role] = m;
  });
  const times = parts.flatMap((p) => p.times).filter((t) => t > o.now);
  if (zero.settle || costs.size > 0 || actions.some((a) => a.kind === "drain" || a.kind === "undrain")) times.push(o.now + SETTLE_MS);
  const next: AppMemory = { workloads, warned, status, ...(lastScale !== undefined ? { lastScale } : {}) };
  return { actions, memory: next, ...(times.length > 0 ? { requeueAfterMs: Math.min(...times) - o.now } : {}) };
}

/** The memory after a scale action was applied: its replicas are ours, its change counts against the rate, its pods are on their way out, it is the last decision. */
export function afterScale(memory: AppMemory, action: Extract<Action, { kind: "scale" }>, at: number): AppMemory {
  const w = memory.workloads[action.role] ?? { history: EMPTY_HISTORY, removing: [] };
  const history = { recommendations: w.history.recommendations, changes: [...w.history.changes, { at, from: action.from, to: action.to }] };
  const next: WorkloadMemory = { ...w, history, baseline: action.to, removing: [...w.removing, ...action.removing] };
  return { ...memory, workloads: { ...memory.workloads, [action.role]: next }, lastScale: decisionOf(action, at) ?? memory.lastScale };
}

type Recs = Partial<Record<Role, Recommendation>>;

/** The policy's recommendation for each Deployment (a canary app splits by weight). */
function recommendations(o: Observed): Recs {
  const { spec } = o;
  const stable = o.workloads.find((w) => w.role === "stable");
  const canary = o.workloads.find((w) => w.role === "canary");
  const used = (role?: Role) => o.pods.filter((p) => role === undefined || p.role === role).reduce((n, p) => n + p.tickets, 0);
  const current = (stable?.scale?.replicas ?? 0) + (canary?.scale?.replicas ?? 0);
  const total = withZero(o, recommend({ ...spec, scaling: spec.scaling, used: used(), queued: o.queued, current, ...(o.metric !== undefined ? { metric: o.metric } : {}) }));
  if (canary === undefined || spec.canary === undefined) return { stable: total };
  if (!total.ok) return { stable: total, canary: total };
  const shares =
    spec.scaling.policy === "tickets"
      ? canaryTicketsPods({ usedStable: used("stable"), usedCanary: used("canary"), queued: o.queued, spareTickets: spec.spareTickets, ticketsPerPod: spec.ticketsPerPod, weight: spec.canary.weight, minPods: spec.minPods, maxPods: spec.maxPods })
      : splitByWeight(total.desired, spec.canary.weight);
  const why = `${total.reason}; canary weight ${spec.canary.weight} %`;
  return {
    stable: { ok: true, desired: shares.stable, unclamped: shares.stable, reason: `${why} → ${shares.stable} stable` },
    canary: { ok: true, desired: shares.canary, unclamped: shares.canary, reason: `${why} → ${shares.canary} canary` },
  };
}

function planWorkload(o: Observed, w: ObservedWorkload, previous: WorkloadMemory | undefined, rec: Recommendation | undefined): WorkloadPlan {
  const base: WorkloadMemory = previous ?? { history: EMPTY_HISTORY, removing: [] };
  const listed = new Set(o.pods.map((p) => p.name));
  const removing = base.removing.filter((p) => listed.has(p));
  const pods = o.pods.filter((p) => p.role === w.role && !removing.includes(p.name));
  const out: WorkloadPlan = { actions: [], memory: { ...base, removing }, times: [], costs: deletionCosts(pods, []), warnings: [], limitedBy: "" };
  const { deployment } = w.ref;
  if (w.scale === undefined) {
    const message = `Deployment ${w.ref.namespace}/${deployment} does not exist; nothing to scale`;
    return { ...out, warnings: [{ key: `DeploymentMissing/${deployment}`, event: { type: "Warning", reason: "DeploymentMissing", message } }], active: { ok: false, reason: "DeploymentMissing", message } };
  }
  const current = w.scale.replicas;
  const actions: Action[] = [];
  let memory = noticeOutsideChange(o, w, out.memory, current, actions);
  if (rec === undefined || !rec.ok) {
    const message = rec?.reason ?? "no recommendation";
    return { ...out, actions, memory, warnings: [{ key: `MetricUnavailable/${deployment}`, event: { type: "Warning", reason: "MetricUnavailable", message } }], active: { ok: false, reason: "MetricUnavailable", message } };
  }
  const owned = w.scale.owner === "ticketplane";
  const lim = limitScale({ now: o.now, current, recommended: rec.desired, scaleUp: o.spec.scaleUp, scaleDown: o.spec.scaleDown, increaseCooldownMs: o.spec.scaling.increaseCooldownMs, decreaseCooldownMs: o.spec.scaling.decreaseCooldownMs, history: memory.history });
  memory = { ...memory, history: lim.history };
  const held = memory.holdUntil !== undefined && memory.holdUntil > o.now;
  const times: number[] = [];
  if (lim.retryAt !== undefined) times.push(lim.retryAt);
  if (held && memory.holdUntil !== undefined) times.push(memory.holdUntil);
  // Under an HPA or KEDA the owner limits its own steps; we prepare for what the policy says.
  const target = owned ? lim.desired : rec.desired;
  const ctx: StepContext = { o, w, pods, current, target, owned, held, reason: rec.reason, actions, times };
  const step = target < current ? scaleIn(ctx) : scaleOutOrSteady(ctx);
  return { actions, memory, times, costs: step.costs, warnings: step.warnings, limitedBy: held ? "replicas changed by someone else" : lim.limitedBy || step.waiting, active: activeOf(w.scale.owner, deployment, rec.reason) };
}

/**
 * Replicas that differ from the last ones known to be ours were changed by
 * someone else: one Event, their value adopted, no write for one period.
 * The first run adopts what it finds, silently.
 */
function noticeOutsideChange(o: Observed, w: ObservedWorkload, memory: WorkloadMemory, current: number, actions: Action[]): WorkloadMemory {
  if (memory.baseline === undefined) return { ...memory, baseline: current };
  if (memory.baseline === current) return memory;
  const holdUntil = o.now + Math.max(o.spec.scaleUp.periodMs, o.spec.scaleDown.periodMs);
  const message = `replicas of ${w.ref.deployment} changed from ${memory.baseline} to ${current} by someone else; adopting ${current}, no change before ${new Date(holdUntil).toISOString()}`;
  actions.push({ kind: "event", event: { type: "Normal", reason: "ReplicasChangedExternally", message } });
  return { ...memory, baseline: current, holdUntil };
}

function activeOf(owner: ReplicaOwner, deployment: string, reason: string): NonNullable<WorkloadPlan["active"]> {
  if (owner === "ticketplane") return { ok: true, reason: "Ticketplane", message: `ticketplane sets the replicas of ${deployment}: ${reason}` };
  const who = owner === "hpa" ? { reason: "HorizontalPodAutoscaler", name: "an HPA" } : { reason: "KedaScaledObject", name: "a KEDA ScaledObject" };
  return { ok: true, reason: who.reason, message: `${who.name} sets the replicas of ${deployment}; ticketplane sets deletion costs and drains` };
}

interface StepContext {
  readonly o: Observed;
  readonly w: ObservedWorkload;
  readonly pods: readonly ObservedPod[];
  readonly current: number;
  readonly target: number;
  readonly owned: boolean;
  readonly held: boolean;
  readonly reason: string;
  readonly actions: Action[];
  readonly times: number[];
}

interface StepResult {
  readonly costs: Map<string, number>;
  readonly warnings: Warning[];
  /** Why the lowering waits, if it does. */
  readonly waiting: string;
}

/** Raise (or hold): our drained pods are capacity again, then one scale write. */
function scaleOutOrSteady(c: StepContext): StepResult {
  for (const p of c.pods) if (p.drainedBy === "reconciler") c.actions.push({ kind: "undrain", pod: p.name });
  if (c.target > c.current && c.owned && !c.held && c.w.scale !== undefined) {
    c.actions.push({ kind: "scale", role: c.w.role, ref: c.w.ref, from: c.current, to: c.target, resourceVersion: c.w.scale.resourceVersion, reason: c.reason, removing: [] });
  }
  const undrained = c.pods.map((p) => (p.drainedBy === "reconciler" ? withoutDrain(p) : p));
  return { costs: deletionCosts(undrained, []), warnings: [], waiting: "" };
}

function withoutDrain(p: ObservedPod): ObservedPod {
  const { drainSince: _since, drainedBy: _by, ...rest } = p;
  return { ...rest, draining: false };
}

/** Lowering: choose, drain, cost, and lower by the pods that may go now. */
function scaleIn(c: StepContext): StepResult {
  const { o } = c;
  const choice = chooseVictims({ pods: c.pods, count: c.current - c.target, now: o.now, podCooldownMs: o.spec.podCooldownMs, drainTimeoutMs: o.spec.drainTimeoutMs, allowBusy: o.spec.scaling.policy !== "tickets" });
  if (choice.blockedBy !== undefined) {
    // Nothing may go: keep every pod taking tickets rather than drain pods that cannot be removed.
    const steady = scaleOutOrSteady({ ...c, target: c.current });
    const warning: Warning = { key: `ScaleInBlocked/${c.w.ref.deployment}/${choice.blockedBy}`, event: { type: "Warning", reason: "ScaleInBlocked", message: `scale-in of ${c.w.ref.deployment} waits: ${choice.blockedBy}` } };
    return { ...steady, warnings: [warning], waiting: choice.blockedBy };
  }
  const victims = new Set(choice.victims);
  for (const p of c.pods) if (p.drainedBy === "reconciler" && !victims.has(p.name)) c.actions.push({ kind: "undrain", pod: p.name });
  markDraining(c, victims);
  if (choice.recheckAt !== undefined) c.times.push(choice.recheckAt);
  const costs = deletionCosts(c.pods.map((p) => (p.drainedBy === "reconciler" && !victims.has(p.name) ? withoutDrain(p) : p)), choice.victims, choice.removable);
  const warnings: Warning[] = [];
  if (choice.removable.length === 0) return { costs, warnings, waiting: choice.victims.length === 0 ? "no pod may go yet (busy, or within podCooldown)" : "the chosen pods are draining" };
  const inPlace = c.pods.every((p) => p.cost === costs.get(p.name));
  if (!inPlace) return { costs, warnings, waiting: "deletion costs are being set" };
  if (c.owned && !c.held && c.w.scale !== undefined) {
    const to = c.current - choice.removable.length;
    c.actions.push({ kind: "scale", role: c.w.role, ref: c.w.ref, from: c.current, to, resourceVersion: c.w.scale.resourceVersion, reason: `${c.reason}; removing ${choice.removable.join(", ")}`, removing: choice.removable });
  }
  return { costs, warnings, waiting: "" };
}

/** Marks the chosen pods that are not marked yet (a not-ready pod takes no tickets and needs none). */
function markDraining(c: StepContext, victims: ReadonlySet<string>): void {
  for (const p of c.pods) {
    if (!victims.has(p.name) || p.drainSince !== undefined || !p.ready) continue;
    c.actions.push({ kind: "drain", pod: p.name, since: c.o.now });
    c.actions.push({ kind: "event", event: { type: "Normal", reason: "Draining", message: `pod ${p.name} drains before scale-in of ${c.w.ref.deployment} (no new tickets; ${p.tickets} held)` } });
  }
}

/** The costs that differ from what the pods carry now. */
function changedCosts(pods: readonly ObservedPod[], parts: readonly WorkloadPlan[]): Map<string, number> {
  const wanted = new Map<string, number>();
  for (const p of parts) for (const [pod, cost] of p.costs) wanted.set(pod, cost);
  const changed = new Map<string, number>();
  for (const p of pods) {
    const cost = wanted.get(p.name);
    if (cost !== undefined && cost !== p.cost) changed.set(p.name, cost);
  }
  return changed;
}

function scaleEvent(a: Extract<Action, { kind: "scale" }>): AppEvent {
  const up = a.to > a.from;
  return { type: "Normal", reason: up ? "ScaledUp" : "ScaledDown", message: `scaled ${a.ref.deployment} from ${a.from} to ${a.to}: ${a.reason}` };
}

function decisionOf(a: Action | undefined, now: number): ScaleDecision | undefined {
  if (a?.kind !== "scale") return undefined;
  // Same time and text whether the plan assumes the write or apply records it.
  return { time: new Date(now).toISOString(), deployment: a.ref.deployment, from: a.from, to: a.to, reason: a.reason };
}

/** Replicas of every Deployment once `scales` are written. */
function totalAfter(o: Observed, scales: readonly Action[]): number {
  return o.workloads.reduce((n, w) => {
    const s = scales.find((a) => a.kind === "scale" && a.role === w.role);
    return n + (s?.kind === "scale" ? s.to : (w.scale?.replicas ?? 0));
  }, 0);
}

function statusOf(o: Observed, memory: AppMemory, parts: readonly WorkloadPlan[], recs: Recs, lastScale: ScaleDecision | undefined, zero: ZeroStep): AppStatus {
  const readyPods = o.pods.filter((p) => p.ready).length;
  const stable = o.workloads.find((w) => w.role === "stable");
  const desired = o.workloads.reduce((n, w) => {
    const r = recs[w.role];
    return n + (r?.ok === true ? r.desired : (w.scale?.replicas ?? 0));
  }, 0);
  const nowIso = new Date(o.now).toISOString();
  const conditions = conditionsOf(readyPods, parts, nowIso);
  if (zero.condition !== undefined) conditions.push(cond("ScaleToZeroReady", zero.condition.ok ? "True" : "False", zero.condition.reason, zero.condition.message, nowIso));
  return {
    pods: o.pods.length,
    readyPods,
    usedSlots: o.pods.reduce((n, p) => n + p.tickets, 0),
    freeSlots: o.free,
    queueLength: o.queued,
    mode: o.route?.kind === "found" ? o.route.mode : readyPods === 0 && (stable?.scale?.replicas ?? 0) === 0 ? "Proxy" : "Serve",
    policy: o.spec.scaling.policy,
    desiredPods: desired,
    replicasOwner: stable?.scale?.owner ?? "ticketplane",
    ...(lastScale !== undefined ? { lastScale } : {}),
    conditions: carryTransitions(memory.status?.conditions, conditions),
  };
}

function conditionsOf(readyPods: number, parts: readonly WorkloadPlan[], nowIso: string): Condition[] {
  const inactive = parts.find((p) => p.active?.ok === false)?.active;
  const active = inactive ?? parts[0]?.active ?? { ok: false, reason: "NoDeployment", message: "the app names no Deployment" };
  const limited = parts.map((p) => p.limitedBy).filter((l) => l !== "");
  return [
    readyPods > 0 ? cond("Ready", "True", "PodsServing", `${readyPods} pod(s) ready`, nowIso) : cond("Ready", "False", "NoReadyPod", "no pod is ready", nowIso),
    cond("ScalingActive", active.ok ? "True" : "False", active.reason, active.message, nowIso),
    limited.length > 0 ? cond("ScalingLimited", "True", "Limited", limited.join("; "), nowIso) : cond("ScalingLimited", "False", "DesiredWithinRange", "replicas follow the policy", nowIso),
  ];
}

function cond(type: Condition["type"], status: Condition["status"], reason: string, message: string, at: string): Condition {
  return { type, status, reason, message, lastTransitionTime: at };
}
