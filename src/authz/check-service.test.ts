import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metadata, type ServerUnaryCall } from "@grpc/grpc-js";
import { CheckRequest, type CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { makeSpec } from "../../test/support/app-spec.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import type { AppSpec } from "../config/app-spec.js";
import type { CheckPorts, TicketViews } from "../tickets/ports.js";
import { TicketCore } from "../tickets/index.js";
import type { Allocation, TicketCoreEvent, Verification } from "../tickets/types.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { createCheckService, gatewayGroup, type IncomingCheck, SafeAuthorizationService } from "./check-service.js";
import type { AuthzMetrics, CheckMetricOutcome } from "./metrics.js";
import { UndecodableMessage } from "../common/undecodable.js";
import { encodeCheckResponse } from "./check-response-codec.js";

function recorder() {
  const outcomes: CheckMetricOutcome[] = [];
  let checkErrors = 0;
  const logger = new RecordingLogger();
  const metrics: AuthzMetrics = { observeCheck: (o) => outcomes.push(o), checkError: () => checkErrors++, accessLogIgnored: () => undefined };
  return { logger, metrics, errors: logger.at("error"), outcomes, errorCount: () => checkErrors, errorLines: () => logger.at("error") };
}

/** A ticket core whose allocator has a bug: every allocation throws. */
class BrokenAllocator implements CheckPorts, Pick<TicketViews, "apps" | "subscribe"> {
  readonly #app: AppSpec;
  constructor(app: AppSpec) {
    this.#app = app;
  }
  verify(): Verification {
    return { ok: false, reason: "absent" };
  }
  allocate(): Allocation {
    throw new Error("ledger bug");
  }
  sweep(): readonly TicketCoreEvent[] {
    return [];
  }
  touch(): void {}
  openConnection(): void {}
  closeConnection(): void {}
  apps(): readonly AppSpec[] {
    return [this.#app];
  }
  subscribe(): () => void {
    return () => undefined;
  }
}

describe("check service edge", () => {
  const broken = new BrokenAllocator(makeSpec({ name: "a", ticket: { cookieName: "tp", queueCookieName: "tq" } }));

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
    const service = createCheckService({ tickets: broken, logger: r.logger, metrics: r.metrics });
    const request = CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x", id: "rid-1" } } } });
    const res = invoke(service, request);
    assert.equal(res.deniedResponse?.status?.code, 503);
    assert.equal(r.errorCount(), 1);
    assert.deepEqual(r.outcomes, ["error"]);
    const errors = r.errorLines();
    assert.equal(errors.length, 1);
    assert.match(JSON.stringify(errors[0]?.fields), /ledger bug/);
    assert.match(JSON.stringify(errors[0]?.fields), /"path":"\/a\/x"/);
    assert.match(JSON.stringify(errors[0]?.fields), /rid-1/);
    service.close();
  });

  it("matches only the apps of the gateway group its metadata names", () => {
    const r = recorder();
    const service = createCheckService({ tickets: broken, logger: r.logger, metrics: r.metrics });
    const request = CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x" } } } });
    const edge = new Metadata();
    edge.set("x-ticketplane-gateway", "edge");
    assert.equal(invoke(service, request, edge).deniedResponse?.status?.code, 404);
    // The default group holds the app: the allocator is asked (and throws).
    assert.equal(invoke(service, request).deniedResponse?.status?.code, 503);
    service.close();
  });

  it("unmatched: allow lets another group's (or no app's) request through, minus our headers, and counts it as unmatched", () => {
    const r = recorder();
    const service = createCheckService({ tickets: broken, logger: r.logger, metrics: r.metrics, unmatched: "allow" });
    const request = CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x", headers: { "x-ticketplane-cluster": "ticketplane-xds" } } } } });
    const edge = new Metadata();
    edge.set("x-ticketplane-gateway", "edge");
    const res = invoke(service, request, edge);
    assert.equal(res.status?.code, 0);
    assert.ok(res.okResponse?.headersToRemove.includes("x-ticketplane-cluster"));
    assert.deepEqual(r.outcomes, ["unmatched"]);
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

  it("serializes responses with the one-pass encoder", () => {
    assert.equal(SafeAuthorizationService.check.responseSerialize, encodeCheckResponse);
  });

  it("turns undecodable bytes into a 400 denial", () => {
    const r = recorder();
    const service = createCheckService({ tickets: broken, logger: r.logger, metrics: r.metrics });
    const decoded = SafeAuthorizationService.check.requestDeserialize(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    assert.ok(decoded instanceof UndecodableMessage);
    const res = invoke(service, decoded);
    assert.equal(res.deniedResponse?.status?.code, 400);
    assert.deepEqual(r.outcomes, ["bad_request"]);
    service.close();
  });

  it("logs every issue, queue entry and refusal at debug with Envoy's request id", () => {
    const core = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32).fill(4) }] }, routableByDefault: true });
    core.setApps([makeSpec({ name: "a", ticketsPerPod: 1, queue: { maxLength: 1 } })]);
    core.setPods("ns/a", [{ name: "p1", host: "10.0.0.1", port: 80, ready: true }]);
    const logger = new RecordingLogger();
    const service = createCheckService({ tickets: core, logger });
    const ask = (id: string, cookie?: string): CheckResponse => invoke(service, CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x", id, headers: cookie === undefined ? {} : { cookie } } } } }));
    ask("rid-1");
    const turnedAway = ask("rid-2").deniedResponse?.headers.find((h) => h.header?.key === "set-cookie")?.header?.value ?? "";
    ask("rid-2b", turnedAway.split(";")[0]); // comes back: takes its place, and the queue (one place) is full
    ask("rid-3");
    assert.deepEqual(
      logger.at("debug").map((l) => [l.message, l.fields["requestId"], l.fields["app"]]),
      [
        ["ticket issued", "rid-1", "ns/a"],
        ["queued: no free slot", "rid-2", "ns/a"],
        ["queued: no free slot", "rid-2b", "ns/a"],
        ["refused: no place in the queue", "rid-3", "ns/a"],
      ],
    );
    assert.equal(logger.at("debug")[0]?.fields["pod"], "p1");
    service.close();
  });
  it("builds no issue line when its logger has debug off (and still answers and counts)", () => {
    const core = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32).fill(4) }] }, routableByDefault: true });
    core.setApps([makeSpec({ name: "a", ticketsPerPod: 1 })]);
    core.setPods("ns/a", [{ name: "p1", host: "10.0.0.1", port: 80, ready: true }]);
    const r = recorder();
    // A logger that records whatever it is given, but says debug is off: Check must not call it.
    const quiet = Object.assign(r.logger, { isLevelEnabled: (level: string) => level !== "debug" });
    const service = createCheckService({ tickets: core, logger: quiet, metrics: r.metrics });
    const res = invoke(service, CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path: "/a/x", id: "rid-1" } } } }));
    assert.equal(res.status?.code, 0);
    assert.deepEqual([r.logger.at("debug").length, r.outcomes], [0, ["issued"]]);
    service.close();
  });

  it("tells onAppRequest the app of every Check that matched one (the request rate), and nothing for a path no app serves", () => {
    const core = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32).fill(4) }] }, routableByDefault: true });
    core.setApps([makeSpec({ name: "a", ticketsPerPod: 1, queue: { maxLength: 1 } })]);
    core.setPods("ns/a", [{ name: "p1", host: "10.0.0.1", port: 80, ready: true }]);
    const seen: string[] = [];
    const service = createCheckService({ tickets: core, logger: new RecordingLogger(), onAppRequest: (app) => seen.push(app) });
    const ask = (path: string): CheckResponse => invoke(service, CheckRequest.fromPartial({ attributes: { request: { http: { host: "h", path, id: "r" } } } }));
    ask("/a/x"); // issued
    ask("/a/y"); // queued: the one slot is taken
    ask("/nowhere");
    assert.deepEqual(seen, ["ns/a", "ns/a"]);
    service.close();
  });
});
