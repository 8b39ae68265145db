/**
 * The resolver's cold-start metrics, on the registry it is given.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export const DROP_REASONS = ["timeout", "queue_full", "client_gone", "upstream_refused", "upstream_failed", "stopping"] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface ResolverMetrics {
  /** Seconds a request was held before it was released or dropped, by outcome. */
  readonly held: Histogram<"outcome">;
  readonly queueLength: Gauge<"app">;
  readonly dropped: Counter<"reason">;
  /** From the first held request of a cold start to the probe that found the app serving. */
  readonly toReady: Histogram;
  /** From the first held request of a cold start to the first byte of its answer. */
  readonly toFirstByte: Histogram;
  readonly waitingPages: Counter;
  readonly forwarded: Counter<"kind">;
}

const COLD_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

export function createResolverMetrics(registry: Registry): ResolverMetrics {
  const registers = [registry];
  return {
    held: new Histogram({ name: "ticketplane_resolver_held_seconds", help: "Seconds a request was held by the resolver, by outcome (released, waiting_page, or a drop reason).", labelNames: ["outcome"], buckets: COLD_BUCKETS, registers }),
    queueLength: new Gauge({ name: "ticketplane_resolver_queue_length", help: "Requests the resolver holds now, per app.", labelNames: ["app"], registers }),
    dropped: new Counter({ name: "ticketplane_resolver_dropped_total", help: "Held requests the resolver did not forward, by reason.", labelNames: ["reason"], registers }),
    toReady: new Histogram({ name: "ticketplane_resolver_cold_start_ready_seconds", help: "Seconds from the first held request of a cold start to the probe that found the app serving.", buckets: COLD_BUCKETS, registers }),
    toFirstByte: new Histogram({ name: "ticketplane_resolver_cold_start_first_byte_seconds", help: "Seconds from the first held request of a cold start to the first byte forwarded back to it.", buckets: COLD_BUCKETS, registers }),
    waitingPages: new Counter({ name: "ticketplane_resolver_waiting_pages_total", help: "Page navigations answered with the waiting page.", registers }),
    forwarded: new Counter({ name: "ticketplane_resolver_forwarded_total", help: "Requests the resolver forwarded, by kind (http, upgrade) .", labelNames: ["kind"], registers }),
  };
}
