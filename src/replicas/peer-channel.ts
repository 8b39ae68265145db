/**
 * PeerChannel: unary gRPC calls to one peer over one HTTP/2 connection
 * (node:http2), the calling side of the peer API.
 *
 * Why not a grpc-js client: a forwarded admission sits on a user's request
 * path, and grpc-js's client machinery (resolver, load balancer, retry
 * buffering, interceptors, channelz) cost about twice the CPU of the call
 * itself and put milliseconds into its p99 on a busy 2-core host; bench:replicas
 * prints both. The peer API's server stays grpc-js, and what goes on the wire
 * is plain gRPC (length-prefixed messages, `grpc-timeout`, status in the
 * trailers), so any gRPC server answers this client and any gRPC client
 * reaches that server.
 *
 * Contracts:
 * - a call resolves with the one response message's bytes, or rejects with a
 *   {@link PeerCallError} whose `code` is a gRPC status: DEADLINE_EXCEEDED
 *   past the deadline (the stream is cancelled, so the server sees it go),
 *   UNAVAILABLE when the peer cannot be reached or the connection drops,
 *   CANCELLED after close(), the server's own status otherwise, and an HTTP
 *   answer that is not gRPC mapped as gRPC's HTTP-to-status table says;
 * - one connection, opened on the first call (or warm()) and replaced after
 *   it fails or the peer sends GOAWAY: calls never wait for a connection
 *   that is not there (fail fast, as the forwarding deadline requires);
 * - the connection does not keep the process alive while no call is in
 *   flight; TCP keep-alive finds a peer that vanished without a word.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { connect as tcpConnect } from "node:net";
import { status } from "@grpc/grpc-js";
import { parseHostPort, type HostPort } from "../config/address.js";

/** The largest response message accepted (gRPC's default receive limit). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 30_000;

/** A peer call that did not come back OK; `code` and `details` as a grpc-js ServiceError has them. */
export class PeerCallError extends Error {
  readonly code: status;
  readonly details: string;

  constructor(code: status, details: string) {
    super(`${String(code)} ${status[code]}: ${details}`);
    this.name = "PeerCallError";
    this.code = code;
    this.details = details;
  }
}

/** gRPC's mapping of an HTTP status that is not 200 (doc/http-grpc-status-mapping.md). */
function statusOfHttp(httpStatus: number): status {
  switch (httpStatus) {
    case 400:
      return status.INTERNAL;
    case 401:
      return status.UNAUTHENTICATED;
    case 403:
      return status.PERMISSION_DENIED;
    case 404:
      return status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return status.UNAVAILABLE;
    default:
      return status.UNKNOWN;
  }
}

