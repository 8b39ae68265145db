/**
 * Rate limits, stabilization and cooldowns between a policy's
 * recommendation and the replicas written, as the HorizontalPodAutoscaler's
 * `behavior` and Kapacitor's cooldowns define them. Pure: the history is a
 * value the caller keeps (per Deployment) and passes back.
 *
 * - Stabilization: a raise goes to the lowest recommendation of the
 *   `scaleUp.stabilizationWindow`, a lowering only to the highest of the
 *   `scaleDown.stabilizationWindow` (so a dip shorter than the window
 *   removes nothing).
 * - Rate: at most `scaleUp.pods` added and `scaleDown.pods` removed within
 *   any `period` (counting the changes this controller made).
 * - Cooldowns: after a raise no further raise for `increaseCooldown`, after
 *   a lowering no further lowering for `decreaseCooldown`.
 */
import type { RateSettings } from "../config/app-spec.js";

export interface ScaleHistory {
  /** Recommendations, oldest first, as long as a stabilization window may need them. */
  readonly recommendations: readonly { readonly at: number; readonly desired: number }[];
  /** Replica changes this controller made, oldest first, as long as a period or cooldown may need them. */
  readonly changes: readonly { readonly at: number; readonly from: number; readonly to: number }[];
}

export const EMPTY_HISTORY: ScaleHistory = { recommendations: [], changes: [] };

export interface LimitInput {
  readonly now: number;
  /** Replicas now. */
  readonly current: number;
  /** The policy's recommendation (already clamped to [minPods, maxPods]). */
  readonly recommended: number;
  readonly scaleUp: RateSettings;
  readonly scaleDown: RateSettings;
  readonly increaseCooldownMs: number;
  readonly decreaseCooldownMs: number;
  readonly history: ScaleHistory;
}

export interface Limited {
  /** The replicas to have now. */
  readonly desired: number;
  /** Why `desired` differs from the recommendation (empty when it does not). */
  readonly limitedBy: string;
  /** When the limit next relaxes (ms), if `desired` differs from the recommendation. */
  readonly retryAt?: number;
  /** The history with this recommendation in it, pruned. Keep it whether or not replicas change. */
  readonly history: ScaleHistory;
}

/** The replicas to have now, given a recommendation and what happened before. */
export function limitScale(input: LimitInput): Limited {
  const { now, current, recommended } = input;
  const history = prune({ recommendations: [...input.history.recommendations, { at: now, desired: recommended }], changes: input.history.changes }, now, input);
  let step = stabilize(input, history);
  if (step.desired > current) step = limitUp(input, history, step);
  else if (step.desired < current) step = limitDown(input, history, step);
  const future = step.times.filter((t) => t > now);
  const differs = step.desired !== recommended;
  const retryAt = differs && future.length > 0 ? Math.min(...future) : undefined;
  return { desired: step.desired, limitedBy: differs ? step.limitedBy : "", ...(retryAt !== undefined ? { retryAt } : {}), history };
}

interface Step {
  readonly desired: number;
  readonly limitedBy: string;
  /** When each limit in force relaxes. */
  readonly times: readonly number[];
}

/** The HPA's stabilization: up to the lowest recommendation of the up window, down to the highest of the down window. */
function stabilize(input: LimitInput, history: ScaleHistory): Step {
  const { now, current, recommended } = input;
  const up = recommended > current;
  const window = up ? input.scaleUp.stabilizationMs : input.scaleDown.stabilizationMs;
  const recs = history.recommendations.filter((r) => r.at > now - window || r.at === now);
  const values = recs.map((r) => r.desired);
  const bound = up ? Math.min(...values) : Math.max(...values);
  const desired = up ? Math.max(current, bound) : Math.min(current, bound);
  if (desired === recommended) return { desired, limitedBy: "", times: [] };
  const limitedBy = up ? `scaleUp.stabilizationWindow (lowest recommendation ${bound})` : `scaleDown.stabilizationWindow (highest recommendation ${bound})`;
  return { desired, limitedBy, times: recs.map((r) => r.at + window) };
}

function limitUp(input: LimitInput, history: ScaleHistory, step: Step): Step {
  const { now, current } = input;
  let { desired, limitedBy } = step;
  const times = [...step.times];
  const r = rateLimit(history, now, input.scaleUp, "up");
  if (current + r.room < desired) {
    desired = current + r.room;
    limitedBy = `scaleUp.pods (${input.scaleUp.pods} per ${input.scaleUp.periodMs} ms)`;
    times.push(r.relaxAt);
  }
  const last = lastChange(history, "up");
  if (desired > current && last !== undefined && last + input.increaseCooldownMs > now) {
    desired = current;
    limitedBy = "scaling.increaseCooldown";
    times.push(last + input.increaseCooldownMs);
  }
  return { desired, limitedBy, times };
}

function limitDown(input: LimitInput, history: ScaleHistory, step: Step): Step {
  const { now, current } = input;
  let { desired, limitedBy } = step;
  const times = [...step.times];
  const r = rateLimit(history, now, input.scaleDown, "down");
  if (current - r.room > desired) {
    desired = current - r.room;
    limitedBy = `scaleDown.pods (${input.scaleDown.pods} per ${input.scaleDown.periodMs} ms)`;
    times.push(r.relaxAt);
  }
  const last = lastChange(history, "down");
  if (desired < current && last !== undefined && last + input.decreaseCooldownMs > now) {
    desired = current;
    limitedBy = "scaling.decreaseCooldown";
    times.push(last + input.decreaseCooldownMs);
  }
  return { desired, limitedBy, times };
}

/** The history after this controller changed replicas `from` → `to` at `at`. */
export function recordScale(history: ScaleHistory, at: number, from: number, to: number): ScaleHistory {
  return from === to ? history : { recommendations: history.recommendations, changes: [...history.changes, { at, from, to }] };
}

function rateLimit(history: ScaleHistory, now: number, rate: RateSettings, direction: "up" | "down"): { room: number; relaxAt: number } {
  const recent = history.changes.filter((c) => c.at > now - rate.periodMs && (direction === "up" ? c.to > c.from : c.to < c.from));
  const moved = recent.reduce((sum, c) => sum + Math.abs(c.to - c.from), 0);
  const oldest = recent[0]?.at ?? now;
  return { room: Math.max(0, rate.pods - moved), relaxAt: oldest + rate.periodMs };
}

function lastChange(history: ScaleHistory, direction: "up" | "down"): number | undefined {
  for (let i = history.changes.length - 1; i >= 0; i--) {
    const c = history.changes[i];
    if (c !== undefined && (direction === "up" ? c.to > c.from : c.to < c.from)) return c.at;
  }
  return undefined;
}

/** Keeps what a window, period or cooldown may still need; the latest recommendation always stays. */
function prune(history: ScaleHistory, now: number, input: LimitInput): ScaleHistory {
  const recWindow = Math.max(input.scaleUp.stabilizationMs, input.scaleDown.stabilizationMs);
  const changeWindow = Math.max(input.scaleUp.periodMs, input.scaleDown.periodMs, input.increaseCooldownMs, input.decreaseCooldownMs);
  return {
    recommendations: history.recommendations.filter((r) => r.at > now - recWindow || r.at === now),
    changes: history.changes.filter((c) => c.at > now - changeWindow),
  };
}
