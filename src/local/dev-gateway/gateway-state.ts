/**
 * What the dev gateway has accepted over ADS (pure): per type, each
 * resource's version and decoded settings. A response is applied whole or not
 * at all — one bad resource NACKs the response and the last good config stays,
 * as an Envoy gateway keeps its last accepted config.
 */
import { type Compiled, type DecodedResources, decodeResource, type Endpoint, type ListenerSettings, type ResourceType, TYPE } from "./resources.js";
import type { CompiledRoutes } from "./routes.js";

interface Held<T> {
  readonly version: string;
  readonly value: T;
}

type Store = { readonly [T in ResourceType]: ReadonlyMap<string, Held<DecodedResources[T]>> };

/** One resource of a response, as the transport got it. */
export interface IncomingResource {
  readonly name: string;
  readonly version: string;
  readonly bytes: Uint8Array;
}

/** Where a request to a cluster goes. */
export type ClusterTarget = { readonly kind: "endpoint"; readonly endpoint: Endpoint } | { readonly kind: "no_cluster" } | { readonly kind: "no_healthy_upstream" };

const EMPTY: Store = { [TYPE.listener]: new Map(), [TYPE.routes]: new Map(), [TYPE.cluster]: new Map(), [TYPE.endpoints]: new Map() };

export class GatewayState {
  readonly #store: Store;

  constructor(store: Store = EMPTY) {
    this.#store = store;
  }

  /**
   * The state after a response of `type` (changed resources and removed
   * names), or every error in it; the state itself never changes.
   */
  apply<T extends ResourceType>(type: T, resources: readonly IncomingResource[], removed: readonly string[]): Compiled<GatewayState> {
    const next = new Map(this.#store[type] as ReadonlyMap<string, Held<DecodedResources[T]>>);
    const errors: string[] = [];
    for (const r of resources) {
      const decoded = decodeResource(type, r.name, r.bytes);
      if (decoded.ok) next.set(r.name, { version: r.version, value: decoded.value });
      else errors.push(...decoded.errors);
    }
    for (const name of removed) next.delete(name);
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, value: new GatewayState({ ...this.#store, [type]: next }) };
  }

  /** name → version of every accepted resource of a type (delta's initial_resource_versions on reconnect). */
  versions(type: ResourceType): Record<string, string> {
    return Object.fromEntries([...this.#store[type]].map(([name, held]) => [name, held.version]));
  }

  /** Names of a type's accepted resources. */
  names(type: ResourceType): string[] {
    return [...this.#store[type].keys()].sort();
  }

  /** The one listener the gateway serves (the first by name); undefined before LDS. */
  listener(): ListenerSettings | undefined {
    const first = this.names(TYPE.listener)[0];
    return first === undefined ? undefined : this.#store[TYPE.listener].get(first)?.value;
  }

  /** The route configuration the listener names, once accepted. */
  routes(): CompiledRoutes | undefined {
    const name = this.listener()?.routeConfigName;
    return name === undefined ? undefined : this.#store[TYPE.routes].get(name)?.value;
  }

  /** Route configurations the listeners need (RDS subscriptions). */
  wantedRoutes(): string[] {
    return [...new Set([...this.#store[TYPE.listener].values()].map((l) => l.value.routeConfigName))].sort();
  }

  /** ClusterLoadAssignments the EDS clusters need (EDS subscriptions). */
  wantedEndpoints(): string[] {
    const names: string[] = [];
    for (const held of this.#store[TYPE.cluster].values()) if (held.value.edsName !== undefined) names.push(held.value.edsName);
    return [...new Set(names)].sort();
  }

  hasCluster(name: string): boolean {
    return this.#store[TYPE.cluster].has(name);
  }

  /** The endpoints a cluster balances over (inline or from EDS); undefined when the cluster does not exist. */
  endpoints(cluster: string): readonly Endpoint[] | undefined {
    const settings = this.#store[TYPE.cluster].get(cluster)?.value;
    if (settings === undefined) return undefined;
    if (settings.endpoints !== undefined) return settings.endpoints;
    return this.#store[TYPE.endpoints].get(settings.edsName ?? cluster)?.value.endpoints ?? [];
  }

  /** Where a request for `cluster` goes: the `pick`-th endpoint (round robin), or why there is none. */
  target(cluster: string, pick = 0): ClusterTarget {
    const endpoints = this.endpoints(cluster);
    if (endpoints === undefined) return { kind: "no_cluster" };
    const endpoint = endpoints[pick % Math.max(1, endpoints.length)];
    return endpoint === undefined ? { kind: "no_healthy_upstream" } : { kind: "endpoint", endpoint };
  }
}
