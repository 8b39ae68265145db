/**
 * The upper bound of every count and duration a config may set, each with
 * the reason its rule text gives. Without them, values validate that the
 * ticket token (issue and expiry times as 48-bit milliseconds, the slot as a
 * 16-bit number) or the ledger cannot hold, and fail only when the first
 * ticket is issued: `maxLifetime: 80000000h` is a typo to report, not a
 * setting. Keys are the fields' names as docs/config.md lists them; the
 * docs test checks that each row states its bound and reason.
 *
 * Ports (1–65535) and `canary.weight` (0–100) are ranges by nature and are
 * not listed here.
 */
import { formatDuration } from "./duration.js";

/** A limit and the reason for it. Durations are in milliseconds. */
export interface Bound {
  readonly value: number;
  readonly why: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const MONTH: Bound = { value: 30 * DAY_MS, why: "30 days; no app needs a longer wait, timeout or window, so more is a typo" };
const PODS: Bound = { value: 10_000, why: "each pod is a cluster and its endpoints, pushed to every gateway" };
const PER_CLIENT: Bound = { value: 100_000, why: "0 means no bound; a higher bound bounds nothing" };
const STEP: Bound = { value: 10_000, why: "a step never exceeds maxPods, itself at most 10000" };

/** Integers. */
export const COUNT_BOUNDS = {
  ticketsPerPod: { value: 1000, why: "each slot is a ledger record and a 16-bit number in its ticket; more users on one pod is a typo" },
  minPods: PODS,
  maxPods: PODS,
  spareTickets: { value: 100_000, why: "each spare slot is capacity kept running; more is a typo" },
  "queue.maxLength": { value: 100_000, why: "each waiting user is held in memory and in every ledger save" },
  "limits.ticketsPerClient": PER_CLIENT,
  "limits.queuePerClient": PER_CLIENT,
  "scaleUp.pods": STEP,
  "scaleDown.pods": STEP,
  "clientAddress.trustedHops": { value: 10, why: "more than ten proxies in front of the gateway is a mistake, not a network" },
} as const satisfies Readonly<Record<string, Bound>>;

/** Durations, in milliseconds. */
export const DURATION_BOUNDS = {
  podCooldown: MONTH,
  "ticket.probation": MONTH,
  "ticket.idleTimeout": MONTH,
  "ticket.maxLifetime": { value: 365 * DAY_MS, why: "365 days; a year outlasts any session, and a ticket's expiry must fit its token's 48-bit milliseconds" },
  "ticket.connectionTimeout": MONTH,
  "queue.retryAfter": { value: HOUR_MS, why: "the waiting room refreshes this often; a user told to come back later has left" },
  "queue.reservation": MONTH,
  drainTimeout: MONTH,
  "scaleUp.period": MONTH,
  "scaleUp.stabilizationWindow": MONTH,
  "scaleDown.period": MONTH,
  "scaleDown.stabilizationWindow": MONTH,
  "scaling.increaseCooldown": MONTH,
  "scaling.decreaseCooldown": MONTH,
  "resolver.holdTimeout": { value: HOUR_MS, why: "a request held longer has been given up by its client" },
  "resolver.waitingPageAfter": { value: HOUR_MS, why: "a page held longer has been given up by its user" },
  "gateway.authzTimeout": { value: 60_000, why: "Envoy holds each request this long when Check does not answer; Check answers in milliseconds" },
} as const satisfies Readonly<Record<string, Bound>>;

/** Numbers that may have a fraction. */
export const NUMBER_BOUNDS = {
  "scaling.target": { value: 1e9, why: "a per-pod target beyond a billion is a unit mistake" },
  "scaling.tolerance": { value: 1, why: "a ratio: 1 would ignore every change up to doubling" },
} as const satisfies Readonly<Record<string, Bound>>;

/** `ticket.connectionTimeout`'s lower bound. */
export const CONNECTION_TIMEOUT_FLOOR: Bound = {
  value: 5_000,
  why: "gateways report open connections every second; a shorter timeout would count a live WebSocket as closed after a few late reports",
};

/** The rule text of a count's upper bound: `≤ 1000 (why)`. */
export function countBoundText(b: Bound): string {
  return `≤ ${b.value} (${b.why})`;
}

/** The rule text of a number's upper bound: `≤ 1 (why)`. */
export function numberBoundText(b: Bound): string {
  return `≤ ${b.value} (${b.why})`;
}

/** The rule text of a duration's bound: `≤ 720h (why)`, or `≥ 5s (why)` for a lower one. */
export function durationBoundText(b: Bound, side: "≤" | "≥" = "≤"): string {
  return `${side} ${formatDuration(b.value)} (${b.why})`;
}
