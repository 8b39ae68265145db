import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiException } from "@kubernetes/client-node";
import { ERROR_CODES } from "../common/errors.js";
import { describeKubeError, isAlreadyExists, isConflict, isGone, isNotFound, isRetryable, isTooManyRequests, retryAfterMs, statusCode, toKubeError } from "./errors.js";

const status = (code: number, reason: string, extra: object = {}) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message: `${reason} happened`, ...extra });
const apiError = (code: number, reason: string, headers: Record<string, string> = {}, extra: object = {}) =>
  new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify(status(code, reason, extra)), headers);

describe("kube errors", () => {
  it("reads the code and reason of client-node's ApiException (body as text or parsed)", () => {
    assert.equal(statusCode(apiError(409, "Conflict")), 409);
    assert.ok(isConflict(apiError(409, "Conflict")));
    assert.ok(!isConflict(apiError(409, "AlreadyExists")));
    assert.ok(isAlreadyExists(new ApiException(409, "x", status(409, "AlreadyExists"), {})));
    assert.ok(isGone(apiError(410, "Expired")));
    assert.ok(isNotFound(apiError(404, "NotFound")));
    assert.ok(isTooManyRequests(apiError(429, "TooManyRequests")));
  });

  it("a Status seen on a watch stream (no HTTP code of its own) is typed by its code", () => {
    assert.ok(isGone({ body: status(410, "Expired") }));
  });

  it("network failures have no status and are retryable; 4xx other than 429 are not", () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    assert.equal(statusCode(refused), undefined);
    assert.ok(isRetryable(refused));
    assert.ok(isRetryable(apiError(503, "ServiceUnavailable")));
    assert.ok(isRetryable(apiError(429, "TooManyRequests")));
    assert.ok(!isRetryable(apiError(403, "Forbidden")));
    assert.ok(isRetryable("a thrown string: no status, so treated as the server going away"));
    assert.equal(statusCode(null), undefined);
  });

  it("Retry-After from the header, else from the Status details", () => {
    assert.equal(retryAfterMs(apiError(429, "TooManyRequests", { "retry-after": "3" })), 3000);
    assert.equal(retryAfterMs(apiError(429, "TooManyRequests", {}, { details: { retryAfterSeconds: 2 } })), 2000);
    assert.equal(retryAfterMs(apiError(500, "InternalError")), undefined);
  });

  it("maps to our error family with the call's context", () => {
    const e = toKubeError(apiError(409, "Conflict"), { app: "ns/a", call: "replaceScale" });
    assert.equal(e.code, ERROR_CODES.CONFLICT);
    assert.equal(e.context.app, "ns/a");
    assert.equal(e.context.status, 409);
    assert.match(e.message, /^409 Conflict: Conflict happened/);
    assert.equal(toKubeError(new Error("connect ECONNREFUSED"), {}).code, ERROR_CODES.UNAVAILABLE);
    assert.equal(describeKubeError(new Error("boom")), "boom");
  });

  it("carries a 429's Retry-After as context.retryAfterMs (header or Status details), and none when the server named none", () => {
    const fromHeader = toKubeError(apiError(429, "TooManyRequests", { "retry-after": "3" }), { op: "write scale" });
    assert.deepEqual([fromHeader.code, fromHeader.context.retryAfterMs, fromHeader.context.op], [ERROR_CODES.UNAVAILABLE, 3000, "write scale"]);
    assert.equal(toKubeError(apiError(429, "TooManyRequests", {}, { details: { retryAfterSeconds: 2 } }), {}).context.retryAfterMs, 2000);
    assert.equal("retryAfterMs" in toKubeError(apiError(409, "Conflict"), {}).context, false);
  });
});
