/**
 * What one HTTP access-log entry means for ticket activity (pure).
 *
 * - a periodic entry (DownstreamPeriodic, or any intermediate entry) → the
 *   request or connection is still open: touch;
 * - the final entry of an upgraded request (101, DownstreamEnd or untyped) →
 *   the WebSocket closed: close the connection keyed by request id;
 * - any other entry → an ordinary request: touch.
 * The ticket and app come from our routing headers, which the gateway's access
 * log records through `additional_request_headers_to_log`.
 */
import { AccessLogType, type HTTPAccessLogEntry } from "@envoyproxy/protos/envoy/data/accesslog/v3/accesslog";
import { ROUTING_HEADERS } from "../routing/headers.js";

export type LogAction =
  | { readonly kind: "touch"; readonly app: string; readonly ticketId: string }
  | { readonly kind: "close"; readonly connectionId: string; readonly app?: string; readonly ticketId?: string }
  | { readonly kind: "ignore"; readonly reason: "no_ticket" };

export function classifyEntry(entry: HTTPAccessLogEntry): LogAction {
  const headers = entry.request?.requestHeaders ?? {};
  const ticketId = nonEmpty(headers[ROUTING_HEADERS.ticket]);
  const app = nonEmpty(headers[ROUTING_HEADERS.app]);
  const connectionId = nonEmpty(entry.request?.requestId);
  if (connectionId !== undefined && isUpgradeEnd(entry)) {
    return { kind: "close", connectionId, ...(app === undefined ? {} : { app }), ...(ticketId === undefined ? {} : { ticketId }) };
  }
  if (ticketId === undefined || app === undefined) return { kind: "ignore", reason: "no_ticket" };
  return { kind: "touch", app, ticketId };
}

/** The last entry of an upgraded (101) request: not periodic or intermediate, typed DownstreamEnd or untyped (older Envoy). */
function isUpgradeEnd(entry: HTTPAccessLogEntry): boolean {
  if (entry.response?.responseCode !== 101) return false;
  const common = entry.commonProperties;
  if (common?.intermediateLogEntry === true) return false;
  const type = common?.accessLogType ?? AccessLogType.NotSet;
  return type === AccessLogType.DownstreamEnd || type === AccessLogType.NotSet;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.length === 0 ? undefined : s;
}
