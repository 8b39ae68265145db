/**
 * ClusterLoadAssignment (EDS): the endpoints of one cluster. Pod clusters get
 * theirs over EDS; shared clusters embed one inline as `load_assignment`.
 */
import { isIP } from "node:net";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { HealthStatus } from "@envoyproxy/protos/envoy/config/core/v3/health_check";
import { checkSocketAddress, checkUniqueNames, socketAddress } from "./envoy-values.js";
import type { PodModel } from "./model.js";
import { TYPE_URLS } from "./type-urls.js";

export const CLUSTER_LOAD_ASSIGNMENT_TYPE_URL = TYPE_URLS.endpoints;

export interface EndpointSpec {
  readonly host: string;
  readonly port: number;
  /** UNKNOWN (the default) leaves the health to Envoy. */
  readonly health?: HealthStatus;
}

/** One locality holding the given endpoints, in the given order. */
export function buildClusterLoadAssignment(clusterName: string, endpoints: readonly EndpointSpec[]): ClusterLoadAssignment {
  return ClusterLoadAssignment.fromPartial({
    clusterName,
    endpoints: [
      {
        // An explicit (empty) locality: Envoy accepts none, but gRPC's xDS client rejects "locality unset".
        locality: {},
        lbEndpoints: endpoints.map((e) => ({
          endpoint: { address: socketAddress(e.host, e.port) },
          healthStatus: e.health ?? HealthStatus.UNKNOWN,
        })),
      },
    ],
  });
}

/**
 * A pod's endpoints: its one host:port, always HEALTHY. A pod that is not
 * serving (not ready, draining) keeps its cluster and endpoints so
 * existing tickets keep working; keeping new users off it is the ticket
 * core's job (it issues no ticket for such a pod), not Envoy's. We must not
 * send DRAINING here: Envoy excludes EDS-DRAINING hosts from load balancing
 * (envoy#30622; its runtime guard was removed in envoy#37185), which would
 * answer 503 to the users the pod still holds.
 */
export function buildPodLoadAssignment(clusterName: string, pod: PodModel): ClusterLoadAssignment {
  return buildClusterLoadAssignment(clusterName, [{ host: pod.host, port: pod.port, health: HealthStatus.HEALTHY }]);
}

/** Why endpoint addresses must be IP literals, for the clusters that take no host names. */
export const IP_ONLY = {
  eds: "Envoy's EDS takes IP addresses only, not host names",
  static: "a STATIC cluster takes IP addresses only, not host names",
} as const;

/**
 * Errors (path-prefixed) in a ClusterLoadAssignment our builders must never
 * produce. Endpoint addresses must be IP literals, for the reason `ipOnly`
 * gives (default: sent over EDS); `ipOnly: null` accepts host names, as a
 * STRICT_DNS cluster's inline `load_assignment` does.
 */
export function clusterLoadAssignmentErrors(cla: ClusterLoadAssignment, path = "cluster_load_assignment", ipOnly: string | null = IP_ONLY.eds): string[] {
  const errors: string[] = [];
  if (cla.clusterName === "") errors.push(`${path}.cluster_name: must not be empty`);
  if (cla.endpoints.length === 0) errors.push(`${path}.endpoints: must hold at least one locality`);
  cla.endpoints.forEach((locality, li) => {
    const lpath = `${path}.endpoints[${li}]`;
    if (locality.lbEndpoints.length === 0) errors.push(`${lpath}.lb_endpoints: must hold at least one endpoint`);
    locality.lbEndpoints.forEach((lb, ei) => {
      const at = `${lpath}.lb_endpoints[${ei}].endpoint.address`;
      errors.push(...checkSocketAddress(lb.endpoint?.address, at));
      const host = lb.endpoint?.address?.socketAddress?.address ?? "";
      if (ipOnly !== null && host !== "" && isIP(host) === 0) errors.push(`${at}.socket_address.address: ${JSON.stringify(host)} is not an IP address (${ipOnly})`);
    });
    const keys = locality.lbEndpoints.map((lb) => `${lb.endpoint?.address?.socketAddress?.address}:${lb.endpoint?.address?.socketAddress?.portValue}`);
    errors.push(...checkUniqueNames(keys, (i) => `${lpath}.lb_endpoints[${i}]`, "endpoint"));
  });
  return errors;
}
