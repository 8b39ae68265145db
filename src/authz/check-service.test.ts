import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata, type ServerUnaryCall } from "@grpc/grpc-js";
import { CheckRequest, type CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import type { Logger } from "../common/logger.js";
import type { AppSpec } from "../config/app-spec.js";
import type { TicketDesk } from "../tickets/types.js";
import { createCheckService, gatewayGroup, type IncomingCheck, SafeAuthorizationService } from "./check-service.js";
import type { AuthzMetrics, CheckMetricOutcome } from "./metrics.js";
import { UndecodableRequest } from "./undecodable.js";

function recorder() {
  const errors: { message: string; fields: unknown }[] = [];
  const outcomes: CheckMetricOutcome[] = [];
  let checkErrors = 0;
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message: string, fields?: unknown) => errors.push({ message, fields }),
    child: () => logger,
  } as unknown as Logger;
  const metrics: AuthzMetrics = { observeCheck: (o) => outcomes.push(o), checkError: () => checkErrors++, accessLogIgnored: () => undefined };
  return { logger, metrics, errors, outcomes, errorCount: () => checkErrors };
}

describe("check service edge", () => {
  const app = { namespace: "ns", name: "a", pathPrefix: "/a/", gateway: "default", ticket: { cookieName: "tp", queueCookieName: "tq" } } as unknown as AppSpec;
  const throwingDesk = {
    apps: () => [app],
    subscribe: () => () => undefined,
    admit: () => {
      throw new Error("ledger bug");
    },
  } as unknown as TicketDesk;

  function invoke(service: ReturnType<typeof createCheckService>, request: IncomingCheck, metadata = new Metadata()): CheckResponse {
    let out: CheckResponse | undefined;
    service.implementation.check({ request, metadata } as ServerUnaryCall<IncomingCheck, CheckResponse>, (err, value) => {
      assert.equal(err, null);
      out = value ?? undefined;
    });
    assert.ok(out !== undefined, "answered synchronously");
    return out;
  }

  it("answers an internal error with a 503 denial, logs it with context and counts it", () => {
    const r = recorder();
    const service = createCheckService({ desk: throwingDesk, logger: r.logger, metrics: r.metrics });
    const request = CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x", id: "rid-1" } } } });
    const res = invoke(service, request);
    assert.equal(res.deniedResponse?.status?.code, 503);
    assert.equal(r.errorCount(), 1);
    assert.deepEqual(r.outcomes, ["error"]);
    assert.equal(r.errors.length, 1);
    assert.match(JSON.stringify(r.errors[0]?.fields), /ledger bug/);
    assert.match(JSON.stringify(r.errors[0]?.fields), /"path":"\/a\/x"/);
    assert.match(JSON.stringify(r.errors[0]?.fields), /rid-1/);
    service.close();
  });

  it("matches only the apps of the gateway group its metadata names", () => {
    const r = recorder();
    const service = createCheckService({ desk: throwingDesk, logger: r.logger, metrics: r.metrics });
    const request = CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x" } } } });
    const edge = new Metadata();
    edge.set("x-ticketplane-gateway", "edge");
    assert.equal(invoke(service, request, edge).deniedResponse?.status?.code, 404);
    // The default group holds the app: the desk is asked (and throws).
    assert.equal(invoke(service, request).deniedResponse?.status?.code, 503);
    service.close();
  });

  it("reads the gateway group from the call's metadata, the default group without it", () => {
    const m = new Metadata();
    assert.equal(gatewayGroup(m), "default");
    m.set("x-ticketplane-gateway", "");
    assert.equal(gatewayGroup(m), "default");
    m.set("x-ticketplane-gateway", "edge");
    m.add("x-ticketplane-gateway", "other");
    assert.equal(gatewayGroup(m), "edge");
  });

  it("turns undecodable bytes into a 400 denial", () => {
    const r = recorder();
    const service = createCheckService({ desk: throwingDesk, logger: r.logger, metrics: r.metrics });
    const decoded = SafeAuthorizationService.check.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    assert.ok(decoded instanceof UndecodableRequest);
    const res = invoke(service, decoded);
    assert.equal(res.deniedResponse?.status?.code, 400);
    assert.deepEqual(r.outcomes, ["bad_request"]);
    service.close();
  });
});

