/**
 * What one HTTP access-log entry means for ticket activity (pure).
 *
 * - a request ext_authz denied (response flag UAEX) → ignored: its routing
 *   headers are the client's own, Check never set them;
 * - a non-final entry of an upgraded request (101: the tunnel established,
 *   periodic, intermediate) → the WebSocket is open: open (or refresh) the
 *   connection keyed by request id. A connection counts as open only once
 *   the upgrade succeeded; a refused upgrade (400, 426) never opens one;
 * - the final entry of an upgraded request (101, DownstreamEnd or untyped) →
 *   the WebSocket closed: close the connection;
 * - any other entry → an ordinary request (or a long poll still open): touch.
 * The ticket and app come from our routing headers, which the gateway's access
 * log records through `additional_request_headers_to_log`.
 */
import { AccessLogType, type HTTPAccessLogEntry } from "@envoyproxy/protos/envoy/data/accesslog/v3/accesslog";
import { ROUTING_HEADERS } from "../routing/headers.js";

export type LogAction =
  | { readonly kind: "touch"; readonly app: string; readonly ticketId: string }
  | { readonly kind: "open"; readonly connectionId: string; readonly app: string; readonly ticketId: string }
  | { readonly kind: "close"; readonly connectionId: string; readonly app?: string; readonly ticketId?: string }
  | { readonly kind: "ignore"; readonly reason: "no_ticket" | "denied" };

export function classifyEntry(entry: HTTPAccessLogEntry): LogAction {
  if (entry.commonProperties?.responseFlags?.unauthorizedDetails !== undefined) return { kind: "ignore", reason: "denied" };
  const { ticketId, app, connectionId } = identifiers(entry);
  const upgraded = entry.response?.responseCode === 101;
  if (connectionId !== undefined && upgraded && isFinal(entry)) {
    return { kind: "close", connectionId, ...(app === undefined ? {} : { app }), ...(ticketId === undefined ? {} : { ticketId }) };
  }
  if (ticketId === undefined || app === undefined) return { kind: "ignore", reason: "no_ticket" };
  if (connectionId !== undefined && upgraded) return { kind: "open", connectionId, app, ticketId };
  return { kind: "touch", app, ticketId };
}

/** Our routing headers as the gateway logged them, and Envoy's request id. */
function identifiers(entry: HTTPAccessLogEntry): { ticketId: string | undefined; app: string | undefined; connectionId: string | undefined } {
  const headers = entry.request?.requestHeaders ?? {};
  return { ticketId: nonEmpty(headers[ROUTING_HEADERS.ticket]), app: nonEmpty(headers[ROUTING_HEADERS.app]), connectionId: nonEmpty(entry.request?.requestId) };
}

/** The last entry of a request: not periodic or intermediate, typed DownstreamEnd or untyped (older Envoy). */
function isFinal(entry: HTTPAccessLogEntry): boolean {
  const common = entry.commonProperties;
  if (common?.intermediateLogEntry === true) return false;
  const type = common?.accessLogType ?? AccessLogType.NotSet;
  return type === AccessLogType.DownstreamEnd || type === AccessLogType.NotSet;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.length === 0 ? undefined : s;
}
