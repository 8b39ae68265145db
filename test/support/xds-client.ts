/**
 * An independent xDS peer for wire tests: gRPC's own `XdsClient` from
 * @grpc/grpc-js-xds (state-of-the-world ADS), which validates every resource
 * as a gRPC client does and ACKs or NACKs it. It shares no code with src/xds.
 *
 * What it accepts (and so what a test can rely on): clusters must be EDS with
 * `eds_config.ads` (or `self`) and lb_policy ROUND_ROBIN / RING_HASH;
 * ClusterLoadAssignments need `locality` set on every locality group and IP
 * literals (not host names) as addresses; routes may only use the `route`
 * action (a `direct_response` route makes it NACK the whole
 * RouteConfiguration); listeners must have a single HttpConnectionManager
 * whose filters it knows (ext_authz makes it NACK). Port 0 is accepted.
 *
 * Coupling: `close()` reaches into two private fields of XdsClient's
 * per-server client (`adsCallState`, `adsClient`) because the library has no
 * public way to end its stream and channel; it checks their shape and throws
 * (a bug, loudly) if a new version renames them.
 */
import type { ClientDuplexStream, StatusObject } from "@grpc/grpc-js";
import { XdsClient, type ResourceWatcherInterface } from "@grpc/grpc-js-xds/build/src/xds-client.js";
import { validateBootstrapConfig } from "@grpc/grpc-js-xds/build/src/xds-bootstrap.js";
import type { XdsResourceType } from "@grpc/grpc-js-xds/build/src/xds-resource-type/xds-resource-type.js";
import { ClusterResourceType, type CdsUpdate } from "@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js";
import { EndpointResourceType } from "@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js";
import { RouteConfigurationResourceType } from "@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js";
import { ListenerResourceType } from "@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js";
import type { ClusterLoadAssignment__Output } from "@grpc/grpc-js-xds/build/src/generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js";
import type { RouteConfiguration__Output } from "@grpc/grpc-js-xds/build/src/generated/envoy/config/route/v3/RouteConfiguration.js";
import type { Listener__Output } from "@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/Listener.js";

/** What grpc-js-xds hands a watcher, per kind of resource. */
export interface XdsValues {
  cluster: CdsUpdate;
  endpoints: ClusterLoadAssignment__Output;
  routes: RouteConfiguration__Output;
  listener: Listener__Output;
}
export type XdsKind = keyof XdsValues;

export type XdsEvent<K extends XdsKind> =
  | { readonly type: "update"; readonly value: XdsValues[K] }
  | { readonly type: "does-not-exist" }
  /** A NACKed resource (details is the client's validation error) or a lost connection. */
  | { readonly type: "error"; readonly details: string };

/** The client's own record of one resource (what it would report over CSDS). */
export interface XdsResourceStatus {
  readonly clientStatus: "REQUESTED" | "DOES_NOT_EXIST" | "ACKED" | "NACKED";
  readonly version?: string;
  readonly failedVersion?: string;
  readonly failedDetails?: string;
}

export interface XdsPeerOptions {
  /** host:port of the ADS server. */
  readonly address: string;
  readonly nodeId?: string;
  readonly nodeCluster?: string;
  /** String-valued node metadata (how a server may pick a node group). */
  readonly metadata?: Readonly<Record<string, string>>;
}

const RESOURCE_TYPES: { readonly [K in XdsKind]: XdsResourceType } = {
  cluster: ClusterResourceType.get(),
  endpoints: EndpointResourceType.get(),
  routes: RouteConfigurationResourceType.get(),
  listener: ListenerResourceType.get(),
};

/** Non-xdstp names live under this authority inside XdsClient. */
const OLD_AUTHORITY = "old:";

interface Watch {
  readonly watcher: ResourceWatcherInterface;
  readonly history: XdsEvent<XdsKind>[];
  /** How many events `next()` has handed out. */
  consumed: number;
  readonly waiters: Set<() => void>;
}

/** The private shape close() needs; checked at run time. */
interface SingleServerInternals {
  adsCallState: { call: ClientDuplexStream<unknown, unknown>; typeStates: Map<unknown, { subscribedResources: Map<string, Map<string, { maybeCancelTimer(): void }>> }> } | null;
  adsClient: { close(): void };
}

export class XdsPeer {
  readonly client: XdsClient;
  readonly #watches = new Map<string, Watch>();
  #closed = false;

