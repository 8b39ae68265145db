/**
 * The external scaler's metrics, on a Registry passed in. Labels are
 * bounded: `method` and `outcome` are closed sets.
 */
import { Counter, Gauge, type Registry } from "prom-client";

export type ScalerMethod = "IsActive" | "StreamIsActive" | "GetMetricSpec" | "GetMetrics";
export type ScalerOutcome = "ok" | "not_found" | "invalid";

export const SCALER_METRIC_NAMES = {
  requests: "ticketplane_keda_requests_total",
  streams: "ticketplane_keda_open_streams",
} as const;

export interface ScalerMetrics {
  request(method: ScalerMethod, outcome: ScalerOutcome): void;
  /** The number of open StreamIsActive calls. */
  streams(open: number): void;
}

export function createScalerMetrics(registry: Registry): ScalerMetrics {
  const requests = new Counter({
    name: SCALER_METRIC_NAMES.requests,
    help: "KEDA external scaler calls by method and outcome (ok, not_found: unknown app, invalid: malformed request).",
    labelNames: ["method", "outcome"],
    registers: [registry],
  });
  const streams = new Gauge({ name: SCALER_METRIC_NAMES.streams, help: "Open StreamIsActive calls from KEDA.", registers: [registry] });
  return {
    request: (method, outcome) => requests.inc({ method, outcome }),
    streams: (open) => streams.set(open),
  };
}
