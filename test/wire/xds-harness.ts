/**
 * The real xDS stack for wire tests: SnapshotCache + ADS server + publisher
 * fed by real buildGatewayResources output, on a grpc-js server on port 0.
 * The model is mutable through `setModel`, which publishes at once.
 */
import { Registry } from "prom-client";
import { silentLogger, systemClock } from "../../src/common/index.js";
import { createAdsServer, createPublisher, SnapshotCache, type AdsServer, type Publisher } from "../../src/xds/index.js";
import { createGatewayBuilder, type AppModel, type GatewayModel, type PodModel } from "../../src/xds/resources/index.js";
import { startGrpcServer } from "../support/grpc-harness.js";

export interface XdsStack {
  readonly address: string;
  readonly port: number;
  readonly ads: AdsServer;
  readonly cache: SnapshotCache;
  readonly publisher: Publisher;
  readonly registry: Registry;
  model(): GatewayModel;
  /** Replaces the model and publishes synchronously. */
  setModel(model: GatewayModel): void;
  close(): Promise<void>;
}

export async function startXdsStack(initial: GatewayModel, options: { ackTimeoutMs?: number } = {}): Promise<XdsStack> {
  let current = initial;
  const cache = new SnapshotCache();
  const registry = new Registry();
  const ads = createAdsServer({ cache, logger: silentLogger, registry, clock: systemClock, ackTimeoutMs: options.ackTimeoutMs ?? 60_000 });
  const publisher = createPublisher({ models: () => [current], build: createGatewayBuilder(), cache, logger: silentLogger, clock: systemClock });
  publisher.publishNow();
  const harness = await startGrpcServer((server) => server.addService(ads.service, ads.implementation));
  return {
    address: harness.address,
    port: harness.port,
    ads,
    cache,
    publisher,
    registry,
    model: () => current,
    setModel: (model) => {
      current = model;
      publisher.publishNow();
    },
    close: async () => {
      publisher.stop();
      ads.close();
      await harness.close();
    },
  };
}

export function pod(name: string, host: string): PodModel {
  return { name, host, port: 8080 };
}

/**
 * Proxy mode: the fallback route goes to the resolver cluster. grpc-js-xds
 * only accepts the `route` action, so a serve-mode app (503 direct_response
 * fallback) makes it NACK the whole RouteConfiguration.
 */
export function app(name: string, pods: readonly PodModel[], mode: AppModel["mode"] = "proxy"): AppModel {
  return { namespace: "ns", name, pathPrefix: `/${name}/`, podPath: "/", mode, pods };
}

export function model(apps: readonly AppModel[], group = "default"): GatewayModel {
  return {
    group,
    listener: { address: "0.0.0.0", port: 8080 },
    accessLog: { cluster: { host: "127.0.0.1", port: 9002 }, flushIntervalMs: 1_000 },
    resolver: { host: "127.0.0.1", port: 9003 },
    apps,
  };
}

/** `ns/<app>/<pod>`: the pod's cluster and endpoints name. */
export function key(appName: string, podName: string): string {
  return `ns/${appName}/${podName}`;
}

/** `ns/<app>:pods`: the name of the app's route to its pods. */
export function podsRoute(appName: string): string {
  return `ns/${appName}:pods`;
}

export const ROUTES = "ticketplane-routes";
