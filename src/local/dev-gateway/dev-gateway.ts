/**
 * The dev gateway: a demo and test tool that plays Envoy's part over the real
 * contracts, so `ticketplane dev` works without an Envoy. Production traffic
 * goes through Envoy; this follows Envoy's documented behaviour closely enough
 * that what a browser sees here is what Envoy would do:
 *
 *  - config over delta ADS (ads-client.ts): listener (ext_authz and access-log
 *    settings), routes, clusters and endpoints; ACK/NACK like a gateway, so
 *    make-before-use holds;
 *  - every request through Check and the router (admission.ts);
 *  - forwarding of requests and WebSocket tunnels (proxy.ts);
 *  - the access log over `StreamAccessLogs` (access-log.ts).
 *
 * Check and access-log targets default to the endpoint of the cluster the
 * listener's filter names (as Envoy finds them); options can pin them.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Counter, type Registry } from "prom-client";
import type { HeaderValueOption } from "@envoyproxy/protos/envoy/config/core/v3/base";
import type { Clock, Timer } from "../../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/logger.js";
import { once, type Runnable } from "../../common/runnable.js";
import { AccessLogSender, accessLogEntry, type EntryFacts } from "./access-log.js";
import { type Admission, admit } from "./admission.js";
import { AdsClient } from "./ads-client.js";
import { buildCheckRequest, CheckCaller, type CheckResult, type DownstreamRequest } from "./check-client.js";
import type { GatewayState } from "./gateway-state.js";
import { applyHeaderOptions, type HeaderList, headerListOf } from "./header-mutation.js";
import { forwardRequest, openTunnel, outgoingHeaders, rawResponse, type UpstreamRequest } from "./proxy.js";
import type { AccessLogSettings, ListenerSettings } from "./resources.js";

export interface DevGatewayOptions {
  /** Where the gateway listens (default 127.0.0.1:8080; port 0: any free port). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** `host:port` of the ADS server (ticketplane's xDS). */
  readonly ads: string;
  /** `host:port` of Check; default: the endpoint of the cluster the listener's ext_authz filter names. */
  readonly check?: string;
  /** `host:port` of the access-log service; default: the endpoint of the cluster the listener's access log names. */
  readonly accessLog?: string;
  /** The xDS node (default id "ticketplane-dev-gateway", cluster "default": envoy/standalone.yaml's group). */
  readonly node?: { readonly id?: string; readonly cluster?: string };
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
}

export interface DevGatewayStatus {
  /** A listener and its route configuration are in force. */
  readonly configured: boolean;
  readonly acks: number;
  readonly nacks: number;
  readonly clusters: readonly string[];
  readonly accessLog: { readonly sent: number; readonly dropped: number; readonly buffered: number };
}

export interface DevGateway extends Runnable {
  /** `host:port` the gateway is bound to ("" before start). */
  address(): string;
  status(): DevGatewayStatus;
}

export const DEV_GATEWAY_DEFAULTS = { host: "127.0.0.1", port: 8080, nodeId: "ticketplane-dev-gateway", nodeCluster: "default" } as const;

/** The startup line: where the gateway listens and where its config comes from. */
export function gatewayListeningLine(address: string, ads: string, node: { readonly id: string; readonly cluster: string }): string {
  return `gateway listening on ${address} (a dev gateway playing Envoy's part: listener, routes, clusters and endpoints over ADS from ${ads} as node ${node.id}/${node.cluster}; not for production traffic)`;
}

