/**
 * The Runnable that serves KEDA's external scaler on its own port
 * (`listen.keda`), plaintext (the mesh's mTLS wraps it in Kubernetes), through
 * the listener that counts connections that are not HTTP/2. Any replica can
 * serve it: it only reads the ticket core's views.
 */
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import { listenGrpc, type GrpcListener } from "../common/grpc-listener.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import { formatHostPort, type HostPort } from "../config/address.js";
import type { TicketViews } from "../tickets/ports.js";
import { createScalerMetrics, type ScalerMetrics } from "./metrics.js";
import { createScalerService, type ScalerService } from "./scaler-service.js";
import type { WakeSignal } from "./wake-requests.js";

export interface ScalerServerOptions {
  readonly tickets: Pick<TicketViews, "apps" | "figures" | "subscribe">;
  /** Where to listen (port 0 binds a free port). */
  readonly listen: HostPort;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  /** Apps the resolver holds requests for (reported active). */
  readonly waking?: WakeSignal;
  /** Defaults to metrics registered on `registry`. */
  readonly metrics?: ScalerMetrics;
  /** How long a graceful stop waits for open calls before forcing them (default 2 s). */
  readonly shutdownGraceMs?: number;
}

export class ScalerServer implements Runnable {
  readonly name = "keda";
  readonly service: ScalerService;
  readonly #options: ScalerServerOptions;
  #listener: GrpcListener | undefined;
  #address: string | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: ScalerServerOptions) {
    this.#options = options;
    this.service = createScalerService({ tickets: options.tickets, logger: options.logger, metrics: options.metrics ?? createScalerMetrics(options.registry), ...(options.waking === undefined ? {} : { waking: options.waking }) });
  }

  /** The bound `host:port`; throws if read before `start` resolved (a bug). */
  address(): string {
    if (this.#address === undefined) throw new TicketplaneError(ERROR_CODES.INTERNAL, "keda scaler address read before start");
    return this.#address;
  }

  async start(): Promise<void> {
    const { listen, logger, clock, registry } = this.#options;
    const server = new grpc.Server();
    server.addService(this.service.definition, this.service.implementation);
    try {
      this.#listener = await listenGrpc({ server, host: listen.host, port: listen.port, name: "keda", logger, clock, registry });
    } catch (err) {
      const wanted = formatHostPort(listen);
      throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind the KEDA scaler to ${wanted}: ${errorMessage(err)}`, { address: wanted }, { cause: err });
    }
    this.#address = formatHostPort({ host: listen.host, port: this.#listener.port });
    logger.info("keda scaler listening", { address: this.#address });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.service.closeAll();
    await this.#listener?.shutdown(this.#options.shutdownGraceMs ?? 2_000);
    this.#listener = undefined;
  }
}
