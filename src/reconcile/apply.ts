/**
 * Applies a plan through the ports, in the plan's order, acting only while
 * this replica leads. A scale write that meets a 409 re-reads the scale: if
 * the replicas are still what the plan started from, it writes again at the
 * new resourceVersion (a status or annotation change moved it on); if
 * someone else changed them, it stops and the next run adopts their value.
 */
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { Action } from "./plan.js";
import type { ReconcilePorts } from "./ports.js";

/** Writes tried per scale action (the first and the re-reads after a 409). */
export const SCALE_ATTEMPTS = 3;

export interface ApplyResult {
  /** The scale actions written. */
  readonly scaled: readonly Extract<Action, { kind: "scale" }>[];
  /** A scale action was abandoned because replicas changed under it: run again now. */
  readonly superseded: boolean;
  /** 409s met and retried. */
  readonly conflicts: number;
  /** The failure that stopped the apply, after the actions before it (see `scaled`) took effect. */
  readonly error?: unknown;
}

export interface ApplyContext {
  readonly app: AppKey;
  readonly ports: ReconcilePorts;
  /** The app's spec (the route flip names its VirtualService). */
  readonly spec?: AppSpec;
  /** Checked before every write: a replica that stopped leading stops writing at once. */
  readonly isLeader: () => boolean;
}

/**
 * Applies `actions` in order and stops at the first failure, returning it
 * with what took effect before it (a scale written before a failed Event
 * is still ours: the caller must remember it, or take it for someone
 * else's). Never rejects. The caller retries the whole reconcile, which
 * re-plans from what it then observes.
 */
export async function applyPlan(ctx: ApplyContext, actions: readonly Action[]): Promise<ApplyResult> {
  const scaled: Extract<Action, { kind: "scale" }>[] = [];
  let conflicts = 0;
  try {
    for (const a of actions) {
      if (!ctx.isLeader()) throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, "not the leader: stopped acting", { app: ctx.app });
      if (a.kind === "scale") {
        const r = await writeScale(ctx, a);
        conflicts += r.conflicts;
        if (!r.written) return { scaled, superseded: true, conflicts };
        scaled.push(a);
      } else await applyOne(ctx, a);
    }
  } catch (error) {
    return { scaled, superseded: false, conflicts, error };
  }
  return { scaled, superseded: false, conflicts };
}

async function applyOne(ctx: ApplyContext, a: Exclude<Action, { kind: "scale" }>): Promise<void> {
  const { ports, app } = ctx;
  switch (a.kind) {
    case "undrain":
      return ports.draining.unmark(app, a.pod);
    case "drain":
      await ports.draining.mark(app, a.pod, { since: a.since, by: "reconciler" });
      return;
    case "costs":
      return ports.costs.set(app, a.costs);
    case "event":
      return ports.events.record(app, a.event);
    case "status":
      return ports.status.write(app, a.status);
    case "route":
      if (ports.routes === undefined || ctx.spec === undefined) throw new TicketplaneError(ERROR_CODES.INTERNAL, "a route flip was planned without a RouteSwitch", { app });
      // A 409 rejects: the work queue runs the reconcile again, which re-reads the route.
      return ports.routes.write(app, ctx.spec, a.mode, a.resourceVersion);
  }
}

/** Rejects on a failure other than a 409 that a re-read explains. */
async function writeScale(ctx: ApplyContext, a: Extract<Action, { kind: "scale" }>): Promise<{ written: boolean; conflicts: number }> {
  let resourceVersion = a.resourceVersion;
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.ports.scale.write(a.ref, a.to, resourceVersion);
      return { written: true, conflicts: attempt - 1 };
    } catch (err) {
      if (!(err instanceof TicketplaneError && err.code === ERROR_CODES.CONFLICT) || attempt >= SCALE_ATTEMPTS) throw err;
    }
    const now = await ctx.ports.scale.read(a.ref);
    if (now === undefined || now.replicas !== a.from || now.owner !== "ticketplane") return { written: false, conflicts: attempt };
    if (!ctx.isLeader()) throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, "not the leader: stopped acting", { app: ctx.app });
    resourceVersion = now.resourceVersion;
  }
}