function hostPort(endpoint: { host: string; port: number }): string {
  return endpoint.host.includes(":") ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

export function createDevGateway(options: DevGatewayOptions): DevGateway {
  return new DevGatewayServer(options);
}

class DevGatewayServer implements DevGateway {
  readonly name = "dev-gateway";
  readonly #options: DevGatewayOptions;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #node: { readonly id: string; readonly cluster: string };
  readonly #server: http.Server;
  readonly #ads: AdsClient;
  readonly #checks: CheckCaller;
  readonly #logs: AccessLogSender;
  readonly #requests: Counter<"outcome">;
  readonly #sockets = new Set<Socket | Duplex>();
  readonly #tunnels = new Set<() => void>();
  #address = "";
  #rr = 0;

  constructor(options: DevGatewayOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "dev-gateway" });
    this.#clock = options.clock;
    this.#node = { id: options.node?.id ?? DEV_GATEWAY_DEFAULTS.nodeId, cluster: options.node?.cluster ?? DEV_GATEWAY_DEFAULTS.nodeCluster };
    this.#checks = new CheckCaller();
    this.#logs = new AccessLogSender({ clock: options.clock, logger: this.#logger, node: this.#node });
    const updates = new Counter({ name: "ticketplane_dev_gateway_xds_updates_total", help: "xDS responses the dev gateway accepted (ack) or rejected (nack)", labelNames: ["result"], registers: [options.registry] });
    this.#requests = new Counter({ name: "ticketplane_dev_gateway_requests_total", help: "Requests the dev gateway handled, by outcome (forwarded, websocket, or the local reply's status)", labelNames: ["outcome"], registers: [options.registry] });
    this.#ads = new AdsClient({
      target: options.ads,
      node: this.#node,
      logger: this.#logger,
      clock: options.clock,
      onUpdate: () => updates.inc({ result: "ack" }),
      onNack: () => updates.inc({ result: "nack" }),
    });
    this.#server = http.createServer((req, res) => void this.#onRequest(req, res));
    this.#server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void this.#onUpgrade(req, socket, head));
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    this.#server.on("clientError", (_err, socket: Duplex) => socket.destroy());
  }

  address(): string {
    return this.#address;
  }

  status(): DevGatewayStatus {
    const state = this.#ads.state;
    return { configured: state.listener() !== undefined && state.routes() !== undefined, acks: this.#ads.counts.acks, nacks: this.#ads.counts.nacks, clusters: state.names("type.googleapis.com/envoy.config.cluster.v3.Cluster"), accessLog: this.#logs.counts };
  }

  async start(signal: AbortSignal): Promise<void> {
    const host = this.#options.listen?.host ?? DEV_GATEWAY_DEFAULTS.host;
    const port = this.#options.listen?.port ?? DEV_GATEWAY_DEFAULTS.port;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(new TicketplaneError(ERROR_CODES.UNAVAILABLE, `dev gateway cannot listen on ${host}:${port}: ${err.message}`, { host, port }, { cause: err }));
      this.#server.once("error", fail);
      signal.addEventListener("abort", () => fail(new Error("start aborted")), { once: true });
      this.#server.listen(port, host, () => {
        this.#server.off("error", fail);
        resolve();
      });
    });
    const bound = this.#server.address() as AddressInfo;
    this.#address = hostPort({ host: bound.address, port: bound.port });
    this.#ads.start();
    this.#logger.info(gatewayListeningLine(this.#address, this.#options.ads, this.#node));
  }

  readonly stop = once(async () => {
    this.#ads.stop();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Open tunnels log their close (DownstreamEnd) as they end here.
    for (const end of [...this.#tunnels]) end();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    await this.#logs.stop();
    this.#checks.close();
  });

  /** The downstream request as the filters see it; the request id is Envoy's x-request-id (kept, or generated). */
  #downstream(req: http.IncomingMessage): DownstreamRequest & { path: string } {
    const headers = headerListOf(req.headers);
    const authority = headers.get("host")?.[0] ?? "";
    headers.delete("host");
    const requestId = headers.get("x-request-id")?.[0] ?? randomUUID();
    headers.set("x-request-id", [requestId]);
    headers.set("x-forwarded-proto", ["http"]);
    const socket = req.socket;
    return {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      authority,
      scheme: "http",
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      headers,
      source: { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
      destination: { address: socket.localAddress ?? "", port: socket.localPort ?? 0 },
    };
  }

  #admit(request: DownstreamRequest & { path: string }, upgrade: boolean): Promise<Admission> {
    const state = this.#ads.state;
    return admit({ state, check: (settings, r) => this.#check(state, settings.cluster, r, settings), pick: () => this.#rr++ }, request, upgrade);
  }

  #check(state: GatewayState, cluster: string, request: DownstreamRequest, settings: Parameters<CheckCaller["check"]>[1]): Promise<CheckResult> {
    const target = this.#options.check ?? this.#clusterTarget(state, cluster);
    if (target === undefined) return Promise.resolve({ kind: "error", reason: `the ext_authz cluster "${cluster}" has no endpoint` });
    return this.#checks.check(target, settings, buildCheckRequest(request, this.#clock.now()));
  }

  #clusterTarget(state: GatewayState, cluster: string): string | undefined {
    const target = state.target(cluster);
    return target.kind === "endpoint" ? hostPort(target.endpoint) : undefined;
  }

  #log(listener: ListenerSettings | undefined, request: DownstreamRequest, facts: EntryFacts): void {
    const settings: AccessLogSettings | undefined = listener?.accessLog;
    if (settings === undefined) return;
    const target = this.#options.accessLog ?? this.#clusterTarget(this.#ads.state, settings.cluster);
    if (target === undefined) return;
    this.#logs.log(target, settings, accessLogEntry(request, facts, settings));
  }

  async #onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const startedAt = this.#clock.now();
    const request = this.#downstream(req);
    const listener = this.#ads.state.listener();
    let admission: Admission;
    try {
      admission = await this.#admit(request, false);
    } catch (err) {
      this.#logger.error("dev gateway: request failed before forwarding", { error: errorMessage(err), path: request.path });
      admission = { kind: "reply", status: 500, headers: new Map(), body: "", facts: {} };
    }
    if (admission.kind === "reply") {
      this.#requests.inc({ outcome: String(admission.status) });
      req.resume();
      res.writeHead(admission.status, outgoingHeaders(admission.headers));
      res.end(admission.body);
      this.#log(listener, request, { ...admission.facts, kind: "end", status: admission.status, startedAt, now: this.#clock.now() });
      return;
    }
    this.#requests.inc({ outcome: "forwarded" });
    const facts = { cluster: admission.cluster, routeName: admission.route.name };
    const finish = (status: number, extra: Partial<EntryFacts> = {}): void => this.#log(listener, request, { ...facts, ...extra, kind: "end", status, startedAt, now: this.#clock.now() });
    const upstream = forwardRequest(req, this.#upstream(request, admission), (onTimeout) => this.#routeTimeout(admission.forward.timeoutMs, onTimeout), {
      onResponse: (response) => {
        const headers = headerListOf(response.headers);
        applyHeaderOptions(headers, admission.responseHeadersToAdd);
        const status = response.statusCode ?? 502;
        res.writeHead(status, outgoingHeaders(headers));
        response.pipe(res);
        res.once("close", () => finish(status));
      },
      onFailure: (reason) => {
        const status = reason === "timeout" ? 504 : 503;
        if (!res.headersSent) res.writeHead(status, { "content-type": "text/plain" }).end(reason === "timeout" ? "upstream request timeout" : "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
        finish(status, { upstreamFailure: reason !== "timeout" });
      },
    });
    res.once("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  #routeTimeout(timeoutMs: number, onTimeout: () => void): Timer | undefined {
    return timeoutMs > 0 ? this.#clock.setTimeout(onTimeout, timeoutMs) : undefined;
  }

  #upstream(request: DownstreamRequest & { path: string }, admission: Extract<Admission, { kind: "forward" }>): UpstreamRequest {
    return { endpoint: admission.endpoint, method: request.method, path: admission.path, authority: request.authority, headers: request.headers };
  }

  async #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const startedAt = this.#clock.now();
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const request = this.#downstream(req);
    const listener = this.#ads.state.listener();
    const isWebSocket = (req.headers.upgrade ?? "").toLowerCase() === "websocket";
    let admission: Admission;
    try {
      admission = isWebSocket ? await this.#admit(request, true) : { kind: "reply", status: 403, headers: new Map(), body: "", facts: {} };
    } catch (err) {
      this.#logger.error("dev gateway: upgrade failed before forwarding", { error: errorMessage(err), path: request.path });
      admission = { kind: "reply", status: 500, headers: new Map(), body: "", facts: {} };
    }
    if (admission.kind === "reply") {
      this.#requests.inc({ outcome: String(admission.status) });
      socket.end(rawResponse(admission.status, admission.headers, admission.body));
      this.#log(listener, request, { ...admission.facts, kind: "end", status: admission.status, startedAt, now: this.#clock.now() });
      return;
    }
    this.#tunnel(req, socket, head, request, admission, listener, startedAt);
  }

  #tunnel(req: http.IncomingMessage, socket: Duplex, head: Buffer, request: DownstreamRequest, admission: Extract<Admission, { kind: "forward" }>, listener: ListenerSettings | undefined, startedAt: number): void {
    const facts = { cluster: admission.cluster, routeName: admission.route.name };
    const log = (kind: EntryFacts["kind"], status: number, extra: Partial<EntryFacts> = {}): void => this.#log(listener, request, { ...facts, ...extra, kind, status, startedAt, now: this.#clock.now() });
    const forwardHead = (upstream: Duplex): void => {
      if (head.length > 0) upstream.write(head);
    };
    const upstreamRequest = openTunnel(this.#upstream({ ...request, path: admission.path }, admission), {
      onOpen: (response, upstream, upstreamHead) => {
        this.#requests.inc({ outcome: "websocket" });
        socket.write(rawResponse(101, this.#responseHeaders(response, admission.responseHeadersToAdd), ""));
        if (upstreamHead.length > 0) socket.write(upstreamHead);
        forwardHead(upstream);
        this.#join(socket, upstream, listener, log);
      },
      onRefused: (response) => {
        const status = response.statusCode ?? 502;
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => {
          socket.end(rawResponse(status, this.#responseHeaders(response, admission.responseHeadersToAdd, true), Buffer.concat(chunks).toString("utf8")));
          log("end", status);
        });
      },
      onFailure: () => {
        socket.end(rawResponse(503, new Map([["content-type", ["text/plain"]]]), "upstream connect error or disconnect/reset before headers. reset reason: connection failure"));
        log("end", 503, { upstreamFailure: true });
      },
    });
    socket.once("close", () => upstreamRequest.destroy());
    req.socket.setNoDelay(true);
  }

  #responseHeaders(response: http.IncomingMessage, add: readonly HeaderValueOption[], dropFraming = false): HeaderList {
    const headers = headerListOf(response.headers);
    if (dropFraming) for (const name of ["content-length", "transfer-encoding", "connection"]) headers.delete(name);
    applyHeaderOptions(headers, add);
    return headers;
  }

  /** Pipes an open tunnel both ways; logs its opening, periodic entries while open, and its close. */
  #join(socket: Duplex, upstream: Duplex, listener: ListenerSettings | undefined, log: (kind: EntryFacts["kind"], status: number) => void): void {
    if (listener?.flushOnTunnelEstablished === true) log("tunnel_established", 101);
    const flush = listener?.flushIntervalMs;
    const periodic = flush !== undefined && flush > 0 ? this.#clock.setInterval(() => log("periodic", 101), flush) : undefined;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.#tunnels.delete(end);
      periodic?.cancel();
      socket.destroy();
      upstream.destroy();
      log("end", 101);
    };
    this.#tunnels.add(end);
    upstream.on("error", end);
    socket.on("error", end);
    upstream.on("close", end);
    socket.on("close", end);
    socket.pipe(upstream);
    upstream.pipe(socket);
  }
}
