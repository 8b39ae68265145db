/**
 * The reconciler's recent scale decisions per app, newest last, bounded: the
 * dashboard and `ticketplane status` show them with their reasons. Only the
 * decisions that were written (a scale the API accepted) are kept.
 */
import type { AppKey } from "../config/app-spec.js";
import type { ScaleDecision } from "./status.js";

/** Decisions kept per app (default). */
export const DECISIONS_KEPT = 20;

export class DecisionLog {
  readonly #byApp = new Map<AppKey, ScaleDecision[]>();
  readonly #kept: number;

  constructor(kept = DECISIONS_KEPT) {
    this.#kept = Math.max(1, kept);
  }

  record(app: AppKey, decision: ScaleDecision): void {
    const list = this.#byApp.get(app) ?? [];
    list.push(decision);
    if (list.length > this.#kept) list.splice(0, list.length - this.#kept);
    this.#byApp.set(app, list);
  }

  /** Newest last (a copy). */
  recent(app: AppKey): readonly ScaleDecision[] {
    return [...(this.#byApp.get(app) ?? [])];
  }

  /** Forgets an app that is gone. */
  forget(app: AppKey): void {
    this.#byApp.delete(app);
  }
}
