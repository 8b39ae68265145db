/**
 * The figures the formula and hpa policies scale on, read from the ticket
 * core's views (tickets held, open WebSockets) and from a request rate
 * (Check requests per second, recorded by whoever sees the requests).
 */
import type { Clock } from "../common/clock.js";
import type { AppKey, ScalingMetric } from "../config/app-spec.js";
import type { TicketViews } from "../tickets/ports.js";
import type { RequestRate } from "../tickets/request-rate.js";
import type { MetricSource } from "./ports.js";

export function ticketMetrics(views: Pick<TicketViews, "figures" | "tickets">, clock: Clock, rate?: RequestRate): MetricSource {
  return {
    value(app: AppKey, metric: ScalingMetric): number | undefined {
      switch (metric) {
        case "tickets":
          return views.figures(app)?.used;
        case "connections":
          return views.tickets(app).reduce((n, t) => n + t.openConnections, 0);
        case "requestsPerSecond":
          return rate?.perSecond(app, clock.now());
      }
    },
  };
}
