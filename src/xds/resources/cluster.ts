/**
 * Cluster (CDS): one EDS cluster per pod, plus the shared clusters (authz,
 * access log, resolver) whose endpoints are inline.
 */
import { isIP } from "node:net";
import { Cluster, Cluster_DiscoveryType } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { HttpProtocolOptions } from "@envoyproxy/protos/envoy/extensions/upstreams/http/v3/http_protocol_options";
import { ApiVersion } from "@envoyproxy/protos/envoy/config/core/v3/config_source";
import type { HostPort } from "../../config/address.js";
import { buildClusterLoadAssignment, clusterLoadAssignmentErrors, IP_ONLY } from "./cluster-load-assignment.js";
import { adsConfigSource, checkUniqueNames, duration, durationMs, packAny } from "./envoy-values.js";
import { EXTENSION_NAMES, EXTENSION_TYPE_URLS, TYPE_URLS } from "./type-urls.js";

export const CLUSTER_TYPE_URL = TYPE_URLS.cluster;

/** Connect timeout of every cluster we build. */
export const CONNECT_TIMEOUT_MS = 5000;

/** A pod's cluster: EDS over ADS, HTTP/1.1 upstream (WebSocket upgrades need it). */
export function buildPodCluster(name: string): Cluster {
  return Cluster.fromPartial({
    name,
    type: Cluster_DiscoveryType.EDS,
    edsClusterConfig: { edsConfig: adsConfigSource() },
    connectTimeout: duration(CONNECT_TIMEOUT_MS),
  });
}

export interface SharedClusterOptions {
  /** gRPC services (authz, access log) need HTTP/2 upstream. */
  readonly http2: boolean;
}

/**
 * A cluster with its endpoint inline (`load_assignment`): STATIC when the host
 * is an IP literal, STRICT_DNS otherwise (a Service name).
 */
export function buildSharedCluster(name: string, target: HostPort, options: SharedClusterOptions): Cluster {
  const typedExtensionProtocolOptions = options.http2
    ? {
        [EXTENSION_NAMES.httpProtocolOptions]: packAny(
          EXTENSION_TYPE_URLS.httpProtocolOptions,
          HttpProtocolOptions.encode(HttpProtocolOptions.fromPartial({ explicitHttpConfig: { http2ProtocolOptions: {} } })).finish(),
        ),
      }
    : {};
  return Cluster.fromPartial({
    name,
    type: isIP(target.host) === 0 ? Cluster_DiscoveryType.STRICT_DNS : Cluster_DiscoveryType.STATIC,
    connectTimeout: duration(CONNECT_TIMEOUT_MS),
    loadAssignment: buildClusterLoadAssignment(name, [{ host: target.host, port: target.port }]),
    typedExtensionProtocolOptions,
  });
}

function edsErrors(cluster: Cluster, path: string): string[] {
  const errors: string[] = [];
  const source = cluster.edsClusterConfig?.edsConfig;
  if (source?.ads === undefined) errors.push(`${path}.eds_cluster_config.eds_config.ads: required (endpoints come over ADS)`);
  else if (source.resourceApiVersion !== ApiVersion.V3) errors.push(`${path}.eds_cluster_config.eds_config.resource_api_version: must be V3`);
  if (cluster.loadAssignment !== undefined) errors.push(`${path}.load_assignment: must be absent on an EDS cluster`);
  return errors;
}

function inlineErrors(cluster: Cluster, path: string): string[] {
  if (cluster.loadAssignment === undefined) return [`${path}.load_assignment: required on a ${Cluster_DiscoveryType[cluster.type ?? 0]} cluster`];
  // STRICT_DNS resolves its endpoints' host names; STATIC takes IP literals only.
  const ipOnly = cluster.type === Cluster_DiscoveryType.STRICT_DNS ? null : IP_ONLY.static;
  const errors = clusterLoadAssignmentErrors(cluster.loadAssignment, `${path}.load_assignment`, ipOnly);
  if (cluster.loadAssignment.clusterName !== cluster.name) {
    errors.push(`${path}.load_assignment.cluster_name: "${cluster.loadAssignment.clusterName}" differs from the cluster name "${cluster.name}"`);
  }
  return errors;
}

/** Errors (path-prefixed) in one Cluster our builders must never produce. */
export function clusterErrors(cluster: Cluster, path = "cluster"): string[] {
  const errors: string[] = [];
  if (cluster.name === "") errors.push(`${path}.name: must not be empty`);
  if (cluster.connectTimeout === undefined || durationMs(cluster.connectTimeout) <= 0) errors.push(`${path}.connect_timeout: must be positive`);
  if (cluster.type === Cluster_DiscoveryType.EDS) errors.push(...edsErrors(cluster, path));
  else if (cluster.type === Cluster_DiscoveryType.STATIC || cluster.type === Cluster_DiscoveryType.STRICT_DNS) errors.push(...inlineErrors(cluster, path));
  else errors.push(`${path}.type: ${String(cluster.type)} is not one we build (EDS, STATIC, STRICT_DNS)`);
  for (const [key, any] of Object.entries(cluster.typedExtensionProtocolOptions)) {
    if (key === EXTENSION_NAMES.httpProtocolOptions && any.typeUrl !== EXTENSION_TYPE_URLS.httpProtocolOptions) {
      errors.push(`${path}.typed_extension_protocol_options["${key}"]: type URL ${any.typeUrl} is not HttpProtocolOptions`);
    }
  }
  return errors;
}

/** Errors in a set of clusters: each one's, plus duplicate names. */
export function clustersErrors(clusters: readonly Cluster[], path = "clusters"): string[] {
  return [
    ...clusters.flatMap((c, i) => clusterErrors(c, `${path}[${i}]`)),
    ...checkUniqueNames(clusters.map((c) => c.name), (i) => `${path}[${i}].name`, "cluster name"),
  ];
}
