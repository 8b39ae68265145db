/**
 * AppSpec: the one validated description of a ticketed application, whatever
 * its source (TicketedApp resource, k8sTicket-annotated Deployment, local
 * YAML file). Immutable once parsed; durations are milliseconds.
 */
export type AppSource = "TicketedApp" | "k8sTicket" | "file";

/** `namespace/name`: the key of an app everywhere (ledger, metrics, xDS names). */
export type AppKey = string;

export function appKey(namespace: string, name: string): AppKey {
  return `${namespace}/${name}`;
}

/**
 * A backend listed in a config file (standalone mode): no Kubernetes behind
 * it. Observed pods are not part of the AppSpec, which describes the app;
 * they travel separately (LocalConfig.pods, an inventory's observations).
 */
export interface PodEntry {
  readonly name: string;
  /** IPv4/IPv6 literal (never a host name: Envoy's EDS resolves none). */
  readonly host: string;
  readonly port: number;
  readonly ready: boolean;
}

export interface AppSpec {
  readonly source: AppSource;
  readonly namespace: string;
  readonly name: string;
  /** Target Deployment (Kubernetes) — absent in standalone mode. */
  readonly deployment?: string;
  /** Headless Service through which pods are dialled (Kubernetes). */
  readonly service?: string;
  /** Port the app listens on inside the pod (k8sTicket: ipb-halle.de/k8sTicket.port, default 80). */
  readonly podPort: number;
  /** Path the app serves inside the pod; requests are rewritten to it (default "/"). */
  readonly podPath: string;
  /** External match: requests under this prefix belong to the app (default "/<name>/"). */
  readonly pathPrefix: string;
  /** Optional external host match (virtual host domain); when set the app matches on host and prefix. */
  readonly host?: string;
  /** Which gateway node group serves this app (default "default"). */
  readonly gateway: string;
  readonly ticketsPerPod: number;
  readonly minPods: number;
  readonly maxPods: number;
  readonly spareTickets: number;
  /** A pod with no active ticket for this long is removed (k8sTicket Podcooldown, default 10 s). */
  readonly podCooldownMs: number;
  readonly ticket: TicketSettings;
  readonly queue: QueueSettings;
  readonly limits: ClientLimits;
  readonly drainTimeoutMs: number;
  readonly scaleUp: RateSettings;
  readonly scaleDown: RateSettings;
  /** How the desired pod count is computed (the scaling policy and its parameters). */
  readonly scaling: ScalingSettings;
  readonly canary?: CanarySpec;
  readonly resolverHoldTimeoutMs: number;
  /** A page navigation (Accept: text/html) held longer than `resolverWaitingPageAfterMs` gets the waiting page instead of being held on. */
  readonly resolverWaitingPage: boolean;
  readonly resolverWaitingPageAfterMs: number;
  /** The Istio VirtualService (in the app's namespace) whose `ticketplane-<app>` route the reconciler flips; default: the app's name. */
  readonly resolverVirtualService?: string;
  /**
   * k8sTicket source only: the proxy port the Deployment named in
   * `ipb-halle.de/k8sticket.deployment.port`. Kept for migration reports; ticketplane
   * serves through Envoy and does not listen on it.
   */
  readonly legacyProxyPort?: number;
}

export interface TicketSettings {
  /**
   * A new ticket is on probation until its cookie comes back (the first
   * request that presents it, or its WebSocket opening); a ticket still on
   * probation this long after issue is released. Real browsers confirm within
   * a second; a client that never returns holds a slot for seconds, not for
   * the idle timeout.
   */
  readonly probationMs: number;
  /** A ticket with no activity for this long is released. */
  readonly idleTimeoutMs: number;
  /** A ticket is released this long after issue, whatever its activity. */
  readonly maxLifetimeMs: number;
  readonly cookieName: string;
  readonly queueCookieName: string;
  /** Set `Secure` on cookies (default true; turn off only for plain-HTTP development). */
  readonly cookieSecure: boolean;
  /**
   * An open WebSocket the access log has not reported for this long counts as
   * closed (its close entry was lost). Gateways report open connections every
   * second.
   */
  readonly connectionTimeoutMs: number;
}

