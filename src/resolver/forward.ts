/**
 * Real proxying: the request's body streams to the upstream and the
 * response's back with back-pressure both ways (nothing buffered beyond the
 * streams' high-water marks), and a WebSocket upgrade becomes two sockets
 * piped into each other.
 *
 * HTTP goes through undici's dispatcher (a keep-alive pool per upstream
 * address): per request it costs a fraction of node:http's ClientRequest
 * and Agent, and pass-through is the resolver's hot path. An upgrade is
 * per connection, not per request, and stays on node:http.
 *
 * The body is read only once the upstream connection is up, so a refused
 * connection has consumed nothing and the request can be tried again: it
 * ends "refused" and the caller decides whether it is (the resolver retries
 * a held request once: a pod can be Ready before it listens).
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import { endToEnd, forwardHeaders } from "./hop-headers.js";
import type { Destination } from "./ports.js";
import { endSocket, responseHead } from "./raw-response.js";

export type Forward = Extract<Destination, { kind: "forward" }>;

/** How a forward ended, for the caller's metrics and retry. */
export type ForwardEnd =
  /** The upstream answered (its response is being relayed). */
  | { readonly kind: "answered" }
  /** Connection refused before anything was sent: the request is intact and may be tried again. */
  | { readonly kind: "refused" }
  /** Any other failure; the client got a 502 if nothing was sent yet. */
  | { readonly kind: "failed"; readonly error: Error };

export interface ForwardHooks {
  /** The first byte of the upstream's answer reaches the client. */
  readonly onFirstByte?: () => void;
  readonly onEnd: (end: ForwardEnd) => void;
  /** An upgrade was answered 101 and the two sockets are joined (a WebSocket is open). */
  readonly onUpgraded?: () => void;
  /** …and that pair closed (called once, after onUpgraded). */
  readonly onUpgradeClosed?: () => void;
}

const BAD_GATEWAY_BODY = "ticketplane resolver: the app's pod did not answer\n";

/** The keep-alive pools the resolver forwards HTTP through, one per upstream address (one set per resolver, closed when it stops). */
export type UpstreamPool = Agent;

export function createUpstreamPool(): UpstreamPool {
  // No headers or body timeout (undici's default is 300 s each): a proxied answer may rightly be slow or a long-lived
  // stream (long polling, server-sent events); it ends when either side goes away, as through node:http.
  return new Agent({ connections: 1024, headersTimeout: 0, bodyTimeout: 0 });
}

/**
 * Dropped from a forwarded request besides the hop-by-hop headers: node's
 * server already answered `Expect: 100-continue` to the client, so the
 * expectation is met on this hop (and undici refuses the header).
 */
const REQUEST_DROPS: ReadonlySet<string> = new Set(["expect"]);

function requestHeaders(req: IncomingMessage, dest: Forward, upgrade: boolean): string[] {
  const header = req.headers["x-forwarded-for"];
  const received = Array.isArray(header) ? header.join(", ") : header;
  const client = req.socket.remoteAddress;
  const forwardedFor = received === undefined ? (client ?? "") : client === undefined ? received : `${received}, ${client}`;
  const set: (readonly [string, string])[] = [...dest.setHeaders, ["x-forwarded-for", forwardedFor]];
  if (upgrade) set.push(["connection", "upgrade"], ["upgrade", String(req.headers.upgrade ?? "websocket")]);
  return forwardHeaders(req.rawHeaders, { set, drop: upgrade ? undefined : REQUEST_DROPS });
}

/** A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): nothing to stream. */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
}

/** Calls `onConnected` once the request's socket is connected. */
function whenConnected(up: ReturnType<typeof httpRequest>, onConnected: () => void): void {
  up.once("socket", (s: Socket) => {
    if (s.connecting) s.once("connect", onConnected);
    else onConnected();
  });
}

function isRefused(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ECONNREFUSED";
}

/** `hooks.onEnd`, called at most once; `done()` says whether it was. */
function endOnce(hooks: ForwardHooks): ((e: ForwardEnd) => void) & { done(): boolean } {
  let ended = false;
  const end = (e: ForwardEnd): void => {
    if (ended) return;
    ended = true;
    hooks.onEnd(e);
  };
  return Object.assign(end, { done: () => ended });
}

/** undici hands raw header names and values as bytes; node's `writeHead` takes them as latin1 strings, as node's parser reads them. */
function rawStrings(raw: Dispatcher.DispatchController["rawHeaders"]): string[] {
  if (!Array.isArray(raw)) return [];
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const h = raw[i];
    out[i] = typeof h === "string" ? h : (h?.toString("latin1") ?? "");
  }
  return out;
}

/**
 * One HTTP request through the pool: undici's dispatch handler, relaying
 * the upstream's answer onto `res`. A class rather than closures: one
 * object per request on the hot path.
 */
