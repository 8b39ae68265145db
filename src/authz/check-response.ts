/**
 * CheckOutcome → CheckResponse, built directly as the generated message
 * objects (no fromPartial, no intermediate copies): this runs on every Check.
 *
 * Allowed: routing headers (the pod's cluster, which the gateway routes on,
 * and the pod, its address, the ticket and the app for the app and the
 * access log) in `OkHttpResponse.headers` with `append: false`
 * (Envoy ≤ 1.36 reads only that flag; later versions changed the default of
 * `append_action` back and forth), Set-Cookie in `response_headers_to_add`
 * with `append: true` so the app's own cookies survive.
 * Denied: `DeniedHttpResponse` with status, headers and a body.
 */
import type { HeaderValueOption } from "@envoyproxy/protos/envoy/config/core/v3/base";
import type { CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import type { StatusCode } from "@envoyproxy/protos/envoy/type/v3/http_status";
import type { Status } from "@envoyproxy/protos/google/rpc/status";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { ROUTING_HEADERS } from "../routing/headers.js";
import { podClusterNameOf } from "../routing/names.js";
import type { PodView } from "../tickets/types.js";
import { formatSetCookie } from "./cookies.js";
import type { CheckOutcome } from "./decide-check.js";
import { waitingRoomPath } from "../routing/waiting-room-path.js";
import { renderAdmittedJson, renderWaitingRoomHtml, renderWaitingRoomJson } from "./waiting-room.js";

/** google.rpc.Code values used in CheckResponse.status. */
const RPC_OK = 0;
const RPC_PERMISSION_DENIED = 7;
const RPC_RESOURCE_EXHAUSTED = 8;
const RPC_UNAVAILABLE = 14;

const EMPTY = Buffer.alloc(0);
const OK_STATUS: Status = { code: RPC_OK, message: "", details: [] };

function header(key: string, value: string, append: boolean): HeaderValueOption {
  return { header: { key, value, rawValue: EMPTY }, append, appendAction: 0, keepEmptyValue: false };
}

// The allowed answer's headers, each defined once: toCheckResponse builds
// them here, and AllowedResponses (allowed-responses.ts) encodes the
// constant ones once per pod and app from these same functions.

/** The routing headers that name the pod (its cluster, which the gateway routes on; its name; its address). */
export function podHeaders(app: AppKey, pod: PodView): HeaderValueOption[] {
  return [
    // The one header the gateway routes on: the app's route sends the request to the cluster it names.
    header(ROUTING_HEADERS.cluster, podClusterNameOf(app, pod.name), false),
    header(ROUTING_HEADERS.pod, pod.name, false),
    header(ROUTING_HEADERS.podAddress, formatAddress(pod.host, pod.port), false),
  ];
}

/** The routing header that names the ticket (the access log credits its activity). */
export function ticketHeader(ticket: string): HeaderValueOption {
  return header(ROUTING_HEADERS.ticket, ticket, false);
}

/** The routing header that names the app. */
export function appHeader(app: AppKey): HeaderValueOption {
  return header(ROUTING_HEADERS.app, app, false);
}

/** A Set-Cookie response header, appended: the app's own cookies survive. */
export function setCookie(value: string): HeaderValueOption {
  return header("set-cookie", value, true);
}

/** The response header that gives the client its new ticket. */
export function ticketCookie(app: AppSpec, token: string): HeaderValueOption {
  return setCookie(formatSetCookie(app.ticket.cookieName, token, { path: app.pathPrefix, secure: app.ticket.cookieSecure, maxAgeSeconds: app.ticket.maxLifetimeMs / 1000 }));
}

/** The response header that deletes the client's queue cookie (it has a ticket now). */
export function clearQueueCookie(app: AppSpec): HeaderValueOption {
  return setCookie(formatSetCookie(app.ticket.queueCookieName, "", { path: app.pathPrefix, secure: app.ticket.cookieSecure, maxAgeSeconds: 0 }));
}

export function toCheckResponse(outcome: CheckOutcome): CheckResponse {
  switch (outcome.kind) {
    case "valid":
      if (outcome.probe === true) return admitted([]);
      return allow(outcome.key, outcome.pod, outcome.ticket.id, []);
    case "issued": {
      const cookies = [ticketCookie(outcome.app, outcome.token)];
      if (outcome.clearQueueCookie) cookies.push(clearQueueCookie(outcome.app));
      if (outcome.probe === true) return admitted(cookies);
      return allow(outcome.key, outcome.pod, outcome.ticket.id, cookies);
    }
    case "queued": {
      const { app } = outcome;
      const retryAfterSeconds = retryAfter(outcome.retryAfterMs);
      const view = {
        app: app.name,
        position: outcome.position,
        length: outcome.length,
        retryAfterSeconds,
        pollPath: waitingRoomPath(app.pathPrefix),
        ...(outcome.estimatedWaitMs === undefined ? {} : { estimatedWaitSeconds: Math.ceil(outcome.estimatedWaitMs / 1000) }),
      };
      const queueCookie = formatSetCookie(app.ticket.queueCookieName, outcome.queueToken, { path: app.pathPrefix, secure: app.ticket.cookieSecure });
      return waiting(outcome.json, outcome.json ? renderWaitingRoomJson(view) : renderWaitingRoomHtml(view), retryAfterSeconds, queueCookie, "queued");
    }
    case "full": {
      const retryAfterSeconds = retryAfter(outcome.retryAfterMs);
      const view = { app: outcome.app.name, retryAfterSeconds };
      return waiting(outcome.json, outcome.json ? renderWaitingRoomJson(view) : renderWaitingRoomHtml(view), retryAfterSeconds, undefined, outcome.reason);
    }
    case "limited": {
      const retryAfterSeconds = retryAfter(outcome.retryAfterMs);
      const message = "too many tickets or queue places from your address";
      const body = outcome.json ? JSON.stringify({ app: outcome.app.name, error: message, retryAfterSeconds }) + "\n" : `429 ${message}; try again in ${retryAfterSeconds} s\n`;
      return denyWith(429, RPC_RESOURCE_EXHAUSTED, "client_limit", body, outcome.json ? "application/json" : "text/plain; charset=utf-8", [header("retry-after", String(retryAfterSeconds), false)]);
    }
    case "starting":
      return deny(503, RPC_UNAVAILABLE, `starting: ${outcome.reason}`, [header("retry-after", "1", false)]);
    case "not_found":
      return deny(404, RPC_PERMISSION_DENIED, outcome.reason);
    case "unmatched":
    case "proxied":
      return allowUntouched(outcome.strip);
    case "bad_request":
      return deny(400, RPC_PERMISSION_DENIED, outcome.reason);
  }
}

/** The answer when Check itself failed: fail closed, but with a retryable 503 rather than Envoy's default 403. */
export function internalErrorResponse(): CheckResponse {
  return deny(503, RPC_UNAVAILABLE, "ticketplane could not decide; try again", [header("retry-after", "5", false), header("cache-control", "no-store", false)]);
}

function allow(app: AppKey, pod: PodView, ticket: string, responseHeaders: HeaderValueOption[]): CheckResponse {
  return {
    status: OK_STATUS,
    okResponse: {
      headers: [...podHeaders(app, pod), ticketHeader(ticket), appHeader(app)],
      headersToRemove: [],
      responseHeadersToAdd: responseHeaders,
      queryParametersToSet: [],
      queryParametersToRemove: [],
    },
  };
}

/** Allowed, changing nothing but removing `strip` from the request. */
function allowUntouched(strip: readonly string[]): CheckResponse {
  return {
    status: OK_STATUS,
    okResponse: { headers: [], headersToRemove: [...strip], responseHeadersToAdd: [], queryParametersToSet: [], queryParametersToRemove: [] },
  };
}

/**
 * The waiting room's live endpoint, answered by Check itself (it never
 * reaches a pod): 200 "admitted", with the new ticket's cookie if one was
 * just issued. A denial in gRPC terms, so the gateway sends this body.
 */
function admitted(cookies: HeaderValueOption[]): CheckResponse {
  return {
    status: { code: RPC_PERMISSION_DENIED, message: "admitted", details: [] },
    deniedResponse: {
      status: { code: 200 as StatusCode },
      headers: [header("content-type", "application/json", false), header("cache-control", "no-store", false), ...cookies],
      body: renderAdmittedJson(),
    },
  };
}

function waiting(json: boolean, body: string, retryAfterSeconds: number, queueCookie: string | undefined, reason: string): CheckResponse {
  const headers = [
    header("retry-after", String(retryAfterSeconds), false),
    header("cache-control", "no-store", false),
    header("content-type", json ? "application/json" : "text/html; charset=utf-8", false),
  ];
  if (queueCookie !== undefined) headers.push(header("set-cookie", queueCookie, true));
  return {
    status: { code: RPC_UNAVAILABLE, message: reason, details: [] },
    deniedResponse: { status: { code: 503 as StatusCode }, headers, body },
  };
}

function deny(http: number, rpc: number, reason: string, extra: HeaderValueOption[] = []): CheckResponse {
  return denyWith(http, rpc, reason, `${String(http)} ${reason}\n`, "text/plain; charset=utf-8", extra);
}

function denyWith(http: number, rpc: number, reason: string, body: string, contentType: string, extra: HeaderValueOption[]): CheckResponse {
  return {
    status: { code: rpc, message: reason, details: [] },
    deniedResponse: {
      status: { code: http as StatusCode },
      headers: [header("content-type", contentType, false), header("cache-control", "no-store", false), ...extra],
      body,
    },
  };
}

function retryAfter(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** `host:port`, with IPv6 literals bracketed. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
}
