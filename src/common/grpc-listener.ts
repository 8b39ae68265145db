/**
 * A TCP listener for a grpc-js server that looks at each connection's first
 * bytes before grpc-js does. grpc-js binds its own sockets and keeps its
 * HTTP/2 server and sessions private: a connection that sends something other
 * than HTTP/2 (an HTTP/1.1 probe, a TLS client on a plaintext port, noise)
 * is closed inside it without any event a caller could count. So the
 * listener is ours, and only connections that open with the HTTP/2 client
 * preface go on to grpc-js, through its public connection injector (with
 * the server's options and services as if it had bound the port itself).
 * The others are counted in `ticketplane_grpc_rejected_connections_total`
 * and closed. Plaintext only (the mesh adds mTLS around it).
 */
import * as grpc from "@grpc/grpc-js";
import { lookup } from "node:dns/promises";
import { createServer, isIP, type Server, type Socket } from "node:net";
import type { Counter, Registry } from "prom-client";
import type { Clock, Timer } from "./clock.js";
import { errorMessage } from "./errors.js";
import type { Logger } from "./logger.js";
import { sharedCounter } from "./metrics.js";

/** The client connection preface every HTTP/2 connection opens with (RFC 9113, section 3.4). */
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;

export const REJECTED_CONNECTIONS_METRIC = "ticketplane_grpc_rejected_connections_total";

/** Why a connection was closed before grpc-js saw it. */
export type RejectReason = "not_http2" | "tls" | "preface_timeout";

export interface GrpcListenerOptions {
  /** The grpc-js server that answers the connections that speak HTTP/2 (services added; not bound). */
  readonly server: grpc.Server;
  /** An IP literal, or a host name: every address it resolves to is bound, on one port (as grpc-js does). */
  readonly host: string;
  /** 0 binds a free port. */
  readonly port: number;
  /** The `server` label of the metric: which gRPC port this is. */
  readonly name: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  /** How long a new connection may take to send the HTTP/2 preface (default 10 s). */
  readonly prefaceTimeoutMs?: number;
}

export interface GrpcListener {
  /** The bound port (the one chosen when 0 was asked). */
  readonly port: number;
  /**
   * Stops serving: no new connections, the ones on probation closed, the
   * server's sessions told to go away (grpc-js tryShutdown), and after
   * `graceMs` (on the Clock) the server forced down and every connection
   * closed. Resolves once every connection it accepted is closed. (grpc-js
   * cannot wait for connections it did not accept, so this is the shutdown.)
   */
  shutdown(graceMs: number): Promise<void>;
}

export const DEFAULT_PREFACE_TIMEOUT_MS = 10_000;

