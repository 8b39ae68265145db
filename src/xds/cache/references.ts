/**
 * What a resource names: the ClusterLoadAssignment an EDS cluster needs, the
 * RouteConfiguration a listener's HTTP connection manager needs. Used only by
 * the consistency check; each answer is computed once per resource version.
 */
import { Cluster, Cluster_DiscoveryType } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import type { FilterChain } from "@envoyproxy/protos/envoy/config/listener/v3/listener_components";
import { HttpConnectionManager } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import { errorMessage } from "../../common/errors.js";
import { EXTENSION_TYPE_URLS, TYPE_URLS } from "../resources/type-urls.js";
import type { EncodedResource } from "./encoded-resource.js";

export type References = { ok: true; names: readonly string[] } | { ok: false; error: string };

const memo = new WeakMap<EncodedResource, References>();

/** Names of the resources (of the dependent type: EDS for a cluster, RDS for a listener) that `resource` refers to. */
export function referencesOf(resource: EncodedResource): References {
  let refs = memo.get(resource);
  if (refs === undefined) {
    refs = compute(resource);
    memo.set(resource, refs);
  }
  return refs;
}

function compute(resource: EncodedResource): References {
  try {
    if (resource.typeUrl === TYPE_URLS.cluster) return { ok: true, names: clusterRefs(Cluster.decode(resource.bytes)) };
    if (resource.typeUrl === TYPE_URLS.listener) return { ok: true, names: listenerRefs(Listener.decode(resource.bytes)) };
    return { ok: true, names: [] };
  } catch (err) {
    return { ok: false, error: `${resource.name}: does not decode as ${resource.typeUrl}: ${errorMessage(err)}` };
  }
}

function clusterRefs(cluster: Cluster): string[] {
  if (cluster.type !== Cluster_DiscoveryType.EDS) return [];
  const serviceName = cluster.edsClusterConfig?.serviceName ?? "";
  return [serviceName !== "" ? serviceName : cluster.name];
}

function listenerRefs(listener: Listener): string[] {
  const chains: FilterChain[] = [...listener.filterChains];
  if (listener.defaultFilterChain) chains.push(listener.defaultFilterChain);
  const names: string[] = [];
  for (const chain of chains) {
    for (const filter of chain.filters) {
      if (filter.typedConfig?.typeUrl !== EXTENSION_TYPE_URLS.httpConnectionManager) continue;
      const rds = HttpConnectionManager.decode(filter.typedConfig.value).rds;
      if (rds && rds.routeConfigName !== "") names.push(rds.routeConfigName);
    }
  }
  return names;
}
