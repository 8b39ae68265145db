import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessLogType, HTTPAccessLogEntry } from "@envoyproxy/protos/envoy/data/accesslog/v3/accesslog";
import { classifyEntry } from "./access-log-entry.js";

function entry(code: number | undefined, type: AccessLogType, headers: Record<string, string> = { "x-ticketplane-ticket": "t1", "x-ticketplane-app": "ns/a" }, intermediate = false) {
  return HTTPAccessLogEntry.fromPartial({
    commonProperties: { accessLogType: type, intermediateLogEntry: intermediate },
    request: { requestId: "rid", requestHeaders: headers },
    ...(code === undefined ? {} : { response: { responseCode: code } }),
  });
}

describe("classifyEntry", () => {
  const touch = { kind: "touch", app: "ns/a", ticketId: "t1" };
  const close = { kind: "close", connectionId: "rid", app: "ns/a", ticketId: "t1" };
  const table: readonly [string, HTTPAccessLogEntry, unknown][] = [
    ["ordinary request", entry(200, AccessLogType.DownstreamEnd), touch],
    ["untyped ordinary request", entry(200, AccessLogType.NotSet), touch],
    ["periodic entry of an open WebSocket", entry(101, AccessLogType.DownstreamPeriodic), touch],
    ["intermediate entry of an open WebSocket", entry(101, AccessLogType.NotSet, undefined, true), touch],
    ["start of a WebSocket", entry(101, AccessLogType.DownstreamStart), touch],
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
