import type * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../../common/clock.js";
import type { Logger } from "../../common/logger.js";
import type { SnapshotCache } from "../cache/snapshot-cache.js";
import { PUSH_ORDER } from "../resources/type-urls.js";
import { adsServiceDefinition, type AdsImplementation, type DeltaCall, type SotwCall } from "./ads-service.js";
import { DeltaStream } from "./delta-stream.js";
import { ADS_LIMIT_DEFAULTS, type AdsLimits } from "./limits.js";
import { createXdsMetrics } from "./metrics.js";
import { defaultNodeGroup, type NodeGroupFn } from "./node-group.js";
import { RemoteAcks, type ReportedAcks } from "./remote-acks.js";
import { ResponseNonces } from "./response-encoding.js";
import { RoutabilityTracker, type LocalAckState, type RoutableListener } from "./routability.js";
import { SotwStream } from "./sotw-stream.js";
import type { XdsStatus } from "./status.js";
import type { RegisteredStream, StreamContext } from "./stream-context.js";
import { WriteBudget } from "./write-budget.js";

export interface AdsServerOptions {
  /** The snapshot cache: watches through its ConfigWatcher side, routability through onSnapshot. */
  readonly cache: SnapshotCache;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly clock: Clock;
  /** Node → group; default: metadata "ticketplane.group", else node.cluster, else "default". */
  readonly nodeGroup?: NodeGroupFn;
  /** Bounded wait for ACKs before a pod is declared routable anyway (default 5000 ms). */
  readonly ackTimeoutMs?: number;
  /** Bounds per client (defaults: ADS_LIMIT_DEFAULTS). */
  readonly limits?: Partial<AdsLimits>;
  /** Another replica that stops reporting its gateways' ACKs is forgotten after this long (default 3 s). */
  readonly remoteAckExpireMs?: number;
}

export interface AdsServer {
  /** Register with `server.addService(ads.service, ads.implementation)`. */
  readonly service: typeof adsServiceDefinition;
  readonly implementation: AdsImplementation;
  /** Serves a state-of-the-world stream over any call that implements the port (what `implementation` does for grpc-js). */
  serveSotw(call: SotwCall): void;
  /** Serves a delta stream over any call that implements the port. */
  serveDelta(call: DeltaCall): void;
  /** Connected nodes and what each has ACKed/NACKed, for GET /api/xds. */
  status(): XdsStatus;
  /** Make before use: (group, podKey, routable) on every change. Returns an unsubscribe function. */
  onRoutable(listener: RoutableListener): () => void;
  isRoutable(group: string, podKey: string): boolean;
  /** Declares routable the pods whose ACK deadline passed (runs on its own timer too). */
  sweepAckTimeouts(): void;
  /** Per group with local gateways: their node ids and the pods all of them ACKed (what a follower reports to the owner). */
  localAckState(): LocalAckState[];
  /** On the owner: another replica's gateways and what they ACKed; they hold pods back as local ones do (remote-acks.ts). */
  applyAckReport(replica: string, groups: readonly ReportedAcks[]): void;
  /** Stops timers and the cache subscription. Streams end with the grpc server. */
  close(): void;
}

/**
 * The ADS server: StreamAggregatedResources (state of the world) and
 * DeltaAggregatedResources (incremental) over one SnapshotCache. Each stream
 * owns its state; the cache is used only through createWatch /
 * createDeltaWatch.
 */
export function createAdsServer(options: AdsServerOptions): AdsServer {
  const metrics = createXdsMetrics(options.registry);
  const logger = options.logger.child({ component: "xds" });
  const routability = new RoutabilityTracker({ clock: options.clock, logger, metrics, ackTimeoutMs: options.ackTimeoutMs });
  const remote = new RemoteAcks({ tracker: routability, clock: options.clock, logger, ...(options.remoteAckExpireMs === undefined ? {} : { expireMs: options.remoteAckExpireMs }) });
  const streams = new Set<RegisteredStream>();
  let streamId = 0;
  const limits = { ...ADS_LIMIT_DEFAULTS, ...options.limits };
  const ctx: StreamContext = {
    cache: options.cache,
    logger,
    clock: options.clock,
    metrics,
    nodeGroup: options.nodeGroup ?? defaultNodeGroup,
    routability,
    limits,
    writeBudget: new WriteBudget(limits.maxBytesInFlightTotal),
    firstSyncBudget: new WriteBudget(limits.maxFirstSyncBytes),
    groups: () => options.cache.groups(),
    hasConfig: (group) => options.cache.getSnapshot(group) !== undefined,
    nonces: new ResponseNonces(),
    nextStreamId: () => ++streamId,
    register: (s) => streams.add(s),
    unregister: (s) => streams.delete(s),
  };
  for (const group of options.cache.groups()) {
    const snapshot = options.cache.getSnapshot(group);
    if (snapshot) routability.snapshotChanged(group, snapshot);
  }
  const unsubscribe = options.cache.onSnapshot((group, snapshot) => routability.snapshotChanged(group, snapshot));

  const implementation: AdsImplementation = {
    streamAggregatedResources: (call) => void new SotwStream(ctx, call),
    deltaAggregatedResources: (call) => void new DeltaStream(ctx, call),
  };

  return {
    service: adsServiceDefinition,
    implementation,
    serveSotw: (call) => void new SotwStream(ctx, call),
    serveDelta: (call) => void new DeltaStream(ctx, call),
    status: () => {
      const streamStatuses = [...streams].map((s) => s.status());
      return {
        streams: streamStatuses,
        writes: { bytesInFlight: ctx.writeBudget.inFlight, limit: ctx.writeBudget.limit, streamsWaiting: ctx.writeBudget.waiting },
        firstSyncs: { bytes: ctx.firstSyncBudget.inFlight, limit: ctx.firstSyncBudget.limit, streamsWaiting: ctx.firstSyncBudget.waiting },
        waitingForConfig: streamStatuses.filter((s) => s.waitingForConfig).map(({ streamId, nodeId, group }) => ({ streamId, nodeId, group })),
        groups: groupStatuses(options.cache, routability),
      };
    },
    onRoutable: (listener) => routability.onRoutable(listener),
    isRoutable: (group, podKey) => routability.isRoutable(group, podKey),
    sweepAckTimeouts: () => routability.sweep(),
    localAckState: () => routability.localAckState(),
    applyAckReport: (replica, groups) => remote.apply(replica, groups),
    close: () => {
      unsubscribe();
      remote.close();
      routability.close();
    },
  };
}

/** Per group: the snapshot's version per type, and pods still waiting for ACKs. */
function groupStatuses(cache: SnapshotCache, routability: RoutabilityTracker): XdsStatus["groups"] {
  return cache.groups().map((group) => {
    const snapshot = cache.getSnapshot(group);
    const versions: Record<string, string> = {};
    if (snapshot) for (const t of PUSH_ORDER) versions[t] = snapshot.typeVersion(t);
    return { group, versions, pendingPods: routability.pendingPods(group) };
  });
}

/** Convenience: adds the ADS service to a grpc-js server. */
export function addAdsService(server: grpc.Server, ads: AdsServer): void {
  server.addService(ads.service, ads.implementation);
}
