/**
 * XdsServer: the ADS service (state of the world and delta) on its own
 * grpc-js server, and the publisher that keeps every node group's snapshot
 * in step with the ticket core. It follows the ticket core's events and the
 * gateway settings itself — nobody has to remember to ask for a publish —
 * and feeds make-before-use back: a pod takes new tickets only once every
 * connected gateway of its group has ACKed its cluster and endpoints (or
 * the bounded ACK wait has passed). The route table names no pod.
 */
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import { listenGrpc, type GrpcListener } from "../common/grpc-listener.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import { formatHostPort } from "../config/address.js";
import type { HostPort } from "../config/address.js";
import type { TicketInventory, TicketViews } from "../tickets/ports.js";
import { SnapshotCache, addAdsService, createAdsServer, createPublisher } from "../xds/index.js";
import type { AdsLimits, LocalAckState, XdsStatus } from "../xds/index.js";
import { createIncrementalGatewayBuilder } from "../xds/resources/index.js";
import type { TypeUrl } from "../xds/resources/type-urls.js";
import { DEFAULT_GROUP, buildGatewayModels, type GatewayModelInputs, type Upstreams } from "./gateway-models.js";
import type { GatewaySource, RouteModes } from "./ports.js";

export interface XdsServerOptions {
  readonly listen: HostPort;
  readonly tickets: Pick<TicketViews, "apps" | "podAddresses" | "subscribe"> & Pick<TicketInventory, "setRoutable">;
  readonly gateway: GatewaySource;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock: Clock;
  /** How long stop() lets ADS streams end by themselves before cancelling them (default 500 ms). */
  readonly shutdownGraceMs?: number;
  /** Bounded wait for a gateway that never ACKs (default 5 s). */
  readonly ackTimeoutMs?: number;
  /** Bounds per ADS client (names per stream, NACK log); default ADS_LIMIT_DEFAULTS. */
  readonly limits?: Partial<AdsLimits>;
  /** The apps' route modes the gateways follow (local mode); absent: every app serves. */
  readonly routeModes?: RouteModes;
}

/** `<namespace>/<app>/<pod>` → app key and pod name (pod names never contain "/"). */
function splitPodKey(podKey: string): { app: string; pod: string } | undefined {
  const slash = podKey.lastIndexOf("/");
  if (slash <= 0) return undefined;
  return { app: podKey.slice(0, slash), pod: podKey.slice(slash + 1) };
}

export class XdsServer implements Runnable {
  readonly name = "xds";
  readonly #o: XdsServerOptions;
  readonly #cache = new SnapshotCache();
  readonly #ads: ReturnType<typeof createAdsServer>;
  readonly #publisher: ReturnType<typeof createPublisher>;
  #upstreams: Upstreams | undefined;
  #resolver: HostPort | undefined;
  #listener: GrpcListener | undefined;
  #address = "";
  #unsubscribe: (() => void)[] = [];
  readonly stop: () => Promise<void>;

  constructor(options: XdsServerOptions) {
    this.#o = options;
    const { logger } = options;
    this.#ads = createAdsServer({
      cache: this.#cache,
      logger,
      registry: options.registry,
      clock: options.clock,
      ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
    // Until Check and the access-log server are bound there is nothing a gateway could use: no models.
    this.#publisher = createPublisher({
      models: () => (this.#upstreams === undefined ? [] : buildGatewayModels({ views: options.tickets, gateway: options.gateway.current(), upstreams: this.#upstreams, ...this.#modes() })),
      build: createIncrementalGatewayBuilder(),
      cache: this.#cache,
      logger,
      clock: options.clock,
    });
    this.stop = once(() => this.#stop());
  }

  /** The bound address (valid after start). */
  address(): string {
    return this.#address;
  }

  /** Per group with gateways connected here: their node ids and the pods all of them ACKed (a follower reports it to the owner). */
  ackState(): LocalAckState[] {
    return this.#ads.localAckState();
  }

  /** On the owner: another replica's gateways and what they ACKed gate routability as local gateways do. */
  applyAckReport(replica: string, groups: readonly LocalAckState[]): void {
    this.#ads.applyAckReport(replica, groups);
  }

  /** `GET /api/xds`. */
  status(): XdsStatus {
    return this.#ads.status();
  }

  /** Names of the resources of one type published for a node group, sorted (for tests and tools). */
  resourceNames(group: string, typeUrl: TypeUrl): string[] {
    return [...(this.#cache.getSnapshot(group)?.resources(typeUrl).keys() ?? [])].sort();
  }

  /**
   * Where gateways reach Check and the access-log server; publishing starts
   * once they are known, at once (Check cannot decide until pods are routable).
   */
  setUpstreams(upstreams: Upstreams): void {
    this.#upstreams = upstreams;
    this.#publisher.publishNow();
  }

  /** Where gateways reach the resolver (once it listens): apps in proxy mode route there. Only with `routeModes`. */
  setResolver(address: HostPort): void {
    this.#resolver = address;
    this.#publisher.schedule();
  }

  #modes(): Pick<GatewayModelInputs, "modes" | "resolver"> {
    const { routeModes } = this.#o;
    if (routeModes === undefined || this.#resolver === undefined) return {};
    return { modes: (app) => routeModes.mode(app), resolver: this.#resolver };
  }

  /** True once a gateway configuration has been published (the upstreams are known). */
  published(): boolean {
    return this.#upstreams !== undefined && this.#cache.getSnapshot(DEFAULT_GROUP) !== undefined;
  }

  /** Publishes what is pending now (tests, and the first snapshot at start). */
  publishNow(): void {
    this.#publisher.publishNow();
  }

  async start(): Promise<void> {
    const { tickets, logger } = this.#o;
    this.#unsubscribe.push(
      this.#ads.onRoutable((group, podKey, routable) => {
        const key = splitPodKey(podKey);
        if (key === undefined) {
          logger.error("xds reported a malformed pod key", { group, podKey });
          return;
        }
        logger.debug(routable ? "pod routable: new tickets may go there" : "pod not routable", { group, app: key.app, pod: key.pod });
        tickets.setRoutable(key.app, key.pod, routable);
      }),
      tickets.subscribe((event) => {
        // Tickets coming and going change no Envoy resource; apps and pods do.
        if (event.kind === "apps" || event.kind === "pods") this.#publisher.schedule();
      }),
      this.#o.gateway.subscribe(() => this.#publisher.schedule()),
      this.#o.routeModes?.subscribe(() => this.#publisher.schedule()) ?? (() => {}),
    );
    const s = new grpc.Server();
    addAdsService(s, this.#ads);
    const hostPort = formatHostPort(this.#o.listen);
    // Our listener rather than bindAsync: connections that are not HTTP/2 are counted before grpc-js sees them.
    const { listen, registry, clock } = this.#o;
    this.#listener = await listenGrpc({ server: s, host: listen.host, port: listen.port, name: "xds", logger, clock, registry }).catch((err: unknown) => {
      throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind xds on ${hostPort}: ${errorMessage(err)}`, { address: hostPort }, { cause: err });
    });
    this.#address = formatHostPort({ host: listen.host, port: this.#listener.port });
    this.#publisher.publishNow();
  }

  async #stop(): Promise<void> {
    this.#publisher.stop();
    for (const off of this.#unsubscribe.splice(0)) off();
    const listener = this.#listener;
    this.#listener = undefined;
    this.#ads.close();
    // ADS streams never end on their own: give in-flight responses a moment, then cancel the streams.
    await listener?.shutdown(this.#o.shutdownGraceMs ?? 500);
  }
}
