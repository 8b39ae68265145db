import assert from "node:assert/strict";
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { eventually } from "../../test/support/wait-for.js";
import { rejectionOf } from "../../test/support/rejection.js";
import { PeerCallError, PeerChannel } from "./peer-channel.js";

const identity = (b: Buffer): Buffer => b;
const method = (name: string) => ({ path: `/test.Echo/${name}`, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity }) as const;
const SERVICE = { echo: method("Echo"), fail: method("Fail"), never: method("Never"), big: method("Big") };

interface Peer {
  readonly address: string;
  readonly seen: { metadata: grpc.Metadata; cancelled: boolean }[];
  stop(): void;
}

/** A grpc-js server: the independent peer this client must interoperate with. */
async function grpcPeer(port = 0): Promise<Peer> {
  const server = new grpc.Server();
  const seen: Peer["seen"] = [];
  const record = (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
    const entry = { metadata: call.metadata, cancelled: false };
    call.on("cancelled", () => (entry.cancelled = true));
    seen.push(entry);
  };
  server.addService(SERVICE, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      record(call);
      done(null, Buffer.concat([Buffer.from("echo:"), call.request]));
    },
    fail: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      record(call);
      done({ code: grpc.status.FAILED_PRECONDITION, details: "this replica does not own app ns/ü 100%" });
    },
    never: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => record(call),
    big: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      record(call);
      done(null, Buffer.alloc(5 * 1024 * 1024, 1));
    },
  });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${String(port)}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { address: `127.0.0.1:${String(bound)}`, seen, stop: () => server.forceShutdown() };
}

