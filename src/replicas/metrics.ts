/**
 * The peer API's metrics, on the registry passed in. Labels are closed sets:
 * `result` (what a forwarded admission came to), `kind` (activity or acks),
 * `reason` (why a caller was refused, or why a wake did not reach the owner),
 * `call` (wake or serving).
 */
import { Histogram, type Counter, type Registry } from "prom-client";
import { sharedCounter } from "../common/metrics.js";
import type { CallFailure } from "./call-failure.js";

/** What a forwarded admission came to, on the replica that forwarded it. */
export type ForwardResult = "answered" | "owner_unknown" | "unreachable" | "deadline" | "refused_by_owner" | "bad_answer";
/** A resolver's signal to the app's owner: Wake (0 → 1) or Serving (flip the route back). */
export type WakeCall = "wake" | "serving";
/** Why a Wake or Serving call did not reach the owner, on the replica that sent it. */
export type WakeFailure = "owner_unknown" | CallFailure;
/** What the owner did with a Wake or Serving call it received (after the credential). */
export type WakeReceipt = "applied" | "not_owner" | "unknown_app";
/** Why the peer API refused a call. */
export type PeerRefusal = "missing" | "malformed" | "unknown_key" | "mismatch";

export interface ReplicaMetrics {
  readonly forwarded: Counter<"result">;
  /** Seconds from forwarding an admission to the owner's answer (answered calls only). */
  readonly forwardSeconds: Histogram;
  readonly batchesSent: Counter<"kind">;
  readonly batchesFailed: Counter<"kind">;
  /** Activity entries dropped on the sending replica (buffer full, or the owner unknown or unreachable). */
  readonly activityDropped: Counter;
  readonly authFailures: Counter<"reason">;
  /** Calls the peer API answered, by method and gRPC status name. */
  readonly served: Counter<"method" | "status">;
  /** Wake and Serving calls sent to the app's owner (each attempt, answered or not). */
  readonly wakeSent: Counter<"call">;
  /** Wake and Serving calls that did not reach the owner, by reason (owner_unknown: not sent at all). */
  readonly wakeFailed: Counter<"call" | "reason">;
  /** Wake and Serving calls received by this replica, by what it did with them. */
  readonly wakeReceived: Counter<"call" | "result">;
}

export function createReplicaMetrics(registry: Registry): ReplicaMetrics {
  const existing = registry.getSingleMetric("ticketplane_peer_forward_seconds");
  return {
    forwarded: sharedCounter(registry, { name: "ticketplane_peer_forwarded_total", help: "Admissions (issue, queue) forwarded to the app's owner, by result: answered, or failed closed (owner_unknown, unreachable, deadline, refused_by_owner, bad_answer)", labelNames: ["result"] }),
    forwardSeconds:
      existing instanceof Histogram
        ? existing
        : new Histogram({ name: "ticketplane_peer_forward_seconds", help: "Time from forwarding an admission to the owner's answer", buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25], registers: [registry] }),
    batchesSent: sharedCounter(registry, { name: "ticketplane_peer_batches_sent_total", help: "Batches sent to the app's owner: activity, or acks (gateways' ACK state)", labelNames: ["kind"] }),
    batchesFailed: sharedCounter(registry, { name: "ticketplane_peer_batches_failed_total", help: "Batches the owner did not take (unreachable, refused, deadline); their entries are dropped", labelNames: ["kind"] }),
    activityDropped: sharedCounter(registry, { name: "ticketplane_peer_activity_dropped_total", help: "Activity entries dropped before reaching the owner (buffer full, owner unknown or unreachable)", labelNames: [] }),
    authFailures: sharedCounter(registry, { name: "ticketplane_peer_auth_failures_total", help: "Calls to the peer API refused for their credential (UNAUTHENTICATED)", labelNames: ["reason"] }),
    served: sharedCounter(registry, { name: "ticketplane_peer_calls_total", help: "Calls the peer API answered, by method and status", labelNames: ["method", "status"] }),
    wakeSent: sharedCounter(registry, { name: "ticketplane_peer_wake_sent_total", help: "Wake (0 -> 1) and Serving (route back) calls a resolver on this replica sent to the app's owner, every attempt", labelNames: ["call"] }),
    wakeFailed: sharedCounter(registry, { name: "ticketplane_peer_wake_failed_total", help: "Wake and Serving calls that did not reach the app's owner, by reason: owner_unknown (not sent), unreachable, deadline, refused_by_owner; retried on the next interval", labelNames: ["call", "reason"] }),
    wakeReceived: sharedCounter(registry, { name: "ticketplane_peer_wake_received_total", help: "Wake and Serving calls from other replicas' resolvers, by result: applied, not_owner, unknown_app", labelNames: ["call", "result"] }),
  };
}
