/**
 * The reconciler's metrics, on a Registry passed in (registered once per
 * registry). Labels are bounded: `result` and `direction` are closed sets.
 */
import type { Counter} from "prom-client";
import { Gauge, Histogram, type Registry } from "prom-client";
import { sharedCounter } from "../common/metrics.js";

export type ReconcileResult = "success" | "error" | "superseded" | "skipped";

export interface ReconcileMetrics {
  readonly reconciles: Counter<"result">;
  readonly duration: Histogram;
  readonly scaleWrites: Counter<"direction">;
  readonly conflicts: Counter;
  readonly queueDepth: Gauge;
}

export function reconcileMetrics(registry: Registry): ReconcileMetrics {
  const existing = registry.getSingleMetric("ticketplane_reconcile_duration_seconds");
  const duration =
    existing instanceof Histogram
      ? existing
      : new Histogram({ name: "ticketplane_reconcile_duration_seconds", help: "Time one reconcile of one app takes (observe, plan, apply).", buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] });
  const depth = registry.getSingleMetric("ticketplane_reconcile_queue_depth");
  return {
    reconciles: sharedCounter(registry, { name: "ticketplane_reconciles_total", help: "Reconciles of an app, by result (superseded: replicas changed under a scale write; skipped: not the leader).", labelNames: ["result"] }),
    duration,
    scaleWrites: sharedCounter(registry, { name: "ticketplane_scale_writes_total", help: "Replica changes written through the scale subresource, by direction.", labelNames: ["direction"] }),
    conflicts: sharedCounter(registry, { name: "ticketplane_scale_conflicts_total", help: "Scale writes that met a 409 Conflict and re-read.", labelNames: [] }),
    queueDepth: depth instanceof Gauge ? depth : new Gauge({ name: "ticketplane_reconcile_queue_depth", help: "Apps waiting to be reconciled now.", registers: [registry] }),
  };
}
