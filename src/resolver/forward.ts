/**
 * Real proxying over node:http: the request's body streams to the upstream
 * and the response's back (pipe: back-pressure both ways, nothing buffered
 * beyond the streams' high-water marks), and a WebSocket upgrade becomes two
 * sockets piped into each other.
 *
 * The body is piped only once the upstream connection is up, so a refused
 * connection has consumed nothing and the request can be tried again: the
 * caller's `onRefused` decides whether it is (the resolver retries a held
 * request once: a pod can be Ready before it listens).
 */
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
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

/** The keep-alive pool the resolver forwards through (one per resolver, closed when it stops). */
export function createUpstreamAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1024, scheduling: "lifo" });
}

function requestHeaders(req: IncomingMessage, dest: Forward, upgrade: boolean): string[] {
  const header = req.headers["x-forwarded-for"];
  const received = Array.isArray(header) ? header.join(", ") : header;
  const client = req.socket.remoteAddress;
  const forwardedFor = received === undefined ? (client ?? "") : client === undefined ? received : `${received}, ${client}`;
  const set: (readonly [string, string])[] = [...dest.setHeaders, ["x-forwarded-for", forwardedFor]];
  if (upgrade) set.push(["connection", "upgrade"], ["upgrade", String(req.headers.upgrade ?? "websocket")]);
  return forwardHeaders(req.rawHeaders, { set });
}

/** A request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): nothing to stream. */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
}

/** Calls `onConnected` once the request's socket is connected (at once for a reused keep-alive socket). */
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

/** Forwards one HTTP request; `hooks.onEnd` is called exactly once. */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, dest: Forward, agent: Agent, hooks: ForwardHooks): void {
  let connected = false;
  const end = endOnce(hooks);
  const up = httpRequest({ host: dest.host, port: dest.port, method: req.method, path: dest.path, headers: requestHeaders(req, dest, false), agent });
  whenConnected(up, () => {
    connected = true;
    // Most requests (GETs) have no body: end at once rather than set up a pipe that would only carry "end".
    if (hasBody(req)) req.pipe(up);
    else up.end();
  });
  up.on("response", (ures) => {
    res.writeHead(ures.statusCode ?? 502, ures.statusMessage, forwardHeaders(ures.rawHeaders, { add: dest.responseHeaders }));
    hooks.onFirstByte?.();
    end({ kind: "answered" });
    ures.pipe(res);
    ures.on("error", () => res.destroy());
  });
  up.on("error", (err) => {
    if (!connected && isRefused(err) && !res.headersSent) return end({ kind: "refused" });
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" }).end(BAD_GATEWAY_BODY);
    else res.destroy(err);
    end({ kind: "failed", error: err });
  });
  // The client went away: stop the upstream side too.
  res.on("close", () => {
    if (!res.writableFinished) up.destroy();
  });
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
