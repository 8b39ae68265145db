/**
 * forwardHttp between real sockets on 127.0.0.1: a node:http server that
 * forwards every request through one upstream pool to an upstream the test
 * shapes (one that echoes, does not read, stops answering, resets). What is
 * checked is what a proxy owes both sides: bodies stream as they arrive,
 * a side that stops reading holds the other back (nothing piles up in the
 * proxy), and a side that goes away or fails ends the other cleanly.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Writable } from "node:stream";
import { afterEach, describe, it } from "node:test";
import { eventually } from "../../test/support/wait-for.js";
import { createUpstreamPool, forwardHttp, type Forward, type ForwardEnd } from "./forward.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CHUNK = Buffer.alloc(64 * 1024, "x");
/** More than every socket buffer between client and upstream can take (loopback receive buffers grow to 32 MiB). */
const HUGE = 256 * 1024 * 1024;
/** What the proxy may hold in its own streams: their high-water marks and a chunk or two. */
const BOUND = 1024 * 1024;

async function listen(handler: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

/** The proxy under test: every request forwarded to `upstreamPort`, with what each forward came to. */
async function proxyTo(upstreamPort: number, setHeaders: Forward["setHeaders"] = []) {
  const pool = createUpstreamPool();
  cleanups.push(() => pool.destroy());
  const ends: ForwardEnd[] = [];
  const exchanges: { req: IncomingMessage; res: ServerResponse }[] = [];
  const { port } = await listen((req, res) => {
    exchanges.push({ req, res });
    const dest: Forward = { kind: "forward", host: "127.0.0.1", port: upstreamPort, path: req.url ?? "/", setHeaders, responseHeaders: [] };
    forwardHttp(req, res, dest, pool, { onEnd: (e) => ends.push(e) });
  });
  return { port, ends, exchanges };
}

function send(port: number, method: string, path: string, headers: Record<string, string> = {}): ClientRequest {
  const req = httpRequest({ host: "127.0.0.1", port, method, path, headers, agent: false });
  cleanups.push(() => {
    req.on("error", () => undefined); // the test is over: its request may end any way
    req.destroy();
    return Promise.resolve();
  });
  return req;
}

function answerOf(req: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
}

async function readAll(res: IncomingMessage): Promise<string> {
  let body = "";
  res.setEncoding("latin1");
  for await (const c of res) body += c as string;
  return body;
}

/** A GET to `port` and its body: a full turn of every event loop and socket between here and the upstream. */
async function roundTrip(port: number): Promise<string> {
  const req = send(port, "GET", "/ping");
  req.end();
  return readAll(await answerOf(req));
}

/**
 * Resolves once a transfer has stopped for good: `blocked()` holds and
 * `progress()` did not move over a round trip through the proxy. A transfer
 * nothing holds back never gets here (it finishes, and is not blocked).
 */
async function stuck(progress: () => number, blocked: () => boolean, port: number): Promise<void> {
  await eventually(
    async () => {
      const before = progress();
      if (!blocked()) return false;
      await roundTrip(port);
      return blocked() && progress() === before;
    },
    { what: "the transfer to stop, held back", timeoutMs: 30_000 },
  );
}

interface Pumped {
  readonly written: number;
  readonly blocked: boolean;
}

/** Writes up to HUGE into `out` as fast as it takes it (waiting for each drain), then ends it; how far it got, for `stuck`. */
function pump(out: Writable): Pumped {
  const state = { written: 0, blocked: false };
  const more = (): void => {
    state.blocked = false;
    while (state.written < HUGE) {
      state.written += CHUNK.length;
      if (!out.write(CHUNK)) {
        state.blocked = true;
        out.once("drain", more);
        return;
      }
    }
    out.end();
  };
  more();
  return state;
}

/** An upstream that echoes what it is sent, answers /ping, and records the request heads it saw. */
async function echoUpstream() {
  const heads: IncomingMessage["headers"][] = [];
  const { port } = await listen((req, res) => {
    heads.push(req.headers);
    if (req.url === "/ping") return void res.end("pong");
    res.writeHead(200, { "content-type": "application/octet-stream" });
    req.pipe(res);
  });
  return { port, heads };
}

describe("forwardHttp", () => {
  it("streams an upload both ways as it arrives: the echo of its first part is back before the client sends the rest", async () => {
    const up = await echoUpstream();
    const proxy = await proxyTo(up.port);
    const req = send(proxy.port, "POST", "/echo", { "content-type": "application/octet-stream" });
    const first = Buffer.alloc(1024 * 1024, "a");
    req.write(first);
    const res = await answerOf(req);
    let received = "";
    res.setEncoding("latin1");
    res.on("data", (c: string) => (received += c));
    await eventually(() => received.length >= first.length, { what: "the echo of the first MiB (the rest is not sent yet)" });
    req.end(Buffer.alloc(1024 * 1024, "b"));
    await new Promise((resolve) => res.once("end", resolve));
    assert.equal(received, "a".repeat(1024 * 1024) + "b".repeat(1024 * 1024));
    assert.deepEqual(proxy.ends, [{ kind: "answered" }]);
  });

  it("holds an upload back while the upstream does not read it: the client is stopped, the proxy holds no more than its streams' bounds", async () => {
    let upstreamReq: IncomingMessage | undefined;
    const { port: upstreamPort } = await listen((req, res) => {
      if (req.url === "/ping") return void res.end("pong");
      upstreamReq = req;
      req.pause(); // reads nothing
    });
    const proxy = await proxyTo(upstreamPort);
    const req = send(proxy.port, "POST", "/upload");
    const sent = pump(req);
    await stuck(() => sent.written, () => sent.blocked, proxy.port);
    assert.ok(sent.written < HUGE);
    const held = proxy.exchanges.find((e) => e.req.url === "/upload")?.req;
    assert.ok(held !== undefined && held.readableLength <= BOUND, `the proxy buffers ${String(held?.readableLength)} bytes of the upload`);
    assert.ok(upstreamReq !== undefined, "the upstream has the request (its head went ahead of the body)");
  });

  it("holds the upstream's answer back while the client does not read it, with no more than a bound in the proxy", async () => {
    let answered: Pumped | undefined;
    const { port: upstreamPort } = await listen((req, res) => {
      if (req.url === "/ping") return void res.end("pong");
      res.writeHead(200, { "content-type": "application/octet-stream" });
      answered = pump(res);
    });
    const proxy = await proxyTo(upstreamPort);
    const req = send(proxy.port, "GET", "/download");
    req.end();
    const res = await answerOf(req);
    res.pause(); // reads nothing
    await stuck(() => answered?.written ?? 0, () => answered?.blocked === true, proxy.port);
    assert.ok((answered?.written ?? HUGE) < HUGE);
    const relayed = proxy.exchanges.find((e) => e.req.url === "/download")?.res;
    assert.ok(relayed !== undefined && relayed.writableLength <= BOUND, `the proxy buffers ${String(relayed?.writableLength)} bytes of the answer`);
  });

  it("a client that goes away mid-answer ends the upstream's request too", async () => {
    let upstreamClosed = false;
    const { port: upstreamPort } = await listen((_req, res) => {
      res.writeHead(200);
      res.write("first part");
      // Never ends on its own: only the proxy going away closes it.
      res.on("close", () => (upstreamClosed = true));
    });
    const proxy = await proxyTo(upstreamPort);
    const req = send(proxy.port, "GET", "/endless");
    req.end();
    const res = await answerOf(req);
    await new Promise((resolve) => res.once("data", resolve));
    req.destroy();
    await eventually(() => upstreamClosed, { what: "the upstream's request to be closed" });
    assert.deepEqual(proxy.ends, [{ kind: "answered" }]);
  });

  it("an upstream that resets mid-answer cuts the client's answer short: no clean end the client could take for the whole body", async () => {
    const { port: upstreamPort } = await listen((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial", () => req.socket.destroy());
    });
    const proxy = await proxyTo(upstreamPort);
    const req = send(proxy.port, "GET", "/cut");
    req.end();
    const res = await answerOf(req);
    assert.equal(res.statusCode, 200);
    await assert.rejects(readAll(res), /aborted|ECONNRESET|socket hang up/);
    assert.deepEqual(proxy.ends, [{ kind: "answered" }]);
  });

  it("an upstream that resets mid-upload: the client gets the 502 with its body, on a connection that closes", async () => {
    const { port: upstreamPort } = await listen((req) => {
      req.once("data", () => req.socket.destroy());
    });
    const proxy = await proxyTo(upstreamPort);
    const req = send(proxy.port, "POST", "/upload");
    req.on("error", () => undefined); // the rest of the upload may meet the closed connection
    req.write(CHUNK);
    const res = await answerOf(req);
    assert.equal(res.statusCode, 502);
    assert.equal(res.headers.connection, "close");
    assert.match(await readAll(res), /did not answer/);
    assert.equal(proxy.ends.length, 1);
    assert.equal(proxy.ends[0]?.kind, "failed");
  });

  it("passes a request that expected 100-continue: node's server answered it, the upstream gets the body without the expectation", async () => {
    const up = await echoUpstream();
    const proxy = await proxyTo(up.port);
    const req = send(proxy.port, "PUT", "/file", { expect: "100-continue", "content-length": "5" });
    req.once("continue", () => req.end("hello"));
    const res = await answerOf(req);
    assert.equal(res.statusCode, 200);
    assert.equal(await readAll(res), "hello");
    assert.equal(up.heads[0]?.expect, undefined);
  });

  it("answers a HEAD with the upstream's head and no body, and the next request still goes through", async () => {
    const { port: upstreamPort } = await listen((req, res) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "11", "x-upstream": "yes" });
      res.end(req.method === "HEAD" ? undefined : "hello world");
    });
    const proxy = await proxyTo(upstreamPort);
    const head = send(proxy.port, "HEAD", "/x");
    head.end();
    const res = await answerOf(head);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-length"], "11");
    assert.equal(res.headers["x-upstream"], "yes");
    assert.equal(await readAll(res), "");
    const get = send(proxy.port, "GET", "/x");
    get.end();
    assert.equal(await readAll(await answerOf(get)), "hello world");
    assert.deepEqual(proxy.ends, [{ kind: "answered" }, { kind: "answered" }]);
  });

  it("a header the upstream client refuses to send: 502 and a failed end, never a crash", async () => {
    const up = await echoUpstream();
    const proxy = await proxyTo(up.port, [["x-bad", "a\r\nb"]]);
    const req = send(proxy.port, "GET", "/x");
    req.end();
    const res = await answerOf(req);
    assert.equal(res.statusCode, 502);
    assert.match(await readAll(res), /did not answer/);
    assert.equal(proxy.ends[0]?.kind, "failed");
    assert.equal(up.heads.length, 0, "nothing reached the upstream");
  });
});
