/**
 * Wire test: the KEDA external scaler on its own port, asked by a client
 * loaded from protos/externalscaler.proto with @grpc/proto-loader (as KEDA's
 * Go client would ask), over a real ticket core. The .proto's field names and
 * numbers are pinned to KEDA's documented contract.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import * as http2 from "node:http2";
import { ScaledObjectRef } from "@envoyproxy/protos/externalscaler";
import { Registry } from "prom-client";
import { systemClock } from "../../src/common/clock.js";
import { silentLogger } from "../../src/common/logger.js";
import { ScalerServer, SCALER_METRIC_NAMES, WakeRequests } from "../../src/scaler/index.js";
import { admit } from "../../src/tickets/admit.js";
import { TicketCore } from "../../src/tickets/index.js";
import { join, keyRing, pod, sequentialIds } from "../../src/tickets/tickets.fixture.js";
import { makeSpec } from "../support/app-spec.js";
import { FakeClock } from "../support/fake-clock.js";
import { call, kedaClient, kedaPackageDefinition, type KedaClient } from "../support/keda-protos.js";
import { waitFor } from "../support/wait-for.js";

const APP = "ns/app";
const SPEC = makeSpec({ ticketsPerPod: 2, spareTickets: 1, maxPods: 5 });
const REF = { name: "app-scaler", namespace: "ns", scalerMetadata: { app: "app", scalerAddress: "ticketplane:9003" } };

describe("KEDA external scaler over the wire", () => {
  let clock: FakeClock;
  let core: TicketCore;
  let registry: Registry;
  let server: ScalerServer;
  let client: KedaClient;
  let wakes: WakeRequests;

  beforeEach(async () => {
    clock = new FakeClock();
    core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
    core.setApps([SPEC, makeSpec({ name: "other" })]);
    core.setPods(APP, [pod("p1"), pod("p22")]);
    registry = new Registry();
    wakes = new WakeRequests(clock);
    server = new ScalerServer({ tickets: core, listen: { host: "127.0.0.1", port: 0 }, logger: silentLogger, clock: systemClock, registry, waking: wakes });
    await server.start();
    client = kedaClient(server.address());
  });

  afterEach(async () => {
    client.close();
    await server.stop();
  });

  const issue = (): string => {
    const a = admit(core, APP, {});
    assert.equal(a.kind, "issued");
    return a.kind === "issued" ? a.ticket.id : "";
  };

  /** Past probation without the holders coming back: the sweep releases every ticket. */
  const releaseAll = (): void => {
    clock.advance(SPEC.ticket.probationMs + 1);
    core.sweep();
    assert.equal(core.figures(APP)?.used, 0);
  };

  it("GetMetricSpec names the app's metric with ticketsPerPod as the per-pod target", async () => {
    const r = await call(client.GetMetricSpec, client, REF);
    assert.deepEqual(r.metricSpecs, [{ metricName: "ticketplane-tickets-ns-app", targetSize: 2, targetSizeFloat: 2 }]);
  });

  it("GetMetrics reports used + queued + spare, so the HPA asks for the app's desired pods", async () => {
    const ask = async (): Promise<number> => {
      const r = await call(client.GetMetrics, client, { scaledObjectRef: REF, metricName: "ticketplane-tickets-ns-app" });
      assert.equal(r.metricValues.length, 1);
      assert.equal(r.metricValues[0]?.metricValue, r.metricValues[0]?.metricValueFloat);
      return r.metricValues[0]?.metricValueFloat ?? -1;
    };
    assert.equal(await ask(), 1);
    for (let i = 0; i < 4; i++) issue();
    join(core, APP);
    assert.equal(core.figures(APP)?.queued, 1);
    assert.equal(await ask(), 6);
    assert.equal(Math.ceil(6 / 2), core.figures(APP)?.desiredPods);
    // An empty metricName (older KEDA) is the app's metric too.
    const r = await call(client.GetMetrics, client, { scaledObjectRef: REF });
    assert.equal(r.metricValues[0]?.metricName, "ticketplane-tickets-ns-app");
  });

  it("IsActive follows tickets and the waiting queue", async () => {
    assert.deepEqual(await call(client.IsActive, client, REF), { result: false });
    issue();
    assert.deepEqual(await call(client.IsActive, client, REF), { result: true });
    releaseAll();
    assert.deepEqual(await call(client.IsActive, client, REF), { result: false });
  });

  it("IsActive is true while the resolver holds a request for the app (a KEDA-owned app wakes through KEDA), until it serves or the wake lapses", async () => {
    wakes.wake(APP, 10_000);
    assert.deepEqual(await call(client.IsActive, client, REF), { result: true });
    wakes.clear(APP);
    assert.deepEqual(await call(client.IsActive, client, REF), { result: false });
    wakes.wake(APP, 10_000);
    clock.advance(10_000);
    assert.deepEqual(await call(client.IsActive, client, REF), { result: false });
  });

  it("StreamIsActive flips when the resolver wakes the app", async () => {
    const seen: boolean[] = [];
    const stream = client.StreamIsActive(REF);
    stream.on("data", (m: { result: boolean }) => seen.push(m.result));
    stream.on("error", () => undefined);
    await waitFor(() => seen.length === 1, { what: "the first StreamIsActive message" });
    wakes.wake(APP, 10_000);
    await waitFor(() => seen.length === 2, { what: "the flip to active" });
    wakes.clear(APP);
    await waitFor(() => seen.length === 3, { what: "the flip back" });
    assert.deepEqual(seen, [false, true, false]);
    stream.cancel();
  });

  it("answers NOT_FOUND for an app it does not know, naming it", async () => {
    const err = await call(client.IsActive, client, { ...REF, scalerMetadata: { app: "ns/missing" } }).then(
      () => assert.fail("expected NOT_FOUND"),
      (e: grpc.ServiceError) => e,
    );
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.match(err.details, /no ticketed app ns\/missing .*ScaledObject ns\/app-scaler/);
    const metric = await registry.getSingleMetricAsString(SCALER_METRIC_NAMES.requests);
    assert.match(metric, /method="IsActive",outcome="not_found"} 1/);
  });

  it("answers INVALID_ARGUMENT for a malformed app name, naming the field and value", async () => {
    for (const method of [client.IsActive, client.GetMetricSpec] as const) {
      const err = await call(method as KedaClient["IsActive"], client, { ...REF, scalerMetadata: { app: "ns/Bad_Name" } }).then(
        () => assert.fail("expected INVALID_ARGUMENT"),
        (e: grpc.ServiceError) => e,
      );
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /scalerMetadata\.app "ns\/Bad_Name" the app name must be a DNS-1123 label/);
    }
  });

  it("answers INVALID_ARGUMENT for another metric's name and for a missing scaledObjectRef", async () => {
    const wrong = await call(client.GetMetrics, client, { scaledObjectRef: REF, metricName: "cpu" }).catch((e: grpc.ServiceError) => e);
    assert.equal((wrong as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    assert.match((wrong as grpc.ServiceError).details, /metricName "cpu" is not served for app ns\/app/);
    const missing = await call(client.GetMetrics, client, { metricName: "x" }).catch((e: grpc.ServiceError) => e);
    assert.equal((missing as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    assert.match((missing as grpc.ServiceError).details, /scaledObjectRef is required/);
  });

  it("answers INVALID_ARGUMENT, not INTERNAL, to bytes that do not decode", async () => {
    const raw = new grpc.Client(server.address(), grpc.credentials.createInsecure());
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        raw.makeUnaryRequest(
          "/externalscaler.ExternalScaler/IsActive",
          () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]),
          (b: Buffer) => b,
          {},
          (e) => resolve(e),
        );
      });
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err?.details ?? "", /does not decode as externalscaler\.ScaledObjectRef/);
    } finally {
      raw.close();
    }
  });

  describe("StreamIsActive", () => {
    it("sends the activity at once, then each flip and only flips", async () => {
      const seen: boolean[] = [];
      const stream = client.StreamIsActive(REF);
      stream.on("data", (m: { result: boolean }) => seen.push(m.result));
      const ended = new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
      stream.on("error", () => undefined);
      await waitFor(() => seen.length === 1, { what: "the first StreamIsActive message" });
      issue();
      await waitFor(() => seen.length === 2, { what: "the flip to active" });
      issue(); // still active: nothing sent
      join(core, APP);
      releaseAll();
      // Releasing hands a freed slot to the waiting client: still active until it lapses.
      clock.advance(SPEC.queue.reservationMs + 2 * SPEC.queue.retryAfterMs + 2_000);
      core.sweep();
      await waitFor(() => seen.length === 3, { what: () => `the flip to inactive (seen ${JSON.stringify(seen)}, figures ${JSON.stringify(core.figures(APP))})` });
      assert.deepEqual(seen, [false, true, false]);
      stream.cancel();
      assert.equal((await ended).code, grpc.status.CANCELLED);
    });

    it("forgets a client that goes away mid-stream", async () => {
      const stream = client.StreamIsActive(REF);
      const first = new Promise((resolve) => stream.once("data", resolve));
      stream.on("error", () => undefined);
      await first;
      assert.equal(server.service.openStreams, 1);
      stream.cancel();
      await waitFor(() => server.service.openStreams === 0, { what: "the server to drop the cancelled stream" });
      // The ticket core's next change reaches no listener of the gone stream (nothing throws).
      issue();
      releaseAll();
      const gauge = await registry.getSingleMetricAsString(SCALER_METRIC_NAMES.streams);
      assert.match(gauge, / 0$/m);
    });

    it("forgets a client whose connection drops without a goodbye", async () => {
      const session = http2.connect(`http://${server.address()}`);
      session.on("error", () => undefined);
      const body = ScaledObjectRef.encode({ name: "app", namespace: "ns", scalerMetadata: {} }).finish();
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      Buffer.from(body).copy(frame, 5);
      const req = session.request({ ":method": "POST", ":path": "/externalscaler.ExternalScaler/StreamIsActive", "content-type": "application/grpc", te: "trailers" });
      req.on("error", () => undefined);
      req.end(frame);
      await once(req, "data");
      assert.equal(server.service.openStreams, 1);
      session.destroy(); // the TCP connection goes, no RST_STREAM, no GOAWAY
      await waitFor(() => server.service.openStreams === 0, { what: "the server to drop the stream of a dropped connection" });
      issue();
    });

    it("reads an app that goes away as inactive, and keeps the stream", async () => {
      const seen: boolean[] = [];
      const stream = client.StreamIsActive(REF);
      stream.on("data", (m: { result: boolean }) => seen.push(m.result));
      stream.on("error", () => undefined);
      await waitFor(() => seen.length === 1);
      issue();
      await waitFor(() => seen.length === 2);
      core.setApps([makeSpec({ name: "other" })]);
      await waitFor(() => seen.length === 3, { what: "inactive after the app went away" });
      assert.deepEqual(seen, [false, true, false]);
      assert.equal(server.service.openStreams, 1);
      stream.cancel();
    });

    it("ends the stream with NOT_FOUND for an unknown app", async () => {
      const stream = client.StreamIsActive({ ...REF, scalerMetadata: { app: "elsewhere/none" } });
      const err = await new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
      assert.equal(err.code, grpc.status.NOT_FOUND);
      assert.match(err.details, /elsewhere\/none/);
      assert.equal(server.service.openStreams, 0);
    });

    it("is ended from our side when the server stops", async () => {
      const stream = client.StreamIsActive(REF);
      const first = new Promise((resolve) => stream.once("data", resolve));
      const status = new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
      stream.on("error", () => undefined);
      await first;
      await server.stop();
      assert.equal((await status).code, grpc.status.OK);
      assert.equal(server.service.openStreams, 0);
    });
  });
});

