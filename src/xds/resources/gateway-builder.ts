/**
 * buildGatewayResources, remembering each pod's Cluster and
 * ClusterLoadAssignment between builds, so that a change of one pod costs
 * the building, validating and encoding of that pod's two resources, not of
 * every pod of the group. The rest of the group (the shared clusters, the
 * listener, the route table) does not depend on the pods (the route table
 * names none) and is built as before from the model without its pods.
 *
 * Same model → the same resources as buildGatewayResources, byte for byte
 * and in the same order (tested). A pod that is unchanged since the last
 * build of its group (same key, host and port) gets the very same
 * BuiltResource objects, which Snapshot.build recognises without comparing
 * bytes. A model with any error is handed to buildGatewayResources, so the
 * errors (and the throw) are exactly its own.
 *
 * The returned objects are shared with later builds: callers must not
 * mutate them (nothing does; BuiltResource is read-only by contract).
 */
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { podClusterName } from "../../routing/index.js";
import { buildGatewayResources } from "./build.js";
import { buildPodCluster, clusterErrors } from "./cluster.js";
import { buildPodLoadAssignment, clusterLoadAssignmentErrors } from "./cluster-load-assignment.js";
import type { BuiltResource, GatewayModel, PodModel } from "./model.js";
import { PUSH_ORDER, TYPE_URLS } from "./type-urls.js";

/** One pod's resources as last built. */
interface PodEntry {
  readonly host: string;
  readonly port: number;
  readonly cluster: BuiltResource;
  readonly endpoints: BuiltResource;
}

export type GatewayBuilder = (model: GatewayModel) => BuiltResource[];

/** A builder with a memory per node group (a pod belongs to one group; groups never share entries). */
export function createGatewayBuilder(): GatewayBuilder {
  const groups = new Map<string, ReadonlyMap<string, PodEntry>>();
  return (model) => {
    const previous = groups.get(model.group);
    const pods = podEntries(model, previous);
    if (pods === undefined) return buildGatewayResources(model);
    // Throws, with buildGatewayResources' own errors, when the shared part is invalid.
    const shared = buildGatewayResources({ ...model, apps: model.apps.map((app) => ({ ...app, pods: [] })) });
    groups.set(model.group, pods);
    return assemble(shared, pods);
  };
}

/** Each pod's entry, reused when unchanged; undefined when a pod is invalid or two pods share a key. */
function podEntries(model: GatewayModel, previous: ReadonlyMap<string, PodEntry> | undefined): Map<string, PodEntry> | undefined {
  const entries = new Map<string, PodEntry>();
  for (const app of model.apps) {
    for (const pod of app.pods) {
      const key = podClusterName(app.namespace, app.name, pod.name);
      if (entries.has(key)) return undefined;
      const old = previous?.get(key);
      const entry = old !== undefined && old.host === pod.host && old.port === pod.port ? old : buildPod(key, pod);
      if (entry === undefined) return undefined;
      entries.set(key, entry);
    }
  }
  return entries;
}

function buildPod(key: string, pod: PodModel): PodEntry | undefined {
  const cluster = buildPodCluster(key);
  const cla = buildPodLoadAssignment(key, pod);
  if (clusterErrors(cluster).length > 0 || clusterLoadAssignmentErrors(cla).length > 0) return undefined;
  return {
    host: pod.host,
    port: pod.port,
    cluster: { typeUrl: TYPE_URLS.cluster, name: key, encoded: Cluster.encode(cluster).finish(), pods: [key] },
    endpoints: { typeUrl: TYPE_URLS.endpoints, name: key, encoded: ClusterLoadAssignment.encode(cla).finish(), pods: [key] },
  };
}

const byName = (a: BuiltResource, b: BuiltResource): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** buildGatewayResources' order: push order (CDS, EDS, LDS, RDS), then name. */
function assemble(shared: readonly BuiltResource[], pods: ReadonlyMap<string, PodEntry>): BuiltResource[] {
  const entries = [...pods.values()];
  const ofType = (typeUrl: string): BuiltResource[] => shared.filter((r) => r.typeUrl === typeUrl);
  const clusters = [...ofType(TYPE_URLS.cluster), ...entries.map((e) => e.cluster)].sort(byName);
  const endpoints = [...ofType(TYPE_URLS.endpoints), ...entries.map((e) => e.endpoints)].sort(byName);
  const rest = PUSH_ORDER.filter((t) => t !== TYPE_URLS.cluster && t !== TYPE_URLS.endpoints).flatMap((t) => ofType(t).sort(byName));
  return [...clusters, ...endpoints, ...rest];
}
