/**
 * The scale-from-zero resolver: an HTTP server on its own port
 * (`listen.resolver`) that takes the requests of apps whose route points at
 * it (mode Proxy), holds them per app in arrival order, asks for the app's
 * first pod, and forwards what it held once the app serves — Ready as the
 * inventory's watch sees it AND a probe on the path the requests will take
 * answered. After that, requests pass straight through (the route may still
 * point here until the flip back propagates).
 *
 * Contracts:
 * - a request for no app: 404; a full queue: 503 with Retry-After; a hold
 *   past the app's hold timeout: 504 with a body that says so; a client
 *   that disconnects while held: removed and counted (never forwarded);
 * - a page navigation held past the app's waitingPageAfter gets the waiting
 *   page; API calls, XHR and WebSockets stay held;
 * - a released request that meets a refused connection is tried once more
 *   after `retryDelayMs`, to the same destination with the same ticket
 *   (routed once: a request without a ticket is never issued a second);
 * - `stop` answers everything still held with 503 and closes the port.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Registry } from "prom-client";
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { AppKey } from "../config/app-spec.js";
import { formatHostPort, type HostPort } from "../config/address.js";
import { createUpstreamPool, forwardHttp, forwardUpgrade, type Forward, type ForwardEnd, type ForwardHooks } from "./forward.js";
import { HoldQueue, type Held, type HeldConnection } from "./hold-queue.js";
import { createResolverMetrics, type DropReason, type ResolverMetrics } from "./metrics.js";
import type { Destination, ProbeTarget, ResolverApp, ResolverPorts, ResolverRequest } from "./ports.js";
import { probe } from "./probe.js";
import { endSocket } from "./raw-response.js";
import { isPageNavigation, PROGRESS_HEADER, PROGRESS_VALUE, progressJson, renderWaitingPage, type PageProgress } from "./waiting-page.js";

export interface ResolverServerOptions {
  readonly ports: ResolverPorts;
  /** Where to listen (port 0 binds a free port). */
  readonly listen: HostPort;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Requests held per app before new ones get 503 (default 10,000). */
  readonly maxHeldPerApp?: number;
  /** Between probes of a Ready pod that did not answer yet (default 100 ms). */
  readonly probeIntervalMs?: number;
  /** One probe's deadline (default 1 s). */
  readonly probeTimeoutMs?: number;
  /** Before the one retry of a request that met a refused connection (default 100 ms). */
  readonly retryDelayMs?: number;
  /** Retry-After of the 503 a full queue answers (default 5 s). */
  readonly retryAfterSeconds?: number;
}

/** Per app: what is held, and whether the app is known to serve at the probed address. */
interface AppState {
  readonly queue: HoldQueue;
  /** The address the probe found answering; undefined until then (or after the app went back to zero). */
  serving?: HostPort;
  probing: boolean;
  probeTimer?: Timer;
  /** The first held request of the current cold start (clock ms), until its answer's first byte. */
  coldSince?: number;
}

/** Whether the probe found the app answering at `target` (compared by parts: every pass-through request asks). */
function servesAt(state: AppState, target: ProbeTarget | undefined): boolean {
  return target !== undefined && state.serving !== undefined && state.serving.host === target.host && state.serving.port === target.port;
}

const TEXT = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };

export class ResolverServer implements Runnable {
  readonly name = "resolver";
  readonly metrics: ResolverMetrics;
  readonly #o: ResolverServerOptions;
  readonly #apps = new Map<AppKey, AppState>();
  readonly #pool = createUpstreamPool();
  /** The forwarded counter's children, bound once: pass-through counts every request, and a label lookup per request shows in a profile. */
  readonly #forwarded: Record<HeldConnection["kind"], { inc(): void }>;
  #server: Server | undefined;
  #address: HostPort | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  readonly stop: () => Promise<void>;

