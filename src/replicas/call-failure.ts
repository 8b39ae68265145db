/**
 * What a peer call that did not come back OK came to, from the caller's
 * side: the call rejects with an error whose gRPC `code` (a PeerCallError,
 * shaped as grpc-js's ServiceError) says whether the
 * owner was late, not there, or answered with a refusal. One mapping for
 * every caller (forwarded admissions, forwarded wakes), so their metrics
 * mean the same.
 */
import { status, type ServiceError } from "@grpc/grpc-js";

/** Why a peer call failed: past its deadline, the owner not reachable (or the channel closed), or the owner refused it. */
export type CallFailure = "deadline" | "unreachable" | "refused_by_owner";

export function callFailureOf(err: unknown): CallFailure {
  const code = (err as Partial<ServiceError> | undefined)?.code;
  if (code === status.DEADLINE_EXCEEDED) return "deadline";
  if (code === status.UNAVAILABLE || code === status.CANCELLED) return "unreachable";
  return "refused_by_owner";
}

/** `CODE: details` of a gRPC call error, else the error as a string (for logs). */
export function describeCallFailure(err: unknown): string {
  const e = err as Partial<ServiceError> | undefined;
  return e?.code === undefined ? String(err) : `${status[e.code]}: ${e.details ?? ""}`;
}
