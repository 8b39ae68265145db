/**
 * Forwarding to the endpoint the route chose, over node:http: requests with
 * back-pressure (pipe both ways), WebSocket upgrades as a raw tunnel once the
 * upstream answered 101. Hop-by-hop headers are not forwarded; the
 * `:authority` goes upstream as Host, as Envoy sends it without a host
 * rewrite. No library: node:http does what is needed with back-pressure,
 * and a proxy library would bring its own header handling to fight with.
 */
import http from "node:http";
import type { Duplex } from "node:stream";
import type { Timer } from "../../common/clock.js";
import type { HeaderList } from "./header-mutation.js";
import type { Endpoint } from "./resources.js";

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1); `upgrade` is re-added for a tunnel. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"]);

/** A HeaderList as node:http takes it, without hop-by-hop headers. */
export function outgoingHeaders(headers: HeaderList): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, values] of headers) if (!HOP_BY_HOP.has(name)) out[name] = values.length === 1 ? values[0] : [...values];
  return out;
}

/** A response as raw HTTP/1.1 bytes, for a socket that was to be upgraded. */
export function rawResponse(status: number, headers: HeaderList, body: string): string {
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Unknown"}`];
  for (const [name, values] of headers) for (const v of values) lines.push(`${name}: ${v}`);
  if (status !== 101) lines.push(`content-length: ${Buffer.byteLength(body)}`, "connection: close");
  return `${lines.join("\r\n")}\r\n\r\n${status === 101 ? "" : body}`;
}

export interface UpstreamRequest {
  readonly endpoint: Endpoint;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly headers: HeaderList;
}

function requestOptions(up: UpstreamRequest, extra: http.OutgoingHttpHeaders = {}): http.RequestOptions {
  return { host: up.endpoint.host, port: up.endpoint.port, method: up.method, path: up.path, headers: { ...outgoingHeaders(up.headers), host: up.authority, ...extra }, agent: false };
}

export interface ForwardCallbacks {
  /** The upstream answered: its status and headers (already in a HeaderList to mutate). */
  readonly onResponse: (response: http.IncomingMessage) => void;
  /** No response came: the reason (connect error, reset, timeout). */
  readonly onFailure: (reason: "connection_failure" | "timeout") => void;
}

/**
 * Sends `downstream`'s body to the endpoint and reports the upstream's
 * response or failure once. `armTimeout` starts the route timeout (0: none);
 * the caller cancels the returned request on its side's errors.
 */
export function forwardRequest(downstream: http.IncomingMessage, up: UpstreamRequest, armTimeout: (onTimeout: () => void) => Timer | undefined, callbacks: ForwardCallbacks): http.ClientRequest {
  let settled = false;
  const settle = (fn: () => void): void => {
    if (settled) return;
    settled = true;
    timer?.cancel();
    fn();
  };
  const request = http.request(requestOptions(up));
  const timer = armTimeout(() =>
    settle(() => {
      request.destroy();
      callbacks.onFailure("timeout");
    }),
  );
  request.on("response", (response) => settle(() => callbacks.onResponse(response)));
  request.on("error", () => settle(() => callbacks.onFailure("connection_failure")));
  downstream.pipe(request);
  return request;
}

export interface TunnelCallbacks {
  /** The upstream agreed (101): the tunnel is up; `response` carries its headers. */
  readonly onOpen: (response: http.IncomingMessage, upstream: Duplex, head: Buffer) => void;
  /** The upstream answered without upgrading: relay this response instead. */
  readonly onRefused: (response: http.IncomingMessage) => void;
  readonly onFailure: () => void;
}

/** Asks the endpoint to upgrade `up` to a WebSocket. */
export function openTunnel(up: UpstreamRequest, callbacks: TunnelCallbacks): http.ClientRequest {
  const request = http.request(requestOptions(up, { connection: "Upgrade", upgrade: "websocket" }));
  let settled = false;
  request.on("upgrade", (response, socket, head) => {
    settled = true;
    callbacks.onOpen(response, socket, head);
  });
  request.on("response", (response) => {
    settled = true;
    callbacks.onRefused(response);
  });
  request.on("error", () => {
    if (!settled) callbacks.onFailure();
    settled = true;
  });
  request.end();
  return request;
}
