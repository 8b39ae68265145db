import assert from "node:assert/strict";
import { connect, createServer, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { waitFor } from "../../test/support/wait-for.js";
import { classifyPreface, listenGrpc, REJECTED_CONNECTIONS_METRIC, type GrpcListener } from "./grpc-listener.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const bytes = (b: Buffer): Buffer => b;

/** Echo, and a stream that never ends by itself, with byte (de)serializers: enough for real gRPC calls. */
const echoService = {
  echo: { path: "/test.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes },
  forever: { path: "/test.Echo/Forever", requestStream: false, responseStream: true, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes },
} satisfies grpc.ServiceDefinition;

interface Env {
  readonly server: grpc.Server;
  readonly listener: GrpcListener;
  readonly clock: FakeClock;
  readonly registry: Registry;
  rejected(reason: string): Promise<number>;
  echo(text: string): Promise<string>;
  /** Opens a server stream that only ends when the server goes; resolves with its status code. */
  forever(): { opened: Promise<void>; status: Promise<number> };
  close(): Promise<void>;
}

async function start(host = "127.0.0.1", port = 0): Promise<Env> {
  const server = new grpc.Server();
  server.addService(echoService, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
    forever: (call: grpc.ServerWritableStream<Buffer, Buffer>) => call.write(Buffer.from("open")),
  });
  const clock = new FakeClock();
  const registry = new Registry();
  const listener = await listenGrpc({ server, host, port, name: "test", logger: new RecordingLogger(), clock, registry });
  const client = new grpc.Client(`127.0.0.1:${listener.port}`, grpc.credentials.createInsecure());
  return {
    server,
    listener,
    clock,
    registry,
    async rejected(reason) {
      const m = await registry.getSingleMetric(REJECTED_CONNECTIONS_METRIC)?.get();
      return m?.values.find((v) => v.labels["reason"] === reason && v.labels["server"] === "test")?.value ?? 0;
    },
    echo: (text) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(echoService.echo.path, bytes, bytes, Buffer.from(text), (err, res) => (err || res === undefined ? reject(err ?? new Error("no response")) : resolve(res.toString())));
      }),
    forever() {
      const call = client.makeServerStreamRequest(echoService.forever.path, bytes, bytes, Buffer.alloc(0));
      call.on("error", () => undefined);
      return {
        opened: new Promise((resolve) => call.once("data", () => resolve())),
        status: new Promise((resolve) => call.on("status", (st: grpc.StatusObject) => resolve(st.code))),
      };
    },
    async close() {
      client.close();
      await listener.shutdown(1_000);
    },
  };
}

/** A raw TCP client: sends `data`, resolves when the server closes the connection. */
function rawConnection(port: number, data: Buffer | string): { socket: Socket; closed: Promise<void> } {
  const socket = connect(port, "127.0.0.1", () => {
    if (data.length > 0) socket.write(data);
  });
  socket.on("error", () => undefined);
  return { socket, closed: new Promise((resolve) => socket.once("close", () => resolve())) };
}

describe("listenGrpc", () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("serves gRPC on the port it binds (port 0 picks one)", async () => {
    const e = (env = await start());
    assert.notEqual(e.listener.port, 0);
    assert.equal(await e.echo("hello"), "hello");
    assert.equal(await e.echo("again"), "again");
  });

  it("closes and counts connections that do not speak HTTP/2; gRPC goes on", async () => {
    const e = (env = await start());
    await rawConnection(e.listener.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").closed;
    await rawConnection(e.listener.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5])).closed;
    await rawConnection(e.listener.port, Buffer.from("PRI * HTTP/1.1 garbage")).closed;
    assert.equal(await e.rejected("not_http2"), 2);
    assert.equal(await e.rejected("tls"), 1);
    assert.equal(await e.echo("still here"), "still here");
  });

  it("closes and counts a connection that sends no full preface in time; a silent probe that leaves is not counted", async () => {
    const e = (env = await start());
    const probe = rawConnection(e.listener.port, "");
    await waitFor(() => e.clock.pendingTimers === 1);
    probe.socket.destroy();
    await probe.closed;
    await waitFor(() => e.clock.pendingTimers === 0);
    const slow = rawConnection(e.listener.port, PREFACE.subarray(0, 10));
    await waitFor(() => e.clock.pendingTimers === 1);
    e.clock.advance(9_999);
    assert.equal(await e.rejected("preface_timeout"), 0);
    e.clock.advance(1);
    await slow.closed;
    assert.equal(await e.rejected("preface_timeout"), 1);
    assert.equal(await e.rejected("not_http2"), 0);
  });

  it("shutdown() drops connections still on probation, and forces open calls down after the grace time", async () => {
    const e = await start();
    const waiting = rawConnection(e.listener.port, PREFACE.subarray(0, 5));
    const open = e.forever();
    await open.opened;
    await waitFor(() => e.clock.pendingTimers === 1);
    let done = false;
    const shutdown = e.listener.shutdown(1_000).then(() => (done = true));
    await waiting.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(done, false, "an open call holds the shutdown for the grace time");
    e.clock.advance(1_000);
    await shutdown;
    assert.notEqual(await open.status, grpc.status.OK);
    assert.equal(e.clock.pendingTimers, 0);
    await e.close();
  });

  it("rejects when the port is taken, and takes a host name", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    assert.ok(address !== null && typeof address === "object");
    await assert.rejects(listenGrpc({ server: new grpc.Server(), host: "127.0.0.1", port: address.port, name: "test", logger: new RecordingLogger(), clock: new FakeClock(), registry: new Registry() }), { code: "EADDRINUSE" });
    await new Promise<void>((resolve) => taken.close(() => resolve()));
    const e = (env = await start("localhost"));
    assert.equal(await e.echo("by name"), "by name");
  });
});

describe("classifyPreface", () => {
  it("waits on a proper prefix, admits the whole preface, tells TLS from other bytes", () => {
    assert.equal(classifyPreface(PREFACE.subarray(0, 1)), "wait");
    assert.equal(classifyPreface(PREFACE.subarray(0, 23)), "wait");
    assert.equal(classifyPreface(PREFACE), "http2");
    assert.equal(classifyPreface(Buffer.concat([PREFACE, Buffer.from([0, 0, 0, 4])])), "http2");
    assert.equal(classifyPreface(Buffer.from("GET")), "not_http2");
    assert.equal(classifyPreface(Buffer.from([0x16, 0x03])), "tls");
  });
});
