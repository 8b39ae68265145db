/**
 * The authz metrics, on a Registry passed in. The k8sTicket gauges and the
 * issued-tickets counter are read from the ticket core's figures at scrape time, so they
 * cannot drift from the ledger; per-request work is one histogram observation.
 * Labels are bounded: `app` (configured apps), `outcome` (a closed set),
 * `reason` (a closed set).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { appKey } from "../config/app-spec.js";
import type { TicketViews } from "../tickets/ports.js";
import type { AppFigures } from "../tickets/types.js";
import type { OutcomeKind } from "./decide-check.js";
import { OutcomeHistogram } from "./outcome-histogram.js";

export const METRIC_NAMES = {
  currentUsers: "k8sticket_current_users_total",
  freeTickets: "k8sticket_current_free_tickets_total",
  scaledPods: "k8sticket_scaled_pods_total",
  usersTotal: "k8sticket_users_total",
  checkDuration: "ticketplane_check_duration_seconds",
  queueLength: "ticketplane_queue_length",
  checkErrors: "ticketplane_check_errors_total",
  accessLogIgnored: "ticketplane_access_log_ignored_total",
} as const;

export type CheckMetricOutcome = OutcomeKind | "error";
export type AccessLogIgnoreReason = "undecodable" | "no_ticket" | "denied" | "unknown_app" | "stream_error";

export interface AuthzMetrics {
  /** Records one Check: its outcome and duration in seconds. */
  observeCheck(outcome: CheckMetricOutcome, seconds: number): void;
  checkError(): void;
  accessLogIgnored(reason: AccessLogIgnoreReason): void;
}

const OUTCOMES: readonly CheckMetricOutcome[] = ["valid", "issued", "queued", "full", "limited", "starting", "not_found", "unmatched", "proxied", "bad_request", "error"];

/**
 * Registers the metrics on `registry` (once per registry: prom-client rejects
 * a second registration of the same name).
 */
export function createAuthzMetrics(registry: Registry, views: Pick<TicketViews, "apps" | "figures">): AuthzMetrics {
  const registers = [registry];
  const perApp = (name: string, help: string, pick: (f: AppFigures) => number): Gauge<"app"> =>
    new Gauge({
      name,
      help,
      labelNames: ["app"],
      registers,
      collect(this: Gauge<"app">) {
        this.reset();
        forEachAppFigures(views, (app, f) => this.set({ app }, pick(f)));
      },
    });
  perApp(METRIC_NAMES.currentUsers, "The number of current users (tickets in use).", (f) => f.used);
  perApp(METRIC_NAMES.freeTickets, "The number of unoccupied tickets (free slots).", (f) => f.free);
  perApp(METRIC_NAMES.scaledPods, "The number of pods of the app.", (f) => f.pods);
  perApp(METRIC_NAMES.queueLength, "Users waiting in the queue.", (f) => f.queued);
  new Counter({
    name: METRIC_NAMES.usersTotal,
    help: "The total number of users served (tickets issued).",
    labelNames: ["app"],
    registers,
    collect(this: Counter<"app">) {
      this.reset();
      forEachAppFigures(views, (app, f) => this.inc({ app }, f.issuedTotal));
    },
  });
  // Observed on every Check: by outcome index into plain counts, not prom-client's per-call label hashing.
  const duration = new OutcomeHistogram({
    name: METRIC_NAMES.checkDuration,
    help: "Time to decide one ext_authz Check, by outcome.",
    label: "outcome",
    values: OUTCOMES,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers,
  });
  const errors = new Counter({ name: METRIC_NAMES.checkErrors, help: "Checks that failed inside ticketplane and were denied with 503.", registers });
  const ignored = new Counter({
    name: METRIC_NAMES.accessLogIgnored,
    help: "Access-log entries or streams ignored, by reason.",
    labelNames: ["reason"],
    registers,
  });
  const indexOf = new Map(OUTCOMES.map((o) => [o, duration.indexOf(o)]));
  return {
    observeCheck: (outcome, seconds) => duration.observeAt(indexOf.get(outcome) ?? -1, seconds),
    checkError: () => errors.inc(),
    accessLogIgnored: (reason) => ignored.inc({ reason }),
  };
}

/** Metrics that record nothing (tests, benches). */
export const noopAuthzMetrics: AuthzMetrics = {
  observeCheck: () => undefined,
  checkError: () => undefined,
  accessLogIgnored: () => undefined,
};

/** Calls `fn` with each app's key and current figures: the one loop every per-app metric reads at scrape time. */
function forEachAppFigures(views: Pick<TicketViews, "apps" | "figures">, fn: (app: string, figures: AppFigures) => void): void {
  for (const spec of views.apps()) {
    const app = appKey(spec.namespace, spec.name);
    const f = views.figures(app);
    if (f !== undefined) fn(app, f);
  }
}
