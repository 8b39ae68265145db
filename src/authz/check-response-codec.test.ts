import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import type { HeaderValueOption } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { makeSpec } from "../../test/support/app-spec.js";
import type { PodView, TicketView } from "../tickets/types.js";
import { internalErrorResponse, toCheckResponse } from "./check-response.js";
import { encodeCheckResponse } from "./check-response-codec.js";
import type { CheckOutcome } from "./decide-check.js";

const app = makeSpec({ name: "shiny", ticket: { cookieName: "tp", queueCookieName: "tpq", cookieSecure: true } });
const pod: PodView = { name: "pod-ä", host: "fd00::7", port: 3838, ready: true, draining: false, canary: false, routable: true, slots: 1, used: 1 };
const ticket: TicketView = { id: "t1", app: "ns/shiny", pod: "pod-ä", slot: 0, issuedAt: 0, expiresAt: 1, lastActiveAt: 0, openConnections: 0 };
const key = "ns/shiny";

/** One of every outcome check-response.ts answers, with long and non-ASCII values. */
const OUTCOMES: readonly CheckOutcome[] = [
  { kind: "valid", app, key, ticket, pod },
  { kind: "issued", app, key, ticket, pod, token: "t1.k.payload.mac", clearQueueCookie: false },
  { kind: "issued", app, key, ticket, pod, token: "t1.k." + "x".repeat(300), clearQueueCookie: true, replaced: "expired" },
  { kind: "queued", app, key, position: 3, length: 200, queueToken: "q1.k.p.m", retryAfterMs: 2_500, json: false },
  { kind: "queued", app, key, position: 1, length: 1, queueToken: "q1.k.p.m", retryAfterMs: 100, json: true },
  { kind: "full", app, key, reason: "queue_full", retryAfterMs: 1_000, json: false },
  { kind: "full", app, key, reason: "no_capacity", retryAfterMs: 1_000, json: true },
  { kind: "limited", app, key, retryAfterMs: 70_000, json: false },
  { kind: "starting", reason: "routes not ACKed — ñ" },
  { kind: "not_found", reason: "no app serves this host and path" },
  { kind: "bad_request", reason: "p".repeat(20_000) },
];

function option(o: Partial<HeaderValueOption>, key = "k", value = "v"): HeaderValueOption {
  return { header: { key, value, rawValue: Buffer.alloc(0) }, appendAction: 0, keepEmptyValue: false, ...o };
}

function sameBytes(response: CheckResponse): void {
  assert.deepEqual(encodeCheckResponse(response), Buffer.from(CheckResponse.encode(response).finish()));
}

describe("encodeCheckResponse", () => {
  it("writes the generated encoder's bytes for every outcome Check answers", () => {
    for (const outcome of OUTCOMES) sameBytes(toCheckResponse(outcome));
    sameBytes(internalErrorResponse());
  });

  it("writes every header option form and empty messages as the generated encoder does", () => {
    const ok = (headers: HeaderValueOption[], headersToRemove: string[] = []): CheckResponse => ({
      status: { code: 0, message: "", details: [] },
      okResponse: { headers, headersToRemove, responseHeadersToAdd: headers, queryParametersToSet: [], queryParametersToRemove: [] },
    });
    sameBytes(ok([option({ append: true }), option({ append: false }), option({}), option({ appendAction: 3, keepEmptyValue: true }, "", "")]));
    sameBytes(ok([option({ header: { key: "raw", value: "", rawValue: Buffer.from([0, 1, 255]) } }), option({ header: undefined, append: true })], ["x-a", ""]));
    sameBytes({ status: { code: 0, message: "", details: [] } });
    sameBytes({ deniedResponse: { status: { code: 0 }, headers: [], body: "" } });
    sameBytes({});
  });

  it("hands a response with fields it does not write to the generated encoder", () => {
    const withDetails: CheckResponse = { status: { code: 7, message: "m", details: [{ typeUrl: "type.googleapis.com/x", value: Buffer.from([1]) }] } };
    sameBytes(withDetails);
    assert.equal(CheckResponse.decode(encodeCheckResponse(withDetails)).status?.details.length, 1);
    sameBytes({ status: { code: 0, message: "", details: [] }, dynamicMetadata: { a: 1 } });
    sameBytes({ okResponse: { headers: [], headersToRemove: [], responseHeadersToAdd: [], queryParametersToSet: [{ key: "a", value: "b" }], queryParametersToRemove: ["c"] } });
    sameBytes({ status: { code: -1, message: "", details: [] } });
  });
});