class HttpRelay implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  /** undici started writing the request: the connection is up, and the body may have been read. */
  #started = false;
  #clientGone = false;
  #done = false;
  readonly #onClientClose = (): void => this.#clientClosed();
  /** Made on the first pause only: most answers fit the client's socket buffer. */
  #resume: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly dest: Forward,
    private readonly hooks: ForwardHooks,
  ) {
    res.on("close", this.#onClientClose);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#started = true;
    if (this.#clientGone) controller.abort(new Error("the client went away"));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, _headers: unknown, statusMessage?: string): void {
    const headers = forwardHeaders(rawStrings(controller.rawHeaders), { add: this.dest.responseHeaders });
    if (statusMessage === undefined || statusMessage === "") this.res.writeHead(statusCode, headers);
    else this.res.writeHead(statusCode, statusMessage, headers);
    this.hooks.onFirstByte?.();
    this.#end({ kind: "answered" });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // The client reads slower than the upstream sends: stop reading the upstream until the client drained.
    if (!this.res.write(chunk)) {
      controller.pause();
      this.#resume ??= () => this.#controller?.resume();
      this.res.once("drain", this.#resume);
    }
  }

  onResponseEnd(): void {
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#done || this.#clientGone) {
      // Mid-answer, or the client is gone: nothing left to tell it.
      this.res.destroy(error);
      this.#end({ kind: "failed", error });
      return;
    }
    if (!this.#started && isRefused(error)) {
      // Nothing was read or sent: the caller may try the same request again, which listens for the client's close anew.
      this.res.off("close", this.#onClientClose);
      this.#end({ kind: "refused" });
      return;
    }
    // (A body the upstream did not take stays unread: node's server then closes the client's connection after the 502.)
    if (!this.res.headersSent) this.res.writeHead(502, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end(BAD_GATEWAY_BODY);
    else this.res.destroy(error);
    this.#end({ kind: "failed", error });
  }

  #end(e: ForwardEnd): void {
    if (this.#done) return;
    this.#done = true;
    this.hooks.onEnd(e);
  }

  /** The client went away: stop the upstream side too (once undici has started the request; before that, as it starts). */
  #clientClosed(): void {
    if (this.res.writableFinished) return;
    this.#clientGone = true;
    this.#controller?.abort(new Error("the client went away"));
  }
}

/** `http://host:port`, an IPv6 literal in brackets (only those have a colon; `isIPv6` costs more, once per request). */
function originOf(dest: Forward): string {
  return dest.host.includes(":") ? `http://[${dest.host}]:${String(dest.port)}` : `http://${dest.host}:${String(dest.port)}`;
}

/** Forwards one HTTP request through `pool`; `hooks.onEnd` is called exactly once. */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, dest: Forward, pool: UpstreamPool, hooks: ForwardHooks): void {
  const relay = new HttpRelay(res, dest, hooks);
  // The body as an async iterable that leaves `req` alone when undici stops early (an upstream failure): the client
  // still gets its 502. undici reads it only once connected (a refused connection consumed nothing), one chunk at a
  // time, waiting for the upstream socket to drain: back-pressure with nothing buffered beyond the socket's.
  // (A request undici will not send, such as a header value it rejects, comes back through onResponseError: a 502.)
  const body = hasBody(req) ? req.iterator({ destroyOnReturn: false }) : null;
  // The cast: undici's request takes any (async) iterable as a body (it names them among the kinds it accepts, and
  // writes them with back-pressure; fetch's streamed bodies go that way), though DispatchOptions' type lists only the
  // other kinds. forward.test.ts's upload tests stop passing if a new undici stops taking them.
  pool.dispatch({ origin: originOf(dest), method: req.method ?? "GET", path: dest.path, headers: requestHeaders(req, dest, false), body: body as Dispatcher.DispatchOptions["body"] }, relay);
}

/** Forwards one WebSocket (or other) upgrade; `hooks.onEnd` is called exactly once. */
export function forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, dest: Forward, hooks: ForwardHooks): void {
  let connected = false;
  const end = endOnce(hooks);
  // A fresh connection (no agent): an upgraded socket is never returned to a pool.
  const up = httpRequest({ host: dest.host, port: dest.port, method: req.method, path: dest.path, headers: requestHeaders(req, dest, true), agent: false });
  whenConnected(up, () => {
    connected = true;
    if (head.length > 0) up.write(head);
    up.end();
  });
  up.on("upgrade", (ures, usocket, uhead) => {
    const headers = [...endToEnd(ures.rawHeaders), ...dest.responseHeaders.map(([n, v]): [string, string] => [n, v]), ["connection", "upgrade"] as [string, string], ["upgrade", String(ures.headers.upgrade ?? "websocket")] as [string, string]];
    socket.write(responseHead(101, headers));
    hooks.onFirstByte?.();
    end({ kind: "answered" });
    if (uhead.length > 0) socket.write(uhead);
    usocket.pipe(socket).pipe(usocket);
    hooks.onUpgraded?.();
    let closed = false;
    const close = () => {
      usocket.destroy();
      socket.destroy();
      if (closed) return;
      closed = true;
      hooks.onUpgradeClosed?.();
    };
    usocket.on("error", close);
    socket.on("error", close);
    usocket.on("close", close);
    socket.on("close", close);
  });
  up.on("response", (ures) => {
    // The upstream refused to upgrade: relay its answer and close.
    const chunks: Buffer[] = [];
    let size = 0;
    ures.on("data", (c: Buffer) => {
      if ((size += c.length) <= 64 * 1024) chunks.push(c);
    });
    ures.on("end", () => {
      hooks.onFirstByte?.();
      endSocket(socket, ures.statusCode ?? 502, endToEnd(ures.rawHeaders, new Set(["content-length"])), Buffer.concat(chunks).toString("latin1"));
      end({ kind: "answered" });
    });
  });
  up.on("error", (err) => {
    if (!connected && isRefused(err)) return end({ kind: "refused" });
    endSocket(socket, 502, [["content-type", "text/plain; charset=utf-8"]], BAD_GATEWAY_BODY);
    end({ kind: "failed", error: err });
  });
  socket.on("close", () => {
    if (!end.done()) up.destroy();
  });
}