  constructor(options: ResolverServerOptions) {
    this.#o = options;
    this.metrics = createResolverMetrics(options.registry);
    this.#forwarded = { http: this.metrics.forwarded.labels({ kind: "http" }), upgrade: this.metrics.forwarded.labels({ kind: "upgrade" }) };
    this.stop = once(() => this.#stop());
  }

  /** The bound address; throws if read before `start` resolved (a bug). */
  address(): HostPort {
    if (this.#address === undefined) throw new TicketplaneError(ERROR_CODES.INTERNAL, "resolver address read before start");
    return this.#address;
  }

  /** Requests held for `app` now. */
  heldCount(app: AppKey): number {
    return this.#apps.get(app)?.queue.length ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer({ keepAlive: true });
    server.on("request", (req, res) => this.#onRequest(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    server.on("clientError", (_err, socket) => endSocket(socket, 400, [["content-type", "text/plain"]], "bad request\n"));
    const { listen } = this.#o;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(listen.port, listen.host, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      const wanted = formatHostPort(listen);
      throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind the resolver to ${wanted}: ${errorMessage(err)}`, { address: wanted }, { cause: err });
    }
    this.#server = server;
    const a = server.address() as AddressInfo;
    this.#address = { host: a.address, port: a.port };
    this.#unsubscribe = this.#o.ports.subscribe((app) => this.#advance(app));
    this.#o.logger.info("resolver listening", { address: formatHostPort(this.#address) });
  }

  async #stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const [key, state] of this.#apps) {
      state.probeTimer?.cancel();
      for (const h of state.queue.drain()) this.#drop(key, h, "stopping", 503, "ticketplane resolver: shutting down; try again\n");
      this.metrics.queueLength.set({ app: key }, 0);
    }
    const server = this.#server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.#pool.destroy();
  }

  #state(app: AppKey): AppState {
    let s = this.#apps.get(app);
    if (s === undefined) this.#apps.set(app, (s = { queue: new HoldQueue(this.#o.maxHeldPerApp ?? 10_000), probing: false }));
    return s;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const app = this.#o.ports.match(req.headers.host ?? "", req.url ?? "/");
    if (app === undefined) {
      res.writeHead(404, TEXT).end("ticketplane resolver: no app serves this host and path\n");
      return;
    }
    if (req.headers[PROGRESS_HEADER] === PROGRESS_VALUE) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(progressJson(app.key, this.#progress(app.key)));
      return;
    }
    this.#admit(app, { kind: "http", req, res });
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const app = this.#o.ports.match(req.headers.host ?? "", req.url ?? "/");
    if (app === undefined) return endSocket(socket, 404, [["content-type", "text/plain"]], "ticketplane resolver: no app serves this host and path\n");
    this.#admit(app, { kind: "upgrade", req, socket, head });
  }

  #progress(app: AppKey): PageProgress {
    const s = this.#apps.get(app);
    const target = this.#o.ports.probeTarget(app);
    if (s !== undefined && servesAt(s, target)) return "serving";
    return this.#o.ports.progress(app);
  }

  /** Passes a request straight through when the app serves and nothing is held before it; holds it otherwise. */
  #admit(app: ResolverApp, conn: HeldConnection): void {
    const state = this.#state(app.key);
    if (this.#progress(app.key) === "serving" && state.queue.length === 0) return this.#dispatch(app.key, conn);
    if (this.#stopped) return this.#answer(conn, 503, "ticketplane resolver: shutting down; try again\n", [["retry-after", "1"]]);
    const held = this.#hold(app, state, conn);
    if (held === undefined) {
      this.metrics.dropped.inc({ reason: "queue_full" });
      this.#answer(conn, 503, `ticketplane resolver: too many requests wait for ${app.key} to start; try again\n`, [["retry-after", String(this.#o.retryAfterSeconds ?? 5)]]);
      return;
    }
    state.coldSince ??= held.since;
    this.#o.ports.wake(app.key);
    this.#advance(app.key);
  }

  #hold(app: ResolverApp, state: AppState, conn: HeldConnection): Held | undefined {
    if (state.queue.full) return undefined;
    const { clock } = this.#o;
    const timers: Timer[] = [];
    const target = conn.kind === "http" ? conn.res : conn.socket;
    const onClose = () => {
      if (state.queue.remove(held)) this.#left(app.key, held, "client_gone");
    };
    const held: Held = { conn, since: clock.now(), timers, detach: () => target.off("close", onClose) };
    target.on("close", onClose);
    timers.push(
      clock.setTimeout(() => {
        if (state.queue.remove(held)) this.#drop(app.key, held, "timeout", 504, `ticketplane resolver: ${app.key} did not start within ${String(app.holdTimeoutMs / 1000)} s; try again later\n`);
      }, app.holdTimeoutMs),
    );
    if (conn.kind === "http" && app.waitingPageAfterMs !== undefined && isPageNavigation(conn.req.method ?? "", conn.req.headers)) {
      timers.push(clock.setTimeout(() => this.#waitingPage(app.key, state, held), app.waitingPageAfterMs));
    }
    state.queue.push(held);
    this.metrics.queueLength.set({ app: app.key }, state.queue.length);
    return held;
  }

  #waitingPage(app: AppKey, state: AppState, held: Held): void {
    if (!state.queue.remove(held) || held.conn.kind !== "http") return;
    this.#observeHeld(app, held, "waiting_page");
    this.metrics.waitingPages.inc();
    held.conn.res.writeHead(503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": "2" }).end(renderWaitingPage(app, this.#progress(app)));
  }

  /** A held request left without being forwarded: counted, and answered unless its client is gone. */
  #drop(app: AppKey, held: Held, reason: DropReason, status: number, body: string): void {
    this.#left(app, held, reason);
    this.#answer(held.conn, status, body, status === 503 ? [["retry-after", "1"]] : []);
  }

  #left(app: AppKey, held: Held, reason: DropReason): void {
    this.metrics.dropped.inc({ reason });
    this.#observeHeld(app, held, reason);
  }

  #observeHeld(app: AppKey, held: Held, outcome: string): void {
    this.metrics.held.observe({ outcome }, (this.#o.clock.now() - held.since) / 1000);
    this.metrics.queueLength.set({ app }, this.#apps.get(app)?.queue.length ?? 0);
  }

  #answer(conn: HeldConnection, status: number, body: string, extra: readonly (readonly [string, string])[]): void {
    if (conn.kind === "upgrade") return endSocket(conn.socket, status, [["content-type", TEXT["content-type"]], ...extra], body);
    if (conn.res.headersSent || conn.res.destroyed) return;
    conn.res.writeHead(status, { ...TEXT, ...Object.fromEntries(extra) }).end(body);
  }

  /** Moves an app on: probe a Ready pod, then release what is held. Called on every change the ports report. */
  #advance(app: AppKey): void {
    const state = this.#apps.get(app);
    if (state === undefined || this.#stopped) return;
    const target = this.#o.ports.probeTarget(app);
    if (target === undefined) {
      // Back at zero (or not up yet): the next request is held again.
      state.serving = undefined;
      return;
    }
    if (servesAt(state, target)) return this.#release(app, state);
    // A cold start is open while a request is held, and also after a page navigation was answered with the waiting page
    // (it left the queue): that page polls until the app serves, so the probe must run for it too.
    if ((state.queue.length > 0 || state.coldSince !== undefined) && !state.probing) void this.#probe(app, state, target);
  }

  async #probe(app: AppKey, state: AppState, target: ProbeTarget): Promise<void> {
    state.probing = true;
    state.probeTimer?.cancel();
    const ok = await probe(target, this.#o.probeTimeoutMs ?? 1_000);
    state.probing = false;
    if (this.#stopped) return;
    if (!ok) {
      state.probeTimer = this.#o.clock.setTimeout(() => this.#advance(app), this.#o.probeIntervalMs ?? 100);
      return;
    }
    state.serving = { host: target.host, port: target.port };
    if (state.coldSince !== undefined) this.metrics.toReady.observe((this.#o.clock.now() - state.coldSince) / 1000);
    this.#o.logger.info("app serves again: releasing held requests", { app, address: formatHostPort(state.serving), held: state.queue.length });
    this.#o.ports.serving(app);
    this.#advance(app);
  }

  #release(app: AppKey, state: AppState): void {
    for (const held of state.queue.drain()) {
      this.#observeHeld(app, held, "released");
      this.#dispatch(app, held.conn);
    }
  }

  /** Forwards one request where the ports say. */
  #dispatch(app: AppKey, conn: HeldConnection): void {
    const request: ResolverRequest = { method: conn.req.method ?? "GET", host: conn.req.headers.host ?? "", path: conn.req.url ?? "/", headers: conn.req.headers, ...(conn.req.socket.remoteAddress === undefined ? {} : { client: conn.req.socket.remoteAddress }) };
    const dest = this.#o.ports.route(app, request);
    if (dest instanceof Promise) {
      // The ticket comes from the app's owner on another replica: forwarded once it is known (a client gone by then is no harm).
      dest.then(
        (known) => this.#send(app, conn, 1, known),
        (err: unknown) => {
          this.#o.logger.error("resolver: routing a released request failed", { app, error: errorMessage(err) });
          this.#answer(conn, 503, "ticketplane resolver: could not route the request; try again\n", [["retry-after", "1"]]);
        },
      );
      return;
    }
    this.#send(app, conn, 1, dest);
  }

  /** `attempt` 2 is the one retry after a refused connection. */
  #send(app: AppKey, conn: HeldConnection, attempt: number, dest: Destination): void {
    if (dest.kind === "answer") {
      if (conn.kind === "upgrade") return endSocket(conn.socket, dest.status, dest.headers, dest.body);
      if (!conn.res.headersSent) conn.res.writeHead(dest.status, dest.headers.flatMap(([n, v]) => [n, v])).end(dest.body);
      return;
    }
    const hooks: ForwardHooks = { onFirstByte: () => this.#firstByte(app), onEnd: (end) => this.#forwardEnded(app, conn, attempt, dest, end) };
    this.#forwarded[conn.kind].inc();
    if (conn.kind === "http") forwardHttp(conn.req, conn.res, dest, this.#pool, hooks);
    else forwardUpgrade(conn.req, conn.socket, conn.head, dest, { ...hooks, ...this.#connectionHooks(dest) });
  }

  /** A WebSocket on a ticket is activity while it is open, as the gateway's access log reports it. */
  #connectionHooks(dest: Forward): Pick<ForwardHooks, "onUpgraded" | "onUpgradeClosed"> {
    const ticket = dest.ticket;
    if (ticket === undefined) return {};
    const id = `resolver-${randomUUID()}`;
    return { onUpgraded: () => this.#o.ports.opened(ticket, id), onUpgradeClosed: () => this.#o.ports.closed(ticket, id) };
  }

  #firstByte(app: AppKey): void {
    const state = this.#apps.get(app);
    if (state?.coldSince === undefined) return;
    this.metrics.toFirstByte.observe((this.#o.clock.now() - state.coldSince) / 1000);
    state.coldSince = undefined;
  }

  #forwardEnded(app: AppKey, conn: HeldConnection, attempt: number, dest: Forward, end: ForwardEnd): void {
    if (end.kind === "answered") return;
    if (end.kind === "refused" && attempt === 1) {
      // The same destination again, not a new routing: a request that came without a ticket keeps the one it was just issued (and its pod), instead of taking a second.
      this.#o.clock.setTimeout(() => this.#send(app, conn, 2, dest), this.#o.retryDelayMs ?? 100);
      return;
    }
    if (end.kind === "refused") {
      // Refused twice: the pod stopped listening. Answer, and probe again before the next release.
      const state = this.#apps.get(app);
      if (state !== undefined) state.serving = undefined;
      this.metrics.dropped.inc({ reason: "upstream_refused" });
      this.#answer(conn, 502, "ticketplane resolver: the app's pod refused the connection; try again\n", [["retry-after", "1"]]);
      return;
    }
    this.metrics.dropped.inc({ reason: "upstream_failed" });
    this.#o.logger.warn("forwarding failed", { app, error: end.error.message });
  }
}
