/**
 * The admin app bound to a TCP address, as a Runnable.
 */
import { STATUS_CODES, createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Counter } from "prom-client";
import { once, type Runnable } from "../common/runnable.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AdminDeps } from "./admin-app.js";
import { createAdminApp } from "./admin-app.js";
import { adminClientErrors, countClientError } from "./metrics.js";
import { StatusEvents } from "./status-events.js";

export interface AdminServerOptions {
  readonly host: string;
  /** 0 binds any free port; `address()` then tells which. */
  readonly port: number;
}

export class AdminServer implements Runnable {
  readonly name = "admin";
  readonly #options: AdminServerOptions;
  readonly #deps: AdminDeps;
  #server: Server | undefined;
  #events: StatusEvents | undefined;
  /** Idempotent: every call settles once the socket is closed. */
  readonly stop: () => Promise<void>;

  constructor(options: AdminServerOptions, deps: AdminDeps) {
    this.#options = options;
    this.#deps = deps;
    this.stop = once(() => this.#stop());
  }

  /** The bound address once started (`host:port`), else undefined. */
  address(): string | undefined {
    const a = this.#server?.address();
    if (a === null || a === undefined || typeof a === "string") return undefined;
    const info: AddressInfo = a;
    return info.family === "IPv6" ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
  }

  /** The dashboard's live-update streams while started (clients, buffered bytes); undefined without a dashboard. */
  statusEvents(): Pick<StatusEvents, "clients" | "bufferedBytes"> | undefined {
    return this.#events;
  }

  listening(): boolean {
    return this.#server?.listening ?? false;
  }

  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const dashboard = this.#deps.dashboard;
    this.#events = dashboard === undefined ? undefined : new StatusEvents({ ...dashboard, view: dashboard.status });
    const server = createServer(createAdminApp(this.#deps, this.#events));
    // Admin clients are short requests; do not let keep-alive sockets delay shutdown.
    server.keepAliveTimeout = 1_000;
    const clientErrors = adminClientErrors(this.#deps.registry);
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => refuseUnparsable(err, socket, clientErrors));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new TicketplaneError(ERROR_CODES.IO, `admin cannot listen on ${this.#options.host}:${this.#options.port}`, { address: `${this.#options.host}:${this.#options.port}` }, { cause: err }));
      };
      server.once("error", onError);
      server.listen(this.#options.port, this.#options.host, () => {
        server.off("error", onError);
        resolve();
      });
    });
  }

  async #stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    // Dashboard streams never end by themselves: end them first, so close() does not wait for them.
    this.#events?.close();
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/**
 * A request the HTTP parser could not read: answered as Node's HTTP server
 * answers it by default (400, or 408, 413, 431 by the error), and counted.
 * A connection the client already reset gets no answer and is not counted.
 */
function refuseUnparsable(err: NodeJS.ErrnoException, socket: Socket, clientErrors: Counter<"code">): void {
  if (socket.writable && socket.bytesWritten === 0) {
    const status = unparsableStatus(err.code);
    countClientError(clientErrors, status);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy();
}

function unparsableStatus(code: string | undefined): number {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return 431;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    default:
      return 400;
  }
}
