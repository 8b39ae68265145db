/**
 * buildGatewayResources, remembering each pod's Cluster and
 * ClusterLoadAssignment between builds, so that a change of one pod costs
 * the building, validating and encoding of that pod's two resources, not of
 * every pod of the group. The rest of the group (the shared clusters, the
 * listener, the route table) does not depend on the pods (the route table
 * names none) and is built as before from the model without its pods, when
 * that differs from the previous build's.
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
import { PUSH_ORDER, TYPE_URLS, type TypeUrl } from "./type-urls.js";

/** One pod's resources as last built. */
interface PodEntry {
  readonly host: string;
  readonly port: number;
  readonly cluster: BuiltResource;
  readonly endpoints: BuiltResource;
}

export type GatewayBuilder = (model: GatewayModel) => BuiltResource[];

/** A resource that went away: its type and name. */
export interface ResourceKey {
  readonly typeUrl: TypeUrl;
  readonly name: string;
}

/** What changed since the builder's previous build of the same node group. */
export interface GatewayChange {
  /** Resources added or rebuilt, and every resource of the shared part (few; unchanged ones are recognised by their bytes). */
  readonly upserts: readonly BuiltResource[];
  readonly removals: readonly ResourceKey[];
}

/** One build: every resource on demand, and the change since the previous build of the group when there was one. */
export interface GatewayBuild {
  /** Every resource, exactly as buildGatewayResources gives them (assembled on each call). */
  resources(): BuiltResource[];
  /** Undefined on a group's first build, or after a model that failed. */
  readonly change: GatewayChange | undefined;
}

export type IncrementalGatewayBuilder = (model: GatewayModel) => GatewayBuild;

interface GroupMemory {
  readonly pods: ReadonlyMap<string, PodEntry>;
  readonly shared: readonly BuiltResource[];
  /** The model without its pods, as JSON: the same text builds the same shared part. */
  readonly sharedModel: string;
}

/** A builder with a memory per node group (a pod belongs to one group; groups never share entries). */
export function createGatewayBuilder(): GatewayBuilder {
  const build = createIncrementalGatewayBuilder();
  return (model) => build(model).resources();
}

/**
 * createGatewayBuilder that also says what changed since its previous
 * build of the group, so that the snapshot can be derived from the change
 * (Snapshot.apply): per pod, one map lookup to find it unchanged, and work
 * only for the pods that changed. A model with any error throws
 * buildGatewayResources' errors (or gives its resources) and makes the
 * group's next build a first one (no change).
 */
export function createIncrementalGatewayBuilder(): IncrementalGatewayBuilder {
  const groups = new Map<string, GroupMemory>();
  return (model) => {
    const previous = groups.get(model.group);
    const pods = podEntries(model, previous?.pods);
    if (pods === undefined) {
      groups.delete(model.group);
      const resources = buildGatewayResources(model);
      return { resources: () => resources, change: undefined };
    }
    const withoutPods: GatewayModel = { ...model, apps: model.apps.map((app) => ({ ...app, pods: [] })) };
    const sharedModel = JSON.stringify(withoutPods);
    // A pod change leaves the shared part as it was: reuse it rather than build, validate and encode the listener and routes again.
    // Otherwise this throws, with buildGatewayResources' own errors, when the shared part is invalid.
    const shared = previous?.sharedModel === sharedModel ? previous.shared : buildGatewayResources(withoutPods);
    groups.set(model.group, { pods: pods.entries, shared, sharedModel });
    return { resources: () => assemble(shared, pods.entries), change: previous ? changeOf(previous, shared, pods) : undefined };
  };
}

/** The change from `previous`: rebuilt pods, pods gone (looked for only when the counts say some went), the shared part whole. */
function changeOf(previous: GroupMemory, shared: readonly BuiltResource[], pods: PodEntries): GatewayChange {
  const upserts: BuiltResource[] = [...shared];
  for (const e of pods.rebuilt) upserts.push(e.cluster, e.endpoints);
  const removals: ResourceKey[] = [];
  const key = (r: ResourceKey): string => `${r.typeUrl} ${r.name}`;
  const sharedNow = new Set(shared.map(key));
  for (const r of previous.shared) if (!sharedNow.has(key(r))) removals.push({ typeUrl: r.typeUrl, name: r.name });
  if (previous.pods.size > pods.kept) {
    for (const [name] of previous.pods) {
      if (pods.entries.has(name)) continue;
      removals.push({ typeUrl: TYPE_URLS.cluster, name }, { typeUrl: TYPE_URLS.endpoints, name });
    }
  }
  return { upserts, removals };
}

interface PodEntries {
  readonly entries: ReadonlyMap<string, PodEntry>;
  /** Entries built anew (added or changed pods). */
  readonly rebuilt: readonly PodEntry[];
  /** How many keys the previous build also had. */
  readonly kept: number;
}

/** Each pod's entry, reused when unchanged; undefined when a pod is invalid or two pods share a key. */
function podEntries(model: GatewayModel, previous: ReadonlyMap<string, PodEntry> | undefined): PodEntries | undefined {
  const entries = new Map<string, PodEntry>();
  const rebuilt: PodEntry[] = [];
  let kept = 0;
  for (const app of model.apps) {
    for (const pod of app.pods) {
      const key = podClusterName(app.namespace, app.name, pod.name);
      if (entries.has(key)) return undefined;
      const old = previous?.get(key);
      if (old !== undefined) kept++;
      const entry = old !== undefined && old.host === pod.host && old.port === pod.port ? old : buildPod(key, pod);
      if (entry === undefined) return undefined;
      if (entry !== old) rebuilt.push(entry);
      entries.set(key, entry);
    }
  }
  return { entries, rebuilt, kept };
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