/** Binds `host:port` and serves `server` there. Rejects when an address cannot be bound (nothing stays bound). */
export async function listenGrpc(options: GrpcListenerOptions): Promise<GrpcListener> {
  const { server: grpcServer, clock } = options;
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const gate = new PrefaceGate(options, (socket) => injector.injectConnection(socket));
  const servers: Server[] = [];
  let port = options.port;
  try {
    for (const address of await addressesOf(options.host)) {
      const server = createServer((socket) => gate.accept(socket));
      servers.push(server);
      port = await listen(server, address, port);
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    injector.destroy();
    throw err;
  }
  return {
    port,
    shutdown: async (graceMs) => {
      const closed = Promise.all(servers.map(closeServer));
      gate.dropProbation();
      grpcServer.tryShutdown(() => undefined);
      const force = clock.setTimeout(() => {
        grpcServer.forceShutdown();
        gate.destroyAll();
      }, graceMs);
      await closed;
      force.cancel();
    },
  };
}

/** One connection until it has shown the HTTP/2 preface or been refused. */
interface Probation {
  readonly socket: Socket;
  seen: Buffer;
  timer: Timer | undefined;
}

/** Holds each new connection until its first bytes say whether it speaks HTTP/2; keeps every connection it accepted until it closes. */
class PrefaceGate {
  readonly #sockets = new Set<Socket>();
  readonly #probation = new Set<Probation>();
  readonly #rejected: Counter<"server" | "reason">;

  constructor(
    private readonly options: GrpcListenerOptions,
    private readonly admit: (socket: Socket) => void,
  ) {
    this.#rejected = rejectedConnections(options.registry);
  }

  accept(socket: Socket): void {
    // A reset while on probation (or later) must never become an unhandled 'error'.
    socket.on("error", (err) => this.options.logger.debug("grpc: connection error", { server: this.options.name, remote: socket.remoteAddress, error: errorMessage(err) }));
    const p: Probation = { socket, seen: Buffer.alloc(0), timer: undefined };
    p.timer = this.options.clock.setTimeout(() => this.#refuse(p, "preface_timeout"), this.options.prefaceTimeoutMs ?? DEFAULT_PREFACE_TIMEOUT_MS);
    this.#probation.add(p);
    this.#sockets.add(socket);
    const onData = (chunk: Buffer): void => {
      p.seen = Buffer.concat([p.seen, chunk]);
      const verdict = classifyPreface(p.seen);
      if (verdict === "wait") return;
      socket.off("data", onData);
      if (verdict === "http2") this.#admit(p);
      else this.#refuse(p, verdict);
    };
    socket.on("data", onData);
    // Closed before a verdict (a TCP probe): nothing to count.
    socket.once("close", () => {
      this.#release(p);
      this.#sockets.delete(socket);
    });
  }

  /** Closes every connection still on probation. */
  dropProbation(): void {
    for (const p of [...this.#probation]) {
      this.#release(p);
      p.socket.destroy();
    }
  }

  /** Closes every connection, on probation or served. */
  destroyAll(): void {
    this.dropProbation();
    for (const socket of [...this.#sockets]) socket.destroy();
  }

  #admit(p: Probation): void {
    this.#release(p);
    // What was read goes back, so grpc-js's HTTP/2 session reads the connection from its first byte.
    p.socket.pause();
    p.socket.unshift(p.seen);
    this.admit(p.socket);
  }

  #refuse(p: Probation, reason: RejectReason): void {
    this.#release(p);
    this.#rejected.inc({ server: this.options.name, reason });
    this.options.logger.debug("grpc: closing a connection that does not speak HTTP/2", {
      server: this.options.name,
      remote: p.socket.remoteAddress,
      reason,
      firstBytes: JSON.stringify(p.seen.subarray(0, PREFACE.length).toString("latin1")),
    });
    p.socket.destroy();
  }

  #release(p: Probation): void {
    p.timer?.cancel();
    this.#probation.delete(p);
  }
}

/** What the first bytes of a connection say: "wait" while they are a proper prefix of the HTTP/2 preface. */
export function classifyPreface(seen: Buffer): "wait" | "http2" | "not_http2" | "tls" {
  const n = Math.min(seen.length, PREFACE.length);
  if (seen.subarray(0, n).equals(PREFACE.subarray(0, n))) return n === PREFACE.length ? "http2" : "wait";
  return seen[0] === TLS_HANDSHAKE ? "tls" : "not_http2";
}

/** One metric for every gRPC port of the process (they share a registry). */
function rejectedConnections(registry: Registry): Counter<"server" | "reason"> {
  return sharedCounter(registry, {
    name: REJECTED_CONNECTIONS_METRIC,
    help: "Connections to a gRPC port closed before gRPC saw them: not HTTP/2 (reason not_http2, or tls for a TLS client on a plaintext port), or no HTTP/2 preface in time (preface_timeout).",
    labelNames: ["server", "reason"],
  });
}

async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [host];
  const found = await lookup(host, { all: true });
  return [...new Set(found.map((a) => a.address))];
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(address !== null && typeof address === "object" ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) resolve();
    else server.close(() => resolve());
  });
}
