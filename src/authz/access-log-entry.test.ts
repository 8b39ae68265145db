import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessLogCommon, AccessLogType, HTTPAccessLogEntry, ResponseFlags, ResponseFlags_Unauthorized_Reason } from "@envoyproxy/protos/envoy/data/accesslog/v3/accesslog";
import { classifyEntry } from "./access-log-entry.js";

function entry(code: number | undefined, type: AccessLogType, headers: Record<string, string> = { "x-ticketplane-ticket": "t1", "x-ticketplane-app": "ns/a" }, intermediate = false) {
  return HTTPAccessLogEntry.fromPartial({
    commonProperties: { accessLogType: type, intermediateLogEntry: intermediate },
    request: { requestId: "rid", requestHeaders: headers },
    ...(code === undefined ? {} : { response: { responseCode: code } }),
  });
}

/** The entry as Envoy logs a request its ext_authz filter denied (response flag UAEX). */
function denied(e: HTTPAccessLogEntry): HTTPAccessLogEntry {
  return { ...e, commonProperties: { ...(e.commonProperties ?? AccessLogCommon.fromPartial({})), responseFlags: ResponseFlags.fromPartial({ unauthorizedDetails: { reason: ResponseFlags_Unauthorized_Reason.EXTERNAL_SERVICE } }) } };
}

describe("classifyEntry", () => {
  const touch = { kind: "touch", app: "ns/a", ticketId: "t1" };
  const close = { kind: "close", connectionId: "rid", app: "ns/a", ticketId: "t1" };
  const open = { kind: "open", connectionId: "rid", app: "ns/a", ticketId: "t1" };
  const table: readonly [string, HTTPAccessLogEntry, unknown][] = [
    ["ordinary request", entry(200, AccessLogType.DownstreamEnd), touch],
    ["untyped ordinary request", entry(200, AccessLogType.NotSet), touch],
    ["the upgrade succeeded (tunnel established)", entry(101, AccessLogType.DownstreamTunnelSuccessfullyEstablished), open],
    ["periodic entry of an open WebSocket", entry(101, AccessLogType.DownstreamPeriodic), open],
    ["intermediate entry of an open WebSocket", entry(101, AccessLogType.NotSet, undefined, true), open],
    ["start of a WebSocket", entry(101, AccessLogType.DownstreamStart), open],
    ["a refused upgrade (426) opens nothing: it is an ordinary request", entry(426, AccessLogType.DownstreamEnd), touch],
    ["a request ext_authz denied carries the client's own headers: ignored", denied(entry(200, AccessLogType.DownstreamEnd)), { kind: "ignore", reason: "denied" }],
    ["a WebSocket ext_authz denied opens nothing", denied(entry(101, AccessLogType.DownstreamPeriodic)), { kind: "ignore", reason: "denied" }],
    ["end of a WebSocket", entry(101, AccessLogType.DownstreamEnd), close],
    ["end of a WebSocket, untyped (older Envoy)", entry(101, AccessLogType.NotSet), close],
    ["end of a WebSocket without our headers", entry(101, AccessLogType.DownstreamEnd, {}), { kind: "close", connectionId: "rid" }],
    ["request without our headers", entry(200, AccessLogType.DownstreamEnd, {}), { kind: "ignore", reason: "no_ticket" }],
    ["request with an empty ticket header", entry(200, AccessLogType.DownstreamEnd, { "x-ticketplane-ticket": "", "x-ticketplane-app": "ns/a" }), { kind: "ignore", reason: "no_ticket" }],
    ["entry without a response", entry(undefined, AccessLogType.DownstreamEnd), touch],
    ["empty entry", HTTPAccessLogEntry.fromPartial({}), { kind: "ignore", reason: "no_ticket" }],
  ];
  for (const [name, e, want] of table) it(name, () => assert.deepEqual(classifyEntry(e), want));
});