  private constructor(client: XdsClient) {
    this.client = client;
  }

  /** Builds a client from a bootstrap that points at `address` (insecure, xds_v3). No stream opens until the first watch. */
  static start(options: XdsPeerOptions): XdsPeer {
    const metadata = options.metadata
      ? { fields: Object.fromEntries(Object.entries(options.metadata).map(([k, v]) => [k, { string_value: v }])) }
      : undefined;
    const bootstrap = validateBootstrapConfig({
      xds_servers: [{ server_uri: options.address, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
      node: { id: options.nodeId ?? "test-gateway", cluster: options.nodeCluster ?? "default", locality: {}, ...(metadata ? { metadata } : {}) },
    });
    return new XdsPeer(new XdsClient(bootstrap));
  }

  /** Subscribes to one resource; idempotent. */
  watch(kind: XdsKind, name: string): void {
    if (this.#closed) throw new Error("XdsPeer: watch after close");
    const key = watchKey(kind, name);
    if (this.#watches.has(key)) return;
    const entry: Watch = { watcher: undefined as unknown as ResourceWatcherInterface, history: [], consumed: 0, waiters: new Set() };
    const push = (event: XdsEvent<XdsKind>): void => {
      entry.history.push(event);
      for (const wake of [...entry.waiters]) wake();
    };
    const watcher: ResourceWatcherInterface = {
      onGenericResourceChanged: (resource) => push({ type: "update", value: resource as XdsValues[XdsKind] }),
      onResourceDoesNotExist: () => push({ type: "does-not-exist" }),
      onError: (status: StatusObject) => push({ type: "error", details: status.details }),
    };
    (entry as { watcher: ResourceWatcherInterface }).watcher = watcher;
    this.#watches.set(key, entry);
    this.client.watchResource(RESOURCE_TYPES[kind], name, watcher);
  }

  watchAll(kind: XdsKind, names: Iterable<string>): void {
    for (const name of names) this.watch(kind, name);
  }

  unwatch(kind: XdsKind, name: string): void {
    const key = watchKey(kind, name);
    const entry = this.#watches.get(key);
    if (!entry) return;
    this.#watches.delete(key);
    this.client.cancelResourceWatch(RESOURCE_TYPES[kind], name, entry.watcher);
  }

  /** The last value the client accepted for the resource, if any (a later NACK does not replace it). */
  current<K extends XdsKind>(kind: K, name: string): XdsValues[K] | undefined {
    const history = this.#entry(kind, name).history;
    for (let i = history.length - 1; i >= 0; i--) {
      const event = history[i];
      if (event.type === "update") return event.value as XdsValues[K];
      if (event.type === "does-not-exist") return undefined;
    }
    return undefined;
  }

  /** Every event the watcher has seen, oldest first. */
  history<K extends XdsKind>(kind: K, name: string): readonly XdsEvent<K>[] {
    return this.#entry(kind, name).history as XdsEvent<K>[];
  }

  /** The next event `next()` has not yet returned for this resource (queued events first). Rejects after timeoutMs. */
  async next<K extends XdsKind>(kind: K, name: string, timeoutMs = 5_000): Promise<XdsEvent<K>> {
    const entry = this.#entry(kind, name);
    await this.#waitFor(entry, () => entry.history.length > entry.consumed, `${kind} ${name}: no event`, timeoutMs);
    return entry.history[entry.consumed++] as XdsEvent<K>;
  }

  /**
   * Resolves with the latest event once it satisfies `predicate` (checked now,
   * then on every new event); rejects after timeoutMs with the last event seen.
   */
  async until<K extends XdsKind>(kind: K, name: string, predicate: (event: XdsEvent<K>) => boolean, timeoutMs = 5_000): Promise<XdsEvent<K>> {
    const entry = this.#entry(kind, name);
    const latest = (): XdsEvent<K> | undefined => entry.history.at(-1) as XdsEvent<K> | undefined;
    await this.#waitFor(
      entry,
      () => {
        const event = latest();
        return event !== undefined && predicate(event);
      },
      `${kind} ${name}: condition not met`,
      timeoutMs,
    );
    entry.consumed = entry.history.length;
    return latest()!;
  }

  /** Resolves with the accepted value once `predicate` holds for it. */
  async untilValue<K extends XdsKind>(kind: K, name: string, predicate: (value: XdsValues[K]) => boolean, timeoutMs = 5_000): Promise<XdsValues[K]> {
    const event = await this.until(kind, name, (e) => e.type === "update" && predicate(e.value), timeoutMs);
    return (event as { value: XdsValues[K] }).value;
  }

  /** The client's own ACK/NACK record for one resource (CSDS view). */
  status(kind: XdsKind, name: string): XdsResourceStatus | undefined {
    const state = this.client.authorityStateMap.get(OLD_AUTHORITY)?.resourceMap.get(RESOURCE_TYPES[kind])?.get(name);
    if (!state) return undefined;
    const { clientStatus, version, failedVersion, failedDetails } = state.meta;
    return { clientStatus, version, failedVersion, failedDetails };
  }

  /** The version_info the client last accepted for a type (what it sends back in its next request). */
  acceptedVersion(kind: XdsKind): string | undefined {
    return this.client.authorityStateMap.get(OLD_AUTHORITY)?.client.resourceTypeVersionMap.get(RESOURCE_TYPES[kind]);
  }

  /**
   * Ends the ADS stream (cancel, as a gateway that goes away does), closes
   * the channel and drops every timer, so the test process can exit. Resolves
   * once the stream has ended. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const single = this.client.authorityStateMap.get(OLD_AUTHORITY)?.client as unknown as SingleServerInternals | undefined;
    if (single && (!("adsCallState" in single) || typeof single.adsClient?.close !== "function")) {
      throw new Error("XdsPeer.close: @grpc/grpc-js-xds internals changed (adsCallState/adsClient)");
    }
    const callState = single?.adsCallState ?? null;
    if (callState) cancelResourceTimers(callState);
    for (const [key, entry] of [...this.#watches]) {
      const [kind, name] = splitKey(key);
      this.#watches.delete(key);
      this.client.cancelResourceWatch(RESOURCE_TYPES[kind], name, entry.watcher);
      for (const wake of [...entry.waiters]) wake();
    }
    if (callState) {
      const ended = new Promise<void>((resolve) => callState.call.once("status", () => resolve()));
      callState.call.cancel();
      await ended;
    }
    // The channel is left to go idle rather than closed: grpc-js-xds keeps a
    // connectivity watcher on it that throws when it sees SHUTDOWN. With no
    // call left its connection is unref'd, so the process still exits.
  }

  #entry(kind: XdsKind, name: string): Watch {
    const entry = this.#watches.get(watchKey(kind, name));
    if (!entry) throw new Error(`XdsPeer: ${kind} ${name} is not watched`);
    return entry;
  }

  #waitFor(entry: Watch, done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (done()) {
          finish();
          resolve();
        } else if (this.#closed) {
          finish();
          reject(new Error(`XdsPeer closed while waiting: ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        const last = entry.history.at(-1);
        reject(new Error(`XdsPeer: ${what} within ${timeoutMs} ms (last event: ${last ? describe(last) : "none"})`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        entry.waiters.delete(check);
      };
      entry.waiters.add(check);
    });
  }
}

/** The library's does-not-exist timers (15 s, not unref'd) outlive an unsubscribe; stop them before it. */
function cancelResourceTimers(callState: NonNullable<SingleServerInternals["adsCallState"]>): void {
  for (const typeState of callState.typeStates.values()) {
    for (const timers of typeState.subscribedResources.values()) for (const timer of timers.values()) timer.maybeCancelTimer();
  }
}

function watchKey(kind: XdsKind, name: string): string {
  return `${kind}\u0000${name}`;
}

function splitKey(key: string): [XdsKind, string] {
  const at = key.indexOf("\u0000");
  return [key.slice(0, at) as XdsKind, key.slice(at + 1)];
}

function describe(event: XdsEvent<XdsKind>): string {
  return event.type === "error" ? `error ${event.details}` : event.type;
}

/** Opens `count` peers with node ids `${prefix}-${i}`; close them with closeAll. */
export function startPeers(count: number, options: XdsPeerOptions & { nodeIdPrefix?: string }): XdsPeer[] {
  return Array.from({ length: count }, (_, i) => XdsPeer.start({ ...options, nodeId: `${options.nodeIdPrefix ?? "test-gateway"}-${i}` }));
}

export async function closeAll(peers: readonly XdsPeer[]): Promise<void> {
  await Promise.all(peers.map((p) => p.close()));
}