/** A plain HTTP/2 server that answers every stream with `answer`. */
async function h2Peer(answer: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void): Promise<{ address: string; server: Http2Server }> {
  const server = createServer();
  server.on("stream", (stream, headers) => {
    // A stream this peer resets on purpose reports it as an error on its own side too.
    stream.on("error", () => undefined);
    answer(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${String((server.address() as AddressInfo).port)}`, server };
}

describe("PeerChannel: unary gRPC over node:http2, against a grpc-js server", () => {
  const cleanup: (() => void)[] = [];
  after(() => {
    for (const c of cleanup) c();
  });
  /** A grpc-js peer and a channel to it, both ended after the suite. */
  const connected = async (): Promise<{ peer: Awaited<ReturnType<typeof grpcPeer>>; channel: PeerChannel }> => {
    const peer = await grpcPeer();
    const channel = new PeerChannel(peer.address);
    cleanup.push(() => channel.close(), () => peer.stop());
    return { peer, channel };
  };

  it("a call carries its message and metadata and resolves with the answer; calls share one connection", async () => {
    const { peer, channel } = await connected();
    const answers = await Promise.all(["a", "b", "c"].map((m) => channel.call("/test.Echo/Echo", Buffer.from(m), { authorization: "Bearer k1.x" }, 2_000)));
    assert.deepEqual(answers.map(String), ["echo:a", "echo:b", "echo:c"]);
    assert.deepEqual(peer.seen.map((s) => s.metadata.get("authorization")), [["Bearer k1.x"], ["Bearer k1.x"], ["Bearer k1.x"]]);
    const empty = await channel.call("/test.Echo/Echo", new Uint8Array(), {}, 2_000);
    assert.equal(String(empty), "echo:");
  });

  it("the server's status and message come back as the error's code and details", async () => {
    const { channel } = await connected();
    const err = await rejectionOf(channel.call("/test.Echo/Fail", Buffer.from("x"), {}, 2_000), PeerCallError);
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(err.details, "this replica does not own app ns/ü 100%");
    const unknown = await rejectionOf(channel.call("/test.Echo/Nope", Buffer.from("x"), {}, 2_000), PeerCallError);
    assert.equal(unknown.code, grpc.status.UNIMPLEMENTED);
  });

  it("past the deadline: DEADLINE_EXCEEDED, and the server sees the call cancelled (grpc-timeout sent, stream reset)", async () => {
    const { peer, channel } = await connected();
    const err = await rejectionOf(channel.call("/test.Echo/Never", Buffer.from("x"), {}, 50), PeerCallError);
    assert.equal(err.code, grpc.status.DEADLINE_EXCEEDED);
    await eventually(() => peer.seen[0]?.cancelled, { what: "the server to see the call cancelled" });
    assert.equal(String(await channel.call("/test.Echo/Echo", Buffer.from("y"), {}, 2_000)), "echo:y", "the connection is still good");
  });

  it("an address that is not host:port: UNAVAILABLE, naming it", async () => {
    const channel = new PeerChannel("peer-without-port");
    cleanup.push(() => channel.close());
    const err = await rejectionOf(channel.call("/test.Echo/Echo", Buffer.from("x"), {}, 2_000), PeerCallError);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    assert.match(err.details, /"peer-without-port": not a host:port address/);
  });

  it("nothing listening: UNAVAILABLE at once; once the peer is up, the next call connects", async () => {
    const probe = await grpcPeer();
    const port = Number(probe.address.split(":")[1]);
    probe.stop();
    const channel = new PeerChannel(`127.0.0.1:${String(port)}`);
    cleanup.push(() => channel.close());
    const err = await rejectionOf(channel.call("/test.Echo/Echo", Buffer.from("x"), {}, 5_000), PeerCallError);
    assert.equal(err.code, grpc.status.UNAVAILABLE);
    const peer = await grpcPeer(port);
    cleanup.push(() => peer.stop());
    assert.equal(String(await channel.call("/test.Echo/Echo", Buffer.from("x"), {}, 2_000)), "echo:x");
  });

  it("the peer goes away and comes back: the call in flight fails UNAVAILABLE, a later call reconnects", async () => {
    const peer = await grpcPeer();
    const port = Number(peer.address.split(":")[1]);
    const channel = new PeerChannel(peer.address);
    cleanup.push(() => channel.close());
    channel.warm();
    const pending = channel.call("/test.Echo/Never", Buffer.from("x"), {}, 5_000);
    await eventually(() => peer.seen.length === 1, { what: "the call to arrive" });
    peer.stop();
    assert.equal((await rejectionOf(pending, PeerCallError)).code, grpc.status.UNAVAILABLE);
    const again = await grpcPeer(port);
    cleanup.push(() => again.stop());
    assert.equal(String(await channel.call("/test.Echo/Echo", Buffer.from("z"), {}, 2_000)), "echo:z");
  });

  it("an answer over the size limit is RESOURCE_EXHAUSTED", async () => {
    const { channel } = await connected();
    assert.equal((await rejectionOf(channel.call("/test.Echo/Big", Buffer.from("x"), {}, 5_000), PeerCallError)).code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it("close(): calls in flight and later calls are CANCELLED", async () => {
    const peer = await grpcPeer();
    const channel = new PeerChannel(peer.address);
    cleanup.push(() => peer.stop());
    const pending = channel.call("/test.Echo/Never", Buffer.from("x"), {}, 5_000);
    await eventually(() => peer.seen.length === 1, { what: "the call to arrive" });
    channel.close();
    assert.equal((await rejectionOf(pending, PeerCallError)).code, grpc.status.CANCELLED);
    assert.equal((await rejectionOf(channel.call("/test.Echo/Echo", Buffer.from("x"), {}, 1_000), PeerCallError)).code, grpc.status.CANCELLED);
  });
});

describe("PeerChannel: a peer that does not speak gRPC", () => {
  const cleanup: (() => void)[] = [];
  after(() => {
    for (const c of cleanup) c();
  });

  const cases: [string, (s: ServerHttp2Stream) => void, grpc.status][] = [
    ["HTTP 404", (s) => s.respond({ ":status": 404 }, { endStream: true }), grpc.status.UNIMPLEMENTED],
    ["HTTP 503", (s) => s.respond({ ":status": 503 }, { endStream: true }), grpc.status.UNAVAILABLE],
    ["HTTP 200 without grpc-status", (s) => (s.respond({ ":status": 200 }), s.end("hello")), grpc.status.INTERNAL],
    ["a grpc-status that is no status", (s) => s.respond({ ":status": 200, "grpc-status": "banana" }, { endStream: true }), grpc.status.UNKNOWN],
    ["OK with bytes that are not one message", (s) => (s.respond({ ":status": 200 }, { waitForTrailers: true }), s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" })), s.end(Buffer.from([0, 0, 0, 0, 9, 1]))), grpc.status.INTERNAL],
    ["a compressed message", (s) => (s.respond({ ":status": 200 }, { waitForTrailers: true }), s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" })), s.end(Buffer.from([1, 0, 0, 0, 1, 1]))), grpc.status.INTERNAL],
    ["a stream reset", (s) => s.close(2), grpc.status.UNAVAILABLE],
  ];
  for (const [what, answer, code] of cases) {
    it(`${what}: ${grpc.status[code]}, no crash`, async () => {
      const peer = await h2Peer(answer);
      const channel = new PeerChannel(peer.address);
      cleanup.push(() => channel.close(), () => peer.server.close());
      assert.equal((await rejectionOf(channel.call("/test.Echo/Echo", Buffer.from("x"), {}, 2_000), PeerCallError)).code, code);
    });
  }

  it("the server side sees a gRPC request: POST, application/grpc, te: trailers, grpc-timeout, one framed message", async () => {
    let seen: { headers: IncomingHttpHeaders; body: Buffer } | undefined;
    const peer = await h2Peer((s, headers) => {
      const chunks: Buffer[] = [];
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("end", () => {
        seen = { headers, body: Buffer.concat(chunks) };
        s.respond({ ":status": 200, "grpc-status": "5", "grpc-message": "not%20here" }, { endStream: true });
      });
    });
    const channel = new PeerChannel(peer.address);
    cleanup.push(() => channel.close(), () => peer.server.close());
    const err = await rejectionOf(channel.call("/test.Echo/Echo", Buffer.from("hi"), { authorization: "Bearer x" }, 1_500), PeerCallError);
    assert.deepEqual([err.code, err.details], [grpc.status.NOT_FOUND, "not here"], "a trailers-only answer");
    assert.deepEqual(seen?.body, Buffer.from([0, 0, 0, 0, 2, 0x68, 0x69]));
    const h = seen?.headers ?? {};
    assert.deepEqual([h[":method"], h[":path"], h["content-type"], h["te"], h["grpc-timeout"], h["authorization"]], ["POST", "/test.Echo/Echo", "application/grpc", "trailers", "1500m", "Bearer x"]);
  });
});
