/**
 * The xDS side as standalone mode uses it: the ADS server (state of the
 * world and delta) on its own grpc-js server bound to `listen.xds`, a
 * publisher that rebuilds snapshots from `models()` when asked, and the
 * make-before-use signal wired into the desk: a pod takes new tickets only
 * once every connected gateway of its group has ACKed its cluster, endpoints
 * and route (or the bounded ACK wait has passed).
 */
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import { formatHostPort } from "../config/address.js";
import type { HostPort } from "../config/address.js";
import type { TicketDesk } from "../tickets/types.js";
import { SnapshotCache, addAdsService, createAdsServer, createPublisher } from "../xds/index.js";
import type { XdsStatus } from "../xds/index.js";
import { buildGatewayResources } from "../xds/resources/index.js";
import type { GatewayModel } from "../xds/resources/model.js";

export interface XdsPartOptions {
  readonly listen: HostPort;
  readonly desk: TicketDesk;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock: Clock;
  /** The gateways' desired state, re-read on each publish. */
  readonly models: () => readonly GatewayModel[];
  /** How long stop() lets ADS streams end by themselves before cancelling them (default 500 ms). */
  readonly shutdownGraceMs?: number;
}

export interface XdsPart extends Runnable {
  /** The bound address (valid after start). */
  address(): string;
  /** Recompute models and push what changed (debounced, coalesced). */
  schedule(): void;
  /** `GET /api/xds`. */
  status(): XdsStatus;
}

/** `<namespace>/<app>/<pod>` → app key and pod name (pod names never contain "/"). */
function splitPodKey(podKey: string): { app: string; pod: string } | undefined {
  const slash = podKey.lastIndexOf("/");
  if (slash <= 0) return undefined;
  return { app: podKey.slice(0, slash), pod: podKey.slice(slash + 1) };
}

export function createXdsPart(options: XdsPartOptions): XdsPart {
  const { desk, logger } = options;
  const cache = new SnapshotCache();
  const ads = createAdsServer({ cache, logger, registry: options.registry, clock: options.clock });
  const publisher = createPublisher({ models: options.models, build: buildGatewayResources, cache, logger });
  let server: grpc.Server | undefined;
  let address = "";
  let unsubscribe: (() => void) | undefined;

  return {
    name: "xds",
    async start(signal) {
      unsubscribe = ads.onRoutable((group, podKey, routable) => {
        const key = splitPodKey(podKey);
        if (key === undefined) {
          logger.error("xds reported a malformed pod key", { group, podKey });
          return;
        }
        logger.debug(routable ? "pod routable: new tickets may go there" : "pod not routable", { group, app: key.app, pod: key.pod });
        desk.setRoutable(key.app, key.pod, routable);
      });
      const s = new grpc.Server();
      addAdsService(s, ads);
      server = s;
      const hostPort = formatHostPort(options.listen);
      const port = await new Promise<number>((resolve, reject) =>
        s.bindAsync(hostPort, grpc.ServerCredentials.createInsecure(), (err, p) =>
          err === null ? resolve(p) : reject(new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind xds on ${hostPort}: ${err.message}`, { address: hostPort }, { cause: err })),
        ),
      );
      address = formatHostPort({ host: options.listen.host, port });
      // The first snapshot now, so a gateway that connects at once gets a full config.
      publisher.publishNow();
      signal.addEventListener("abort", () => void this.stop(), { once: true });
    },
    async stop() {
      publisher.stop();
      unsubscribe?.();
      unsubscribe = undefined;
      const s = server;
      server = undefined;
      if (s === undefined) return;
      ads.close();
      // ADS streams never end on their own: give in-flight responses a moment, then cancel the streams.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          s.forceShutdown();
          resolve();
        }, options.shutdownGraceMs ?? 500);
        s.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    address: () => address,
    schedule: () => publisher.schedule(),
    status: () => ads.status(),
  };
}