function decodeMessage(raw: string | string[] | undefined): string {
  const text = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One length-prefixed gRPC message (uncompressed). */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The one message of a unary response, or an error naming what is wrong with the bytes. */
function unframe(body: Buffer): Buffer | PeerCallError {
  if (body.length < 5) return new PeerCallError(status.INTERNAL, `the peer's answer has no complete message (${String(body.length)} bytes)`);
  if (body[0] !== 0) return new PeerCallError(status.INTERNAL, "the peer's answer is compressed; none was asked for");
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return new PeerCallError(status.INTERNAL, `the peer's answer is not one message (${String(body.length - 5)} bytes for a message of ${String(length)})`);
  return body.subarray(5);
}

export class PeerChannel {
  readonly #address: string;
  /** `#address` parsed; undefined when it is not a host:port (every call then fails UNAVAILABLE, naming it). */
  readonly #target: HostPort | undefined;
  #session: ClientHttp2Session | undefined;
  readonly #inFlight = new Set<ClientHttp2Stream>();
  #closed = false;

  /** `address` is host:port. */
  constructor(address: string) {
    this.#address = address;
    const parsed = parseHostPort(address);
    this.#target = parsed.ok ? parsed.value : undefined;
  }

  /** Starts connecting now, so the first call does not pay for the connection inside its deadline. */
  warm(): void {
    if (!this.#closed && this.#target !== undefined) this.#connection(this.#target);
  }

  /** One unary call: `path` is /package.Service/Method; `metadata` goes out as headers. */
  call(path: string, request: Uint8Array, metadata: Readonly<Record<string, string>>, deadlineMs: number): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new PeerCallError(status.CANCELLED, "the channel is closed"));
    if (this.#target === undefined) return Promise.reject(new PeerCallError(status.UNAVAILABLE, `cannot call "${this.#address}": not a host:port address`));
    const target = this.#target;
    return new Promise((resolve, reject) => {
      let stream: ClientHttp2Stream;
      try {
        stream = this.#connection(target).request({
          ":method": "POST",
          ":path": path,
          "content-type": "application/grpc",
          te: "trailers",
          "grpc-timeout": `${String(Math.max(1, Math.ceil(deadlineMs)))}m`,
          ...metadata,
        });
      } catch (err) {
        // A session that is closing refuses new streams synchronously.
        this.#drop();
        reject(new PeerCallError(status.UNAVAILABLE, `cannot call ${this.#address}: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      this.#track(stream);
      let settled = false;
      const finish = (outcome: Buffer | PeerCallError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#untrack(stream);
        if (outcome instanceof PeerCallError) {
          if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
          reject(outcome);
        } else resolve(outcome);
      };
      const timer = setTimeout(() => finish(new PeerCallError(status.DEADLINE_EXCEEDED, `no answer from ${this.#address} within ${String(deadlineMs)} ms`)), deadlineMs);
      this.#read(stream, finish);
      stream.end(frame(request));
    });
  }

  /** Ends the connection; calls in flight reject with CANCELLED. */
  close(): void {
    this.#closed = true;
    for (const stream of this.#inFlight) stream.destroy(new PeerCallError(status.CANCELLED, "the channel was closed"));
    this.#session?.destroy();
    this.#session = undefined;
  }

  #read(stream: ClientHttp2Stream, finish: (outcome: Buffer | PeerCallError) => void): void {
    let headers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    stream.on("response", (h) => (headers = h));
    stream.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_RESPONSE_BYTES + 5) finish(new PeerCallError(status.RESOURCE_EXHAUSTED, `the peer's answer is over ${String(MAX_RESPONSE_BYTES)} bytes`));
      else chunks.push(chunk);
    });
    stream.on("trailers", (trailers: IncomingHttpHeaders) => (headers = { ...headers, ...trailers }));
    let ended = false;
    stream.on("end", () => (ended = true));
    stream.on("error", (err: unknown) => finish(err instanceof PeerCallError ? err : new PeerCallError(status.UNAVAILABLE, `the call to ${this.#address} failed: ${err instanceof Error ? err.message : String(err)}`)));
    // "close" comes last, after the trailers and "end"; a stream reset or a session that went away closes without "end".
    stream.on("close", () => {
      if (ended) finish(this.#outcome(headers, Buffer.concat(chunks)));
      else finish(new PeerCallError(status.UNAVAILABLE, `the stream to ${this.#address} closed without an answer (code ${String(stream.rstCode)})`));
    });
  }

  #outcome(headers: IncomingHttpHeaders | undefined, body: Buffer): Buffer | PeerCallError {
    if (headers === undefined) return new PeerCallError(status.UNAVAILABLE, `${this.#address} ended the call without an answer`);
    const httpStatus = Number(headers[":status"]);
    const grpcStatus = headers["grpc-status"];
    if (grpcStatus === undefined) {
      if (httpStatus !== 200) return new PeerCallError(statusOfHttp(httpStatus), `HTTP ${String(httpStatus)} from ${this.#address}, not a gRPC answer`);
      return new PeerCallError(status.INTERNAL, `${this.#address} answered without a grpc-status`);
    }
    const code: status = Number(grpcStatus);
    if (!Number.isInteger(code) || status[code] === undefined) return new PeerCallError(status.UNKNOWN, `${this.#address} answered grpc-status ${String(grpcStatus)}`);
    return code === status.OK ? unframe(body) : new PeerCallError(code, decodeMessage(headers["grpc-message"]));
  }

  #connection({ host, port }: HostPort): ClientHttp2Session {
    if (this.#session !== undefined && !this.#session.closed && !this.#session.destroyed) return this.#session;
    const session = connect(`http://${this.#address}`, {
      createConnection: () => tcpConnect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS }),
    });
    // Errors reach the streams in flight; the session itself is only dropped.
    session.on("error", () => this.#drop(session));
    session.on("goaway", () => this.#drop(session));
    session.on("close", () => this.#drop(session));
    session.unref();
    this.#session = session;
    return session;
  }

  /** Forgets `session` (or the current one) so the next call opens another. */
  #drop(session?: ClientHttp2Session): void {
    if (session !== undefined && session !== this.#session) return;
    this.#session = undefined;
  }

  /** A call in flight keeps its connection (and so the process) alive; an idle one does not. */
  #track(stream: ClientHttp2Stream): void {
    this.#inFlight.add(stream);
    stream.session?.ref();
  }

  #untrack(stream: ClientHttp2Stream): void {
    this.#inFlight.delete(stream);
    const session = stream.session;
    if (session === undefined) return;
    for (const other of this.#inFlight) if (other.session === session) return;
    session.unref();
  }
}
