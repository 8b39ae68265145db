/** Test fixtures: small hand-made BuiltResources (not used by src). */
import { Cluster, Cluster_DiscoveryType } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { HttpConnectionManager } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import type { BuiltResource } from "../resources/model.js";
import { RESOURCE_NAMES, ROUTING_HEADERS } from "../../routing/index.js";
import { EXTENSION_TYPE_URLS, TYPE_URLS } from "../resources/type-urls.js";

export function podCluster(pod: string): BuiltResource {
  const msg = Cluster.fromPartial({ name: pod, type: Cluster_DiscoveryType.EDS, edsClusterConfig: { serviceName: pod, edsConfig: { ads: {} } } });
  return { typeUrl: TYPE_URLS.cluster, name: pod, encoded: Cluster.encode(msg).finish(), pods: [pod] };
}

export function podEndpoints(pod: string, ip = "10.0.0.1", port = 8080): BuiltResource {
  const msg = ClusterLoadAssignment.fromPartial({
    clusterName: pod,
    endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: ip, portValue: port } } } }] }],
  });
  return { typeUrl: TYPE_URLS.endpoints, name: pod, encoded: ClusterLoadAssignment.encode(msg).finish(), pods: [pod] };
}

export function routes(pods: readonly string[], name: string = RESOURCE_NAMES.routes): BuiltResource {
  const msg = RouteConfiguration.fromPartial({
    name,
    virtualHosts: [
      {
        name: "all",
        domains: ["*"],
        routes: pods.map((pod) => ({
          match: { prefix: "/", headers: [{ name: ROUTING_HEADERS.pod, stringMatch: { exact: pod } }] },
          route: { cluster: pod },
        })),
      },
    ],
  });
  return { typeUrl: TYPE_URLS.routes, name, encoded: RouteConfiguration.encode(msg).finish(), pods: [...pods] };
}

/**
 * Today's route table: one route per app (`ns/app/`, from the pod keys),
 * its cluster taken from the cluster header; it names no pod and carries the
 * apps it routes (BuiltResource.apps).
 */
export function appRoutes(pods: readonly string[], name: string = RESOURCE_NAMES.routes): BuiltResource {
  const apps = [...new Set(pods.map((p) => p.slice(0, p.lastIndexOf("/") + 1)))].sort();
  const msg = RouteConfiguration.fromPartial({
    name,
    virtualHosts: [
      {
        name: "all",
        domains: ["*"],
        routes: apps.map((app) => ({
          match: { prefix: `/${app}`, headers: [{ name: ROUTING_HEADERS.cluster, stringMatch: { prefix: app } }] },
          route: { clusterHeader: ROUTING_HEADERS.cluster },
        })),
      },
    ],
  });
  return { typeUrl: TYPE_URLS.routes, name, encoded: RouteConfiguration.encode(msg).finish(), pods: [], apps };
}

/** A consistent group with today's route table: one cluster + endpoints per pod, one route per app, one listener. */
export function appGatewayResources(pods: readonly string[]): BuiltResource[] {
  return [...pods.flatMap((p) => [podCluster(p), podEndpoints(p)]), appRoutes(pods), listener()];
}

export function listener(routeName: string = RESOURCE_NAMES.routes): BuiltResource {
  const hcm = HttpConnectionManager.fromPartial({ statPrefix: "http", rds: { routeConfigName: routeName, configSource: { ads: {} } } });
  const msg = Listener.fromPartial({
    name: RESOURCE_NAMES.listener,
    filterChains: [
      { filters: [{ name: "envoy.filters.network.http_connection_manager", typedConfig: { typeUrl: EXTENSION_TYPE_URLS.httpConnectionManager, value: Buffer.from(HttpConnectionManager.encode(hcm).finish()) } }] },
    ],
  });
  return { typeUrl: TYPE_URLS.listener, name: RESOURCE_NAMES.listener, encoded: Listener.encode(msg).finish(), pods: [] };
}

/** A consistent group: one cluster + endpoints per pod, one route table, one listener. `ips` overrides a pod's IP. */
export function gatewayResources(pods: readonly string[], ips: Readonly<Record<string, string>> = {}): BuiltResource[] {
  return [...pods.flatMap((p) => [podCluster(p), podEndpoints(p, ips[p])]), routes(pods), listener()];
}