describe("protos/externalscaler.proto keeps KEDA's contract", () => {
  let def: ReturnType<typeof kedaPackageDefinition>;
  before(() => {
    def = kedaPackageDefinition();
  });
  after(() => undefined);

  // From KEDA's externalscaler.proto (pkg/scalers/externalscaler): names and numbers are the wire.
  const FIELDS: Readonly<Record<string, readonly [string, number, string][]>> = {
    ScaledObjectRef: [["name", 1, "TYPE_STRING"], ["namespace", 2, "TYPE_STRING"], ["scalerMetadata", 3, "TYPE_MESSAGE"]],
    IsActiveResponse: [["result", 1, "TYPE_BOOL"]],
    GetMetricSpecResponse: [["metricSpecs", 1, "TYPE_MESSAGE"]],
    MetricSpec: [["metricName", 1, "TYPE_STRING"], ["targetSize", 2, "TYPE_INT64"], ["targetSizeFloat", 3, "TYPE_DOUBLE"]],
    GetMetricsRequest: [["scaledObjectRef", 1, "TYPE_MESSAGE"], ["metricName", 2, "TYPE_STRING"]],
    GetMetricsResponse: [["metricValues", 1, "TYPE_MESSAGE"]],
    MetricValue: [["metricName", 1, "TYPE_STRING"], ["metricValue", 2, "TYPE_INT64"], ["metricValueFloat", 3, "TYPE_DOUBLE"]],
  };
  for (const [message, fields] of Object.entries(FIELDS)) {
    it(`${message} has KEDA's fields and numbers`, () => {
      const type = (def[`externalscaler.${message}`] as { type: { field: { name: string; number: number; type: string }[] } }).type;
      assert.deepEqual(type.field.map((f) => [f.name, f.number, f.type]), fields);
    });
  }

  it("ExternalScaler has KEDA's four methods with their streaming shapes", () => {
    const service = def["externalscaler.ExternalScaler"] as Record<string, { requestStream: boolean; responseStream: boolean; path: string }>;
    assert.deepEqual(
      Object.entries(service).map(([name, m]) => [name, m.path, m.requestStream, m.responseStream]),
      [
        ["IsActive", "/externalscaler.ExternalScaler/IsActive", false, false],
        ["StreamIsActive", "/externalscaler.ExternalScaler/StreamIsActive", false, true],
        ["GetMetricSpec", "/externalscaler.ExternalScaler/GetMetricSpec", false, false],
        ["GetMetrics", "/externalscaler.ExternalScaler/GetMetrics", false, false],
      ],
    );
  });
});
