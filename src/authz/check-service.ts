/**
 * The gRPC edge of Check: CheckRequest (+ the gateway group from the call's
 * metadata) → CheckInput → decideCheck → CheckResponse. Never fails the RPC:
 * a request that cannot be decoded is a 400 denial, a bug inside the decision
 * is logged with its context, counted, and answered with a 503 denial (fail
 * closed, retryable).
 */
import type { handleUnaryCall, Metadata, sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { CheckRequest} from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { AuthorizationService, type CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { ERROR_CODES, toTicketplaneError, type ErrorContext } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { DEFAULTS, type AppKey } from "../config/app-spec.js";
import type { UnmatchedPolicy } from "../config/config-file.js";
import { GATEWAY_GROUP_HEADER } from "../routing/headers.js";
import type { CheckPorts, TicketViews } from "../tickets/ports.js";
import { AllowedResponses } from "./allowed-responses.js";
import { AppIndex } from "./app-index.js";
import { CheckAttributes, decodeCheckAttributes, type HttpAttributes } from "./check-request-codec.js";
import { internalErrorResponse, toCheckResponse } from "./check-response.js";
import { encodeCheckResponse } from "./check-response-codec.js";
import { clientAddress } from "./client-address.js";
import { type CheckInput, type CheckLimits, type CheckOutcome, type DecideContext, DEFAULT_CHECK_LIMITS, decideCheck } from "./decide-check.js";
import { type AuthzMetrics, noopAuthzMetrics } from "./metrics.js";
import { decodeOrUndecodable, UndecodableMessage } from "../common/undecodable.js";

/** What the handler gets: the wire's request as decodeCheckAttributes reads it (a CheckRequest object when called directly), or why it did not decode. */
export type IncomingCheck = CheckRequest | CheckAttributes | UndecodableMessage;

/**
 * Envoy's Authorization service definition with a deserializer that reads
 * only what Check needs and never throws, so garbage bytes get our 400
 * denial instead of an INTERNAL error, and a serializer that writes the
 * response in one pass (the same bytes as the generated encoder).
 */
export const SafeAuthorizationService = {
  check: {
    ...AuthorizationService.check,
    requestDeserialize: decodeOrUndecodable(decodeCheckAttributes),
    responseSerialize: encodeCheckResponse,
  },
} as const;

export interface CheckServiceOptions {
  /** Verify, allocate and activity, plus the app list the matcher follows. */
  readonly tickets: CheckPorts & Pick<TicketViews, "apps" | "subscribe">;
  readonly logger: Logger;
  readonly metrics?: AuthzMetrics;
  readonly limits?: CheckLimits;
  /** How clients are told apart for the per-client limits (default: the connection's source address). */
  readonly trustedHops?: number;
  /** Why Check cannot decide yet, or undefined once it can; until then Check answers 503 and allocates nothing. */
  readonly notReady?: () => string | undefined;
  /** A request of no ticketed app: 404 (`deny`, the default) or allowed with our headers stripped (`allow`). */
  readonly unmatched?: UnmatchedPolicy;
  /** Each app's route mode as the entry point routes it: "proxy" apps are allowed through untouched (DecideContext.routeMode). Absent: every app serves. */
  readonly routeMode?: (app: AppKey) => "serve" | "proxy";
  /** Called once for every Check that matched an app (the request rate the load-based scaling policies read). Must not throw. */
  readonly onAppRequest?: (app: AppKey) => void;
}

export interface CheckService {
  readonly definition: typeof SafeAuthorizationService;
  readonly implementation: UntypedServiceImplementation & { check: handleUnaryCall<IncomingCheck, CheckResponse> };
  /** Stops following the ticket core's app changes. */
  close(): void;
}

export function createCheckService(options: CheckServiceOptions): CheckService {
  const { tickets, logger } = options;
  const metrics = options.metrics ?? noopAuthzMetrics;
  const apps = new AppIndex(tickets);
  const ctx: DecideContext<CheckPorts> = { tickets, apps, limits: options.limits ?? DEFAULT_CHECK_LIMITS, ...(options.notReady === undefined ? {} : { notReady: options.notReady }), ...(options.unmatched === undefined ? {} : { unmatched: options.unmatched }), ...(options.routeMode === undefined ? {} : { routeMode: options.routeMode }) };
  const trustedHops = options.trustedHops ?? 0;

  // The common answers (a valid ticket, a new one) are written from parts encoded once per pod and app.
  const allowed = new AllowedResponses();
  const answer = (outcome: CheckOutcome, parsed: CheckInput | string, started: number): CheckResponse => {
    const response = allowed.answer(outcome) ?? toCheckResponse(outcome);
    metrics.observeCheck(outcome.kind, (performance.now() - started) / 1000);
    if ("key" in outcome) options.onAppRequest?.(outcome.key);
    // Issue lines are debug: when that is off (production), not even their fields are built.
    if (outcome.kind !== "valid" && typeof parsed !== "string" && logger.isLevelEnabled?.("debug") !== false) logOutcome(logger, outcome, parsed.requestId);
    return response;
  };
  const failed = (err: unknown, request: IncomingCheck, started: number): CheckResponse => {
    const error = toTicketplaneError(err, ERROR_CODES.INTERNAL, requestContext(request));
    logger.error("ext_authz Check failed; denied with 503", { error: error.toJSON(), stack: err instanceof Error ? err.stack : undefined });
    metrics.checkError();
    metrics.observeCheck("error", (performance.now() - started) / 1000);
    return internalErrorResponse();
  };

  const check = (call: ServerUnaryCall<IncomingCheck, CheckResponse>, callback: sendUnaryData<CheckResponse>): void => {
    const started = performance.now();
    const request = call.request;
    let response: CheckResponse;
    try {
      const parsed = inputOf(request, call.metadata, trustedHops);
      const decided = typeof parsed === "string" ? { kind: "bad_request" as const, reason: parsed } : decideCheck(parsed, ctx);
      if (decided instanceof Promise) {
        // Forwarded to the app's owner (another replica): answered when it answers (the forwarder never rejects; a throw here is a bug).
        decided.then(
          (outcome) => callback(null, answer(outcome, parsed, started)),
          (err: unknown) => callback(null, failed(err, request, started)),
        );
        return;
      }
      response = answer(decided, parsed, started);
    } catch (err) {
      response = failed(err, request, started);
    }
    callback(null, response);
  };

  return { definition: SafeAuthorizationService, implementation: { check }, close: () => apps.close() };
}

/** The decision's input, or why the request is unusable. */
function inputOf(request: IncomingCheck, metadata: Metadata, trustedHops: number): CheckInput | string {
  if (request instanceof UndecodableMessage) return `undecodable CheckRequest (${request.reason})`;
  if (request instanceof CheckAttributes) return toCheckInput(request.http, gatewayGroup(metadata), request.sourceAddress, trustedHops);
  return toCheckInput(request.attributes?.request?.http, gatewayGroup(metadata), request.attributes?.source?.address?.socketAddress?.address, trustedHops);
}

/** Where a failed Check came from, for the error's context (bounded lengths). */
function requestContext(request: IncomingCheck): ErrorContext {
  const http = request instanceof UndecodableMessage ? undefined : request instanceof CheckAttributes ? request.http : request.attributes?.request?.http;
  return { host: http?.host.slice(0, 200), path: http?.path.slice(0, 200), requestId: http?.id.slice(0, 100) };
}

/** Issues, queue entries and refusals at debug level, with Envoy's request id (valid tickets are too many to log). */
function logOutcome(logger: Logger, outcome: Exclude<CheckOutcome, { kind: "valid" }>, requestId: string): void {
  switch (outcome.kind) {
    case "issued":
      logger.debug("ticket issued", { app: outcome.key, pod: outcome.pod.name, ticket: outcome.ticket.id, slot: outcome.ticket.slot, requestId, ...(outcome.replaced === undefined ? {} : { replaced: outcome.replaced }) });
      return;
    case "queued":
      logger.debug("queued: no free slot", { app: outcome.key, position: outcome.position, length: outcome.length, requestId });
      return;
    case "full":
      logger.debug("refused: no place in the queue", { app: outcome.key, reason: outcome.reason, requestId });
      return;
    case "limited":
      logger.debug("refused: client limit", { app: outcome.key, requestId });
      return;
    case "unmatched":
    case "proxied":
      // Another app's traffic on a shared gateway, or an app at zero on its way to the resolver (which logs what it holds).
      return;
    default:
      logger.debug(`denied: ${outcome.reason}`, { outcome: outcome.kind, requestId });
  }
}

/**
 * The gateway group the calling gateway belongs to: the first value of its
 * `x-ticketplane-gateway` metadata (our ext_authz filters send it), else the
 * default group, which is where a gateway without the metadata gets its routes.
 */
export function gatewayGroup(metadata: Metadata): string {
  const value = metadata.get(GATEWAY_GROUP_HEADER)[0];
  return typeof value === "string" && value.length > 0 ? value : DEFAULTS.gateway;
}

/** The HTTP attributes Check reads: decoded by decodeCheckAttributes, or a generated AttributeContext_HttpRequest. */
export type CheckHttp = HttpAttributes & { readonly headerMap?: { readonly headers: readonly { key: string; value: string; rawValue: Buffer }[] } | undefined };

/**
 * The decision's view of the HTTP attributes a gateway of group `gateway`
 * sent (from a client at `sourceAddress`), or the reason they are unusable.
 */
export function toCheckInput(http: CheckHttp | undefined, gateway: string, sourceAddress?: string, trustedHops = 0): CheckInput | string {
  if (http === undefined) return "missing attributes.request.http";
  const headers = http.headerMap !== undefined && http.headerMap.headers.length > 0 ? mergeHeaderMap(http.headerMap.headers) : http.headers;
  const path = http.path.length > 0 ? http.path : (headers[":path"] ?? "");
  if (path.length === 0) return "missing path";
  const host = http.host.length > 0 ? http.host : (headers[":authority"] ?? headers["host"] ?? "");
  const client = clientAddress(sourceAddress, headers["x-forwarded-for"], trustedHops);
  return { gateway, host, path, headers, requestId: http.id, client };
}

/** `encode_raw_headers` form: repeated keys kept apart; merge them as Envoy's map form would (cookies with "; "). */
function mergeHeaderMap(list: readonly { key: string; value: string; rawValue: Buffer }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const key = h.key.toLowerCase();
    const value = h.value.length > 0 ? h.value : h.rawValue.toString("utf8");
    const prev = out[key];
    out[key] = prev === undefined ? value : prev + (key === "cookie" ? "; " : ",") + value;
  }
  return out;
}