/** Per-client bounds, a client being an address (see the config's `clientAddress`). 0 means no bound. */
export interface ClientLimits {
  /** Tickets one client may hold in this app at once. */
  readonly ticketsPerClient: number;
  /** Queue entries one client may hold in this app at once. */
  readonly queuePerClient: number;
}

export interface QueueSettings {
  /** At most this many users wait; more are refused with 503 and no position. */
  readonly maxLength: number;
  /** Retry-After the waiting room sends, and its refresh interval. */
  readonly retryAfterMs: number;
  /** A freed slot is held for the first waiting client that has come back this long before it goes to the next. */
  readonly reservationMs: number;
}

export interface RateSettings {
  /** At most this many pods added (or removed) per period. */
  readonly pods: number;
  readonly periodMs: number;
  /** Desired-pod recommendations are smoothed over this window. */
  readonly stabilizationMs: number;
}

/**
 * The scaling policies (src/tickets/scaling.ts):
 * - tickets  k8sTicket's: `ceil((used + queued + spareTickets) / ticketsPerPod)`;
 * - formula  Kapacitor's K8sAutoscale node: `ceil(metric / target)`;
 * - hpa      the HorizontalPodAutoscaler's: `ceil(current × (metric / current) / target)`, within `tolerance`.
 */
export type ScalingPolicy = "tickets" | "formula" | "hpa";

/**
 * What `formula` and `hpa` measure, an app-wide total: Check requests per
 * second, tickets held, or open WebSockets. `target` is its value per pod.
 */
export type ScalingMetric = "requestsPerSecond" | "tickets" | "connections";

export interface ScalingSettings {
  readonly policy: ScalingPolicy;
  /** formula and hpa only. */
  readonly metric: ScalingMetric;
  /** formula and hpa only: the metric's wanted value per pod (> 0). */
  readonly target: number;
  /** After an increase, no further increase for this long (Kapacitor's increaseCooldown). */
  readonly increaseCooldownMs: number;
  /** After a decrease, no further decrease for this long (Kapacitor's decreaseCooldown). */
  readonly decreaseCooldownMs: number;
  /** hpa only: a metric/target ratio within 1 ± tolerance changes nothing (the HPA's 10 %). */
  readonly tolerance: number;
}

export interface CanarySpec {
  readonly deployment: string;
  /** Percentage of new tickets that go to canary pods, 0–100. */
  readonly weight: number;
}

/** One validation failure: the field's path, the value found and the rule it broke. */
export interface SpecError {
  readonly path: string;
  readonly value: unknown;
  readonly rule: string;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly SpecError[] };

export function formatSpecError(e: SpecError): string {
  return `${e.path}: ${JSON.stringify(e.value) ?? "undefined"} — ${e.rule}`;
}

/** Defaults, k8sTicket's where it documents one. */
export const DEFAULTS = {
  namespace: "default",
  podPort: 80,
  podPath: "/",
  gateway: "default",
  ticketsPerPod: 1,
  minPods: 0,
  maxPods: 1,
  spareTickets: 0,
  podCooldownMs: 10_000,
  ticket: {
    probationMs: 10_000,
    idleTimeoutMs: 60_000,
    maxLifetimeMs: 12 * 3600_000,
    cookieName: "ticketplane",
    queueCookieName: "ticketplane-queue",
    cookieSecure: true,
    connectionTimeoutMs: 60_000,
  },
  queue: { maxLength: 100, retryAfterMs: 5_000, reservationMs: 10_000 },
  limits: { ticketsPerClient: 20, queuePerClient: 20 },
  drainTimeoutMs: 300_000,
  scaleUp: { pods: 4, periodMs: 15_000, stabilizationMs: 0 },
  scaleDown: { pods: 1, periodMs: 15_000, stabilizationMs: 30_000 },
  scaling: { policy: "tickets", metric: "requestsPerSecond", target: 100, increaseCooldownMs: 0, decreaseCooldownMs: 0, tolerance: 0.1 },
  resolverHoldTimeoutMs: 120_000,
  resolverWaitingPage: true,
  resolverWaitingPageAfterMs: 3_000,
} as const;
