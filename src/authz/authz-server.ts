/**
 * The Runnable that serves Check and the access-log service over grpc-js,
 * plaintext (the mesh's mTLS wraps it in Kubernetes).
 * Both share one server when `listen.accessLog` is absent or equal to
 * `listen.authz` (unless that is port 0); otherwise each gets its own server
 * and port. Port 0 binds a
 * free port; `addresses` reports what was bound.
 */
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import { listenGrpc, type GrpcListener } from "../common/grpc-listener.js";
import { formatHostPort, parseHostPort } from "../config/address.js";
import type { AppKey } from "../config/app-spec.js";
import type { UnmatchedPolicy } from "../config/config-file.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import type { CheckPorts, TicketViews } from "../tickets/ports.js";
import { type AccessLogService, createAccessLogService } from "./access-log-service.js";
import { type CheckService, createCheckService } from "./check-service.js";
import type { CheckLimits } from "./decide-check.js";
import type { AuthzMetrics } from "./metrics.js";

export interface AuthzServerOptions {
  readonly tickets: CheckPorts & Pick<TicketViews, "apps" | "subscribe" | "figures">;
  readonly logger: Logger;
  readonly metrics?: AuthzMetrics;
  readonly limits?: CheckLimits;
  /** Trusted proxies in front of the gateway, for telling clients apart (default 0: the source address). */
  readonly trustedHops?: number;
  /** Why Check cannot decide yet, or undefined once it can. */
  readonly notReady?: () => string | undefined;
  /** A request of no ticketed app: 404 (`deny`, the default) or allowed with our headers stripped (`allow`). */
  readonly unmatched?: UnmatchedPolicy;
  /** Each app's route mode as the entry point routes it (see CheckServiceOptions.routeMode). */
  readonly routeMode?: (app: AppKey) => "serve" | "proxy";
  /** Called for every Check that matched an app (see CheckServiceOptions.onAppRequest). */
  readonly onAppRequest?: (app: AppKey) => void;
  /** `HOST:PORT` (port 0 allowed). `accessLog` defaults to sharing the authz server. */
  readonly listen: { readonly authz: string; readonly accessLog?: string };
  /** Timers of the listeners (preface wait, shutdown grace). */
  readonly clock: Clock;
  /** Where connections that are not HTTP/2 are counted. */
  readonly registry: Registry;
  /** How long a graceful stop waits for open calls before forcing them (default 2 s). */
  readonly shutdownGraceMs?: number;
  /** grpc-js server options (keepalive, message sizes). */
  readonly serverOptions?: grpc.ServerOptions;
}

export interface AuthzAddresses {
  readonly authz: string;
  readonly accessLog: string;
}

export class AuthzServer implements Runnable {
  readonly name = "authz";
  readonly #options: AuthzServerOptions;
  readonly check: CheckService;
  readonly accessLog: AccessLogService;
  #listeners: GrpcListener[] = [];
  #addresses: AuthzAddresses | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: AuthzServerOptions) {
    this.#options = options;
    const deps = { tickets: options.tickets, logger: options.logger, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) };
    this.check = createCheckService({
      ...deps,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.trustedHops === undefined ? {} : { trustedHops: options.trustedHops }),
      ...(options.notReady === undefined ? {} : { notReady: options.notReady }),
      ...(options.onAppRequest === undefined ? {} : { onAppRequest: options.onAppRequest }),
      ...(options.unmatched === undefined ? {} : { unmatched: options.unmatched }),
      ...(options.routeMode === undefined ? {} : { routeMode: options.routeMode }),
    });
    this.accessLog = createAccessLogService(deps);
  }

  /** The bound addresses; throws if called before `start` resolved (a bug). */
  get addresses(): AuthzAddresses {
    if (this.#addresses === undefined) throw new TicketplaneError(ERROR_CODES.INTERNAL, "authz server addresses read before start");
    return this.#addresses;
  }

  async start(): Promise<void> {
    const { listen } = this.#options;
    // The same HOST:PORT means one server; two "port 0" addresses mean two free ports.
    const shared = listen.accessLog === undefined || (listen.accessLog === listen.authz && !listen.authz.endsWith(":0"));
    const authzServer = new grpc.Server(this.#options.serverOptions);
    authzServer.addService(this.check.definition, this.check.implementation);
    if (shared) authzServer.addService(this.accessLog.definition, this.accessLog.implementation);
    const authz = await this.#listen(authzServer, listen.authz, shared ? "authz+accesslog" : "authz");
    let accessLog = authz;
    if (!shared && listen.accessLog !== undefined) {
      const alsServer = new grpc.Server(this.#options.serverOptions);
      alsServer.addService(this.accessLog.definition, this.accessLog.implementation);
      accessLog = await this.#listen(alsServer, listen.accessLog, "accesslog");
    }
    this.#addresses = { authz, accessLog };
    this.#options.logger.info("authz listening", { authz, accessLog });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.accessLog.closeAll();
    this.check.close();
    const grace = this.#options.shutdownGraceMs ?? 2_000;
    await Promise.all(this.#listeners.map((l) => l.shutdown(grace)));
    this.#listeners = [];
  }

  /** Serves `server` on `hostPort` through our listener, which counts connections that are not HTTP/2 before grpc-js sees them. */
  async #listen(server: grpc.Server, hostPort: string, name: string): Promise<string> {
    const parsed = parseHostPort(hostPort, true);
    if (!parsed.ok) throw new TicketplaneError(ERROR_CODES.INVALID_ARGUMENT, `cannot bind ${hostPort}: ${parsed.rule}`, { address: hostPort });
    const { logger, clock, registry } = this.#options;
    try {
      const listener = await listenGrpc({ server, host: parsed.value.host, port: parsed.value.port, name, logger, clock, registry });
      this.#listeners.push(listener);
      return formatHostPort({ host: parsed.value.host, port: listener.port });
    } catch (err) {
      throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind ${hostPort}: ${errorMessage(err)}`, { address: hostPort }, { cause: err });
    }
  }
}

export function createAuthzServer(options: AuthzServerOptions): AuthzServer {
  return new AuthzServer(options);
}
