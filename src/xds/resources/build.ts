/**
 * GatewayModel → BuiltResource[]: every Cluster, ClusterLoadAssignment,
 * Listener and RouteConfiguration one node group is configured with, each
 * deterministically encoded (same model, in any order → identical bytes) and
 * tagged with what it makes routable: a pod's own Cluster and
 * ClusterLoadAssignment carry the pod's key, the RouteConfiguration the
 * cluster prefix of every app it routes (it names no pod).
 */
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { ERROR_CODES, TicketplaneError } from "../../common/errors.js";
import { buildPodCluster, buildSharedCluster, clustersErrors } from "./cluster.js";
import { buildPodLoadAssignment, clusterLoadAssignmentErrors } from "./cluster-load-assignment.js";
import { buildListener, listenerErrors } from "./listener.js";
import { podClusterName, RESOURCE_NAMES, ROUTING_HEADERS } from "../../routing/index.js";
import type { BuiltResource, GatewayModel } from "./model.js";
import { buildRouteConfiguration, routeConfigurationErrors } from "./route-configuration.js";
import { PUSH_ORDER, TYPE_URLS } from "./type-urls.js";
import { byName } from "../../common/by-name.js";

/** The decoded resources of one model, before encoding. */
export interface GatewayResources {
  readonly clusters: readonly Cluster[];
  readonly loadAssignments: readonly ClusterLoadAssignment[];
  readonly listener: Listener;
  readonly routes: RouteConfiguration;
}

export type BuildResult = { readonly ok: true; readonly resources: BuiltResource[] } | { readonly ok: false; readonly errors: readonly string[] };

/** Builds the messages (sorted by name within each type). */
export function buildGatewayMessages(model: GatewayModel): GatewayResources {
  const pods = model.apps.flatMap((app) => app.pods.map((pod) => ({ key: podClusterName(app.namespace, app.name, pod.name), pod })));
  pods.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const shared = [
    ...(model.extAuthz === undefined ? [] : [buildSharedCluster(RESOURCE_NAMES.authzCluster, model.extAuthz.cluster, { http2: true })]),
    buildSharedCluster(RESOURCE_NAMES.accessLogCluster, model.accessLog.cluster, { http2: true }),
    ...(model.resolver === undefined ? [] : [buildSharedCluster(RESOURCE_NAMES.resolverCluster, model.resolver, { http2: false })]),
  ];
  return {
    clusters: [...shared, ...pods.map((p) => buildPodCluster(p.key))].sort(byName),
    loadAssignments: pods.map((p) => buildPodLoadAssignment(p.key, p.pod)),
    listener: buildListener(model),
    routes: buildRouteConfiguration(model),
  };
}

/** Every error (path-prefixed) in a set of resources, including routes to clusters not in the set and EDS clusters without endpoints. */
export function gatewayResourcesErrors(resources: GatewayResources): string[] {
  const clusterNames = new Set(resources.clusters.map((c) => c.name));
  const errors = [
    ...clustersErrors(resources.clusters),
    ...resources.loadAssignments.flatMap((cla, i) => clusterLoadAssignmentErrors(cla, `endpoints[${i}]`)),
    ...listenerErrors(resources.listener),
    ...routeConfigurationErrors(resources.routes, clusterNames),
  ];
  const claNames = new Set(resources.loadAssignments.map((c) => c.clusterName));
  resources.loadAssignments.forEach((cla, i) => {
    if (!clusterNames.has(cla.clusterName)) errors.push(`endpoints[${i}].cluster_name: "${cla.clusterName}" names no cluster in the set`);
  });
  resources.clusters.forEach((c, i) => {
    if (c.edsClusterConfig !== undefined && !claNames.has(c.name)) errors.push(`clusters[${i}]: EDS cluster "${c.name}" has no ClusterLoadAssignment`);
  });
  return errors;
}

/**
 * The app cluster prefixes the RouteConfiguration routes to, read from the
 * routes themselves (each app's route to its pods matches the cluster header
 * by the app's prefix and takes its cluster from it), sorted: what a
 * gateway holding this version can reach, whatever the model said.
 */
function routedApps(routes: RouteConfiguration): string[] {
  const prefixes = new Set<string>();
  for (const vh of routes.virtualHosts) {
    for (const route of vh.routes) {
      if (route.route?.clusterHeader !== ROUTING_HEADERS.cluster) continue;
      const prefix = route.match?.headers.find((h) => h.name === ROUTING_HEADERS.cluster)?.stringMatch?.prefix;
      if (prefix) prefixes.add(prefix);
    }
  }
  return [...prefixes].sort();
}

/** Builds, checks and encodes; a model that yields invalid resources (e.g. two pods with one name) is an error value. */
export function tryBuildGatewayResources(model: GatewayModel): BuildResult {
  const messages = buildGatewayMessages(model);
  const errors = gatewayResourcesErrors(messages);
  if (errors.length > 0) return { ok: false, errors };
  const podKeys = new Set(messages.loadAssignments.map((c) => c.clusterName));
  const podsOf = (key: string): string[] => (podKeys.has(key) ? [key] : []);
  const resources: BuiltResource[] = [
    ...messages.clusters.map((c) => ({ typeUrl: TYPE_URLS.cluster, name: c.name, encoded: Cluster.encode(c).finish(), pods: c.edsClusterConfig === undefined ? [] : podsOf(c.name) })),
    ...messages.loadAssignments.map((c) => ({ typeUrl: TYPE_URLS.endpoints, name: c.clusterName, encoded: ClusterLoadAssignment.encode(c).finish(), pods: podsOf(c.clusterName) })),
    { typeUrl: TYPE_URLS.listener, name: messages.listener.name, encoded: Listener.encode(messages.listener).finish(), pods: [] },
    // Names no pod (each app's route reads its cluster from a header): it changes with the apps, never with their pods.
    { typeUrl: TYPE_URLS.routes, name: messages.routes.name, encoded: RouteConfiguration.encode(messages.routes).finish(), pods: [], apps: routedApps(messages.routes) },
  ];
  return { ok: true, resources: resources.sort((a, b) => PUSH_ORDER.indexOf(a.typeUrl) - PUSH_ORDER.indexOf(b.typeUrl) || byName(a, b)) };
}

/**
 * Every resource of the node group, sorted by push order (CDS, EDS, LDS, RDS)
 * then name. Same model (apps and pods in any order) → identical bytes.
 * Throws TicketplaneError(INTERNAL) when the model yields invalid resources:
 * the publisher builds models from validated AppSpecs, so that is a bug; call
 * `tryBuildGatewayResources` to get the errors as a value instead.
 */
export function buildGatewayResources(model: GatewayModel): BuiltResource[] {
  const result = tryBuildGatewayResources(model);
  if (!result.ok) {
    throw new TicketplaneError(ERROR_CODES.INTERNAL, `gateway model "${model.group}" yields invalid Envoy resources: ${result.errors.join("; ")}`, { group: model.group });
  }
  return result.resources;
}
