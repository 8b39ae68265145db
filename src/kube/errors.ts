/**
 * Typed API errors. client-node 2.x throws `ApiException` (with the HTTP
 * code and the Status body) from its generated clients, plain errors from
 * fetch (connection refused, DNS, TLS), and its watch reports errors as it
 * finds them; callers should not have to tell these apart by message. Every
 * predicate takes anything thrown and never throws.
 */
import { ERROR_CODES, TicketplaneError, type ErrorCode, type ErrorContext } from "../common/errors.js";

/** A Kubernetes `Status` body, as far as we read it. */
export interface KubeStatus {
  readonly reason?: string;
  readonly message?: string;
  readonly code?: number;
  readonly details?: { readonly retryAfterSeconds?: number; readonly causes?: readonly { readonly field?: string; readonly message?: string }[] };
}

/** The HTTP status of an API error, or undefined for errors that never got one (network, TLS, parsing). */
export function statusCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { code?: unknown; statusCode?: unknown; status?: unknown; body?: unknown };
  for (const value of [e.code, e.statusCode, e.status]) {
    if (typeof value === "number" && value >= 100 && value < 600) return value;
  }
  const status = kubeStatus(error);
  return typeof status?.code === "number" ? status.code : undefined;
}

/** The Status body of an API error (client-node keeps it as `body`, parsed or as text). */
export function kubeStatus(error: unknown): KubeStatus | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  let body = (error as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  if (typeof body !== "object" || body === null) return undefined;
  return (body as { kind?: unknown }).kind === "Status" || "reason" in body ? (body) : undefined;
}

export const isConflict = (error: unknown): boolean => statusCode(error) === 409 && kubeStatus(error)?.reason !== "AlreadyExists";
export const isAlreadyExists = (error: unknown): boolean => statusCode(error) === 409 && kubeStatus(error)?.reason === "AlreadyExists";
export const isGone = (error: unknown): boolean => statusCode(error) === 410;
export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;
export const isTooManyRequests = (error: unknown): boolean => statusCode(error) === 429;
export const isForbidden = (error: unknown): boolean => statusCode(error) === 403 || statusCode(error) === 401;
export const isInvalid = (error: unknown): boolean => statusCode(error) === 422;
/** 5xx, 429 and errors without a status (the server went away): worth retrying with backoff. */
export const isRetryable = (error: unknown): boolean => {
  const code = statusCode(error);
  return code === undefined || code === 429 || code >= 500;
};

/** The wait the server asked for (Retry-After header or Status details), in ms; undefined when it named none. */
export function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as { headers?: Record<string, string> } | null)?.headers;
  const header = headers?.["retry-after"] ?? headers?.["Retry-After"];
  const seconds = header !== undefined ? Number(header) : kubeStatus(error)?.details?.retryAfterSeconds;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** One line for logs: "409 Conflict: the object has been modified…" or the network error's message. */
export function describeKubeError(error: unknown): string {
  const code = statusCode(error);
  const status = kubeStatus(error);
  if (code === undefined) return networkCause(error);
  const message = status?.message ?? (error instanceof Error ? error.message : String(error));
  return `${code}${status?.reason !== undefined ? ` ${status.reason}` : ""}: ${message}`;
}

/** Our error family for a failed API call, with the HTTP code mapped to ours, the call's context, and `retryAfterMs` when the server named a wait. */
export function toKubeError(error: unknown, context: ErrorContext): TicketplaneError {
  if (error instanceof TicketplaneError) return error;
  const code = statusCode(error);
  let ours: ErrorCode = ERROR_CODES.UNAVAILABLE;
  if (code === 409) ours = ERROR_CODES.CONFLICT;
  else if (code === 410) ours = ERROR_CODES.GONE;
  else if (code === 404) ours = ERROR_CODES.NOT_FOUND;
  else if (code === 400 || code === 422) ours = ERROR_CODES.INVALID_ARGUMENT;
  else if (code !== undefined && code < 500 && code !== 429) ours = ERROR_CODES.INTERNAL;
  // A 429's (or a 503's) Retry-After travels as context.retryAfterMs: the reconciler's work queue waits at least that long.
  const wait = retryAfterMs(error);
  return new TicketplaneError(ours, describeKubeError(error), { ...context, status: code, ...(wait === undefined ? {} : { retryAfterMs: wait }) }, { cause: error });
}

/** The network or TLS error codes fetch buries in `cause`, in words. */
const NETWORK_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is the server running, and is this its address?)",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve (DNS not answering)",
  ETIMEDOUT: "the connection timed out",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "the host is unreachable",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS: the server's certificate is self-signed and not trusted (certificate-authority in the kubeconfig?)",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS: a self-signed certificate in the server's chain is not trusted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS: the server's certificate cannot be verified against the trusted authorities",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS: the issuer of the server's certificate is not trusted",
  CERT_HAS_EXPIRED: "TLS: the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS: the server's certificate is not for this host name",
  EPROTO: "TLS: protocol error (is the server plain HTTP?)",
};

/** fetch says "fetch failed"; the reason is a code somewhere down its `cause` chain. */
export function networkCause(err: unknown): string {
  for (let e: unknown = err, depth = 0; typeof e === "object" && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string") return NETWORK_CAUSES[c] ?? `${c}: ${messageOf(e)}`;
  }
  return messageOf(err);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
