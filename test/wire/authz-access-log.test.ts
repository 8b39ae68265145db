/**
 * Wire test: the access-log service on its own port, fed by an
 * AccessLogService client built from Envoy's .proto files. A WebSocket's
 * ticket stays active past the idle timeout until its close entry arrives.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { createAuthzMetrics, createAuthzServer, type AuthzServer } from "../../src/authz/index.js";
import { systemClock } from "../../src/common/clock.js";
import { silentLogger } from "../../src/common/logger.js";
import { DEFAULTS, type AppSpec } from "../../src/config/app-spec.js";
import { TicketCore } from "../../src/tickets/index.js";
import { accessLogClient, authorizationClient } from "../support/envoy-protos.js";
import { FakeClock } from "../support/fake-clock.js";
import { waitFor } from "../support/wait-for.js";

const APP: AppSpec = {
  ...DEFAULTS,
  source: "file",
  namespace: "ns",
  name: "ws",
  pathPrefix: "/ws/",
  ticketsPerPod: 4,
  ticket: { ...DEFAULTS.ticket, cookieSecure: false, idleTimeoutMs: 60_000, maxLifetimeMs: 3_600_000 },
};

type Stream = grpc.ClientWritableStream<unknown>;

function openStream(client: grpc.Client): { stream: Stream; done: Promise<grpc.ServiceError | null> } {
  let stream!: Stream;
  const done = new Promise<grpc.ServiceError | null>((resolve) => {
    stream = (client as unknown as { StreamAccessLogs: (cb: (e: grpc.ServiceError | null) => void) => Stream }).StreamAccessLogs((err) => resolve(err));
  });
  return { stream, done };
}

function entry(ticket: string, requestId: string, code: number, type: string, deniedByAuthz = false): unknown {
  return {
    common_properties: { access_log_type: type, ...(deniedByAuthz ? { response_flags: { unauthorized_details: { reason: "EXTERNAL_SERVICE" } } } : {}) },
    request: { request_id: requestId, request_headers: { "x-ticketplane-ticket": ticket, "x-ticketplane-app": "ns/ws" } },
    response: { response_code: { value: code } },
  };
}

function logs(...entries: unknown[]): unknown {
  return { identifier: { log_name: "ticket-gateway" }, http_logs: { log_entry: entries } };
}

function need<T>(x: T | undefined): T {
  assert.ok(x !== undefined, "set up in before()");
  return x;
}

/** Resolves once `predicate` holds; the server applies entries asynchronously and the protocol has no ack. */
describe("access-log service over the wire", () => {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(3) }] }, routableByDefault: true });
  const registry = new Registry();
  let server: AuthzServer | undefined;
  let als: grpc.Client | undefined;
  let authz: grpc.Client | undefined;

  before(async () => {
    core.setApps([APP]);
    core.setPods("ns/ws", [{ name: "p1", host: "10.1.0.1", port: 80, ready: true }]);
    server = createAuthzServer({
      tickets: core,
      logger: silentLogger,
      clock: systemClock,
      registry,
      metrics: createAuthzMetrics(registry, core),
      listen: { authz: "127.0.0.1:0", accessLog: "127.0.0.1:0" },
    });
    await server.start();
    assert.notEqual(server.addresses.authz, server.addresses.accessLog);
    als = accessLogClient(server.addresses.accessLog);
    authz = authorizationClient(server.addresses.authz);
  });

  after(async () => {
    als?.close();
    authz?.close();
    await server?.stop();
  });

  async function issueWebSocket(requestId: string): Promise<string> {
    const res = await new Promise<{ ok_response?: { headers?: { header?: { key?: string; value?: string } }[] } }>((resolve, reject) =>
      (need(authz) as unknown as { Check: (r: unknown, cb: (e: Error | null, v: never) => void) => void }).Check(
        { attributes: { request: { http: { id: requestId, host: "h", path: "/ws/socket", headers: { upgrade: "websocket", "x-request-id": requestId } } } } },
        (e, v) => (e === null ? resolve(v) : reject(e)),
      ),
    );
    const id = res.ok_response?.headers?.find((h) => h.header?.key === "x-ticketplane-ticket")?.header?.value;
    assert.ok(id !== undefined);
    return id;
  }

  const ticket = (id: string) => core.tickets("ns/ws").find((t) => t.id === id);

  it("keeps a WebSocket's ticket past the idle timeout until its close entry, then releases it on the next sweep", async () => {
    const id = await issueWebSocket("ws-1");
    assert.equal(ticket(id)?.openConnections, 0, "Check opens nothing: the upgrade has not happened yet");
    const { stream, done } = openStream(need(als));
    stream.write(logs(entry(id, "ws-1", 101, "DownstreamTunnelSuccessfullyEstablished")));
    await waitFor(() => ticket(id)?.openConnections === 1);
    assert.equal(ticket(id)?.confirmed, true, "an open WebSocket confirms its ticket");
    for (let i = 0; i < 4; i++) {
      clock.advance(30_000);
      stream.write(logs(entry(id, "ws-1", 101, "DownstreamPeriodic")));
      await waitFor(() => ticket(id)?.lastActiveAt === clock.now());
      core.sweep();
    }
    assert.ok(ticket(id) !== undefined, "an open WebSocket never goes idle (120 s against a 60 s idle timeout)");
    assert.equal(ticket(id)?.openConnections, 1);

    stream.write(logs(entry(id, "ws-1", 101, "DownstreamEnd")));
    await waitFor(() => ticket(id)?.openConnections === 0);
    core.sweep();
    assert.ok(ticket(id) !== undefined, "idle time counts from the close");
    clock.advance(60_000);
    core.sweep();
    assert.equal(ticket(id), undefined);
    stream.end();
    assert.equal(await done, null);
  });

  it("a failed upgrade opens nothing, a WebSocket whose close entry is lost is closed after connectionTimeout, and entries of denied requests are ignored", async () => {
    const id = await issueWebSocket("ws-3");
    const { stream, done } = openStream(need(als));
    stream.write(logs(entry(id, "ws-3", 426, "DownstreamEnd")));
    stream.write(logs(entry(id, "ws-forged", 101, "DownstreamPeriodic", true)));
    await waitFor(() => ticket(id)?.lastActiveAt === clock.now());
    assert.equal(ticket(id)?.openConnections, 0, "neither the refused upgrade nor a denied request opened a connection");

    stream.write(logs(entry(id, "ws-4", 101, "DownstreamTunnelSuccessfullyEstablished")));
    await waitFor(() => ticket(id)?.openConnections === 1);
    clock.advance(59_999);
    core.sweep();
    assert.equal(ticket(id)?.openConnections, 1);
    clock.advance(1);
    core.sweep();
    assert.equal(ticket(id)?.openConnections, 0, "not reported for 60 s: its close entry was lost");
    clock.advance(60_000);
    core.sweep();
    assert.equal(ticket(id), undefined, "then the idle timeout applies");
    stream.end();
    assert.equal(await done, null);
  });

  it("ordinary request entries refresh activity", async () => {
    const id = await issueWebSocket("ws-2");
    const { stream, done } = openStream(need(als));
    stream.write(logs(entry(id, "ws-2", 101, "DownstreamEnd")));
    await waitFor(() => ticket(id)?.openConnections === 0);
    clock.advance(50_000);
    stream.write(logs(entry(id, "plain-1", 200, "DownstreamEnd")));
    await waitFor(() => ticket(id)?.lastActiveAt === clock.now());
    clock.advance(50_000);
    core.sweep();
    assert.ok(ticket(id) !== undefined);
    stream.end();
    assert.equal(await done, null);
  });

  it("ignores garbage, foreign entries and unknown apps, and counts them", async () => {
    const raw = new grpc.Client(need(server).addresses.accessLog, grpc.credentials.createInsecure());
    let stream!: grpc.ClientWritableStream<Buffer>;
    const done = new Promise<grpc.ServiceError | null>((resolve) => {
      stream = raw.makeClientStreamRequest("/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs", (b: Buffer) => b, (b: Buffer) => b, (err) => resolve(err));
    });
    stream.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    stream.end();
    assert.equal(await done, null);
    raw.close();

    const { stream: s2, done: d2 } = openStream(need(als));
    s2.write(logs({ request: { request_headers: { "user-agent": "x" } } }));
    s2.write(logs({ request: { request_headers: { "x-ticketplane-ticket": "t", "x-ticketplane-app": "nope/none" } } }));
    s2.end();
    assert.equal(await d2, null);
    const text = await registry.metrics();
    assert.match(text, /ticketplane_access_log_ignored_total\{reason="undecodable"\} 1/);
    assert.match(text, /ticketplane_access_log_ignored_total\{reason="no_ticket"\} [1-9]/);
    assert.match(text, /ticketplane_access_log_ignored_total\{reason="unknown_app"\} 1/);
  });

  it("survives a peer that disconnects mid-stream", async () => {
    const id = await issueWebSocket("ws-3");
    const { stream, done } = openStream(need(als));
    stream.write(logs(entry(id, "ws-3", 101, "DownstreamPeriodic")));
    stream.cancel();
    const err = await done;
    assert.equal(err?.code, grpc.status.CANCELLED);
    await waitFor(() => need(server).accessLog.openStreams === 0);
    // The server still takes new streams.
    const next = openStream(need(als));
    next.stream.write(logs(entry(id, "ws-3", 101, "DownstreamEnd")));
    await waitFor(() => ticket(id)?.openConnections === 0);
    next.stream.end();
    assert.equal(await next.done, null);
  });

  it("ends open streams itself when stopping, so shutdown does not hang", async () => {
    const clock2 = new FakeClock();
    const core2 = new TicketCore({ clock: clock2, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32).fill(1) }] } });
    const s = createAuthzServer({ tickets: core2, logger: silentLogger, clock: systemClock, registry: new Registry(), listen: { authz: "127.0.0.1:0" }, shutdownGraceMs: 60_000 });
    await s.start();
    assert.equal(s.addresses.accessLog, s.addresses.authz);
    const c = accessLogClient(s.addresses.accessLog);
    const { stream, done } = openStream(c);
    stream.write(logs());
    await waitFor(() => s.accessLog.openStreams === 1);
    await s.stop();
    assert.equal(await done, null);
    c.close();
  });
});
