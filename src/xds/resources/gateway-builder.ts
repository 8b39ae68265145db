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
 * An app whose `pods` is the very array the previous build of the group
 * took is taken as unchanged without a look at its pods (the ticket core
 * hands the same frozen array until a pod comes or goes), so a change of
 * one pod costs the apps, not the pods, of the group. Callers must not
 * mutate a pods array they handed in.
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
import type { AppModel, BuiltResource, GatewayModel, PodModel } from "./model.js";
import { PUSH_ORDER, TYPE_URLS, type TypeUrl } from "./type-urls.js";
import { byName } from "../../common/by-name.js";

/** One pod's resources as last built. */
interface PodEntry {
  readonly host: string;
  readonly port: number;
  readonly cluster: BuiltResource;
  readonly endpoints: BuiltResource;
  /** The build that last met this pod in its app (finds a pod named twice without a set per build). */
  seenIn: number;
}

/** One app's pods as last built, by pod name: kept as the very same map while none of them changes. */
type AppPods = ReadonlyMap<string, PodEntry>;

/** What a group's build kept of one app: its pods, and the model's array they were built from. */
interface AppMemory {
  readonly source: readonly PodModel[];
  readonly pods: AppPods;
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
  /** By app key (`namespace/name`). */
  readonly apps: ReadonlyMap<string, AppMemory>;
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
  let builds = 0;
  return (model) => {
    const previous = groups.get(model.group);
    const pods = podEntries(model, previous?.apps, ++builds);
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
    groups.set(model.group, { apps: pods.apps, shared, sharedModel });
    return { resources: () => assemble(shared, pods.apps), change: previous ? changeOf(previous, shared, pods) : undefined };
  };
}

/** The change from `previous`: rebuilt pods, pods gone (looked for only in the apps whose pods changed), the shared part whole. */
function changeOf(previous: GroupMemory, shared: readonly BuiltResource[], pods: PodEntries): GatewayChange {
  const upserts: BuiltResource[] = [...shared];
  for (const e of pods.rebuilt) upserts.push(e.cluster, e.endpoints);
  const removals: ResourceKey[] = [];
  const key = (r: ResourceKey): string => `${r.typeUrl} ${r.name}`;
  const sharedNow = new Set(shared.map(key));
  for (const r of previous.shared) if (!sharedNow.has(key(r))) removals.push({ typeUrl: r.typeUrl, name: r.name });
  for (const [app, { pods: before }] of previous.apps) {
    const now = pods.apps.get(app)?.pods;
    if (now === before) continue;
    for (const [name, e] of before) {
      if (now?.get(name) !== undefined) continue;
      removals.push({ typeUrl: TYPE_URLS.cluster, name: e.cluster.name }, { typeUrl: TYPE_URLS.endpoints, name: e.endpoints.name });
    }
  }
  return { upserts, removals };
}

interface PodEntries {
  /** Each app's pods: the previous build's map itself for an app whose pods are all unchanged. */
  readonly apps: ReadonlyMap<string, AppMemory>;
  /** Entries built anew (added or changed pods). */
  readonly rebuilt: readonly PodEntry[];
}

/**
 * Each app's pod entries, reused when unchanged; undefined when a pod is
 * invalid, a pod is named twice in its app, two apps share a key, or a
 * namespace or app name holds a "/" (then two pods could share a cluster
 * name): buildGatewayResources then gives the answer. Per unchanged pod,
 * one map lookup and no allocation, so a change of one pod among
 * thousands costs little beyond the walk over the model.
 */
function podEntries(model: GatewayModel, previous: ReadonlyMap<string, AppMemory> | undefined, build: number): PodEntries | undefined {
  const apps = new Map<string, AppMemory>();
  const rebuilt: PodEntry[] = [];
  for (const app of model.apps) {
    if (app.namespace.includes("/") || app.name.includes("/")) return undefined;
    const key = `${app.namespace}/${app.name}`;
    if (apps.has(key)) return undefined;
    const before = previous?.get(key);
    // The very array the previous build took (the ticket core hands the same one until a pod comes or goes): nothing to walk.
    const pods = before?.source === app.pods ? before.pods : appPods(app, before?.pods, build, rebuilt);
    if (pods === undefined) return undefined;
    apps.set(key, { source: app.pods, pods });
  }
  return { apps, rebuilt };
}

/** One app's entries (see podEntries): `before` itself when every pod is as it was and none went. */
function appPods(app: AppModel, before: AppPods | undefined, build: number, rebuilt: PodEntry[]): AppPods | undefined {
  const pods = app.pods;
  let i = 0;
  // While the pods are as they were: no map, no allocation.
  for (; i < pods.length; i++) {
    const old = unchanged(pods[i], before);
    if (old === undefined) break;
    if (old.seenIn === build) return undefined;
    old.seenIn = build;
  }
  if (i === pods.length) return before !== undefined && before.size === pods.length ? before : entriesBefore(pods, i, before);
  const after = entriesBefore(pods, i, before);
  for (; i < pods.length; i++) {
    const pod = pods[i];
    if (after.has(pod.name)) return undefined;
    const old = unchanged(pod, before);
    const entry = old ?? buildPod(podClusterName(app.namespace, app.name, pod.name), pod, build);
    if (entry === undefined) return undefined;
    if (old === undefined) rebuilt.push(entry);
    after.set(pod.name, entry);
  }
  return after;
}

/** The entry `before` has for `pod` when its address is the same. */
function unchanged(pod: PodModel, before: AppPods | undefined): PodEntry | undefined {
  const old = before?.get(pod.name);
  return old !== undefined && old.host === pod.host && old.port === pod.port ? old : undefined;
}

/** The entries of `pods[0..end)`, each found unchanged in `before`. */
function entriesBefore(pods: readonly PodModel[], end: number, before: AppPods | undefined): Map<string, PodEntry> {
  const m = new Map<string, PodEntry>();
  for (let j = 0; j < end; j++) {
    const name = pods[j].name;
    const e = before?.get(name);
    if (e !== undefined) m.set(name, e);
  }
  return m;
}

function buildPod(key: string, pod: PodModel, build: number): PodEntry | undefined {
  const cluster = buildPodCluster(key);
  const cla = buildPodLoadAssignment(key, pod);
  if (clusterErrors(cluster).length > 0 || clusterLoadAssignmentErrors(cla).length > 0) return undefined;
  return {
    host: pod.host,
    port: pod.port,
    cluster: { typeUrl: TYPE_URLS.cluster, name: key, encoded: Cluster.encode(cluster).finish(), pods: [key] },
    endpoints: { typeUrl: TYPE_URLS.endpoints, name: key, encoded: ClusterLoadAssignment.encode(cla).finish(), pods: [key] },
    seenIn: build,
  };
}

/** buildGatewayResources' order: push order (CDS, EDS, LDS, RDS), then name. */
function assemble(shared: readonly BuiltResource[], apps: ReadonlyMap<string, AppMemory>): BuiltResource[] {
  const entries = [...apps.values()].flatMap(({ pods }) => [...pods.values()]);
  const ofType = (typeUrl: string): BuiltResource[] => shared.filter((r) => r.typeUrl === typeUrl);
  const clusters = [...ofType(TYPE_URLS.cluster), ...entries.map((e) => e.cluster)].sort(byName);
  const endpoints = [...ofType(TYPE_URLS.endpoints), ...entries.map((e) => e.endpoints)].sort(byName);
  const rest = PUSH_ORDER.filter((t) => t !== TYPE_URLS.cluster && t !== TYPE_URLS.endpoints).flatMap((t) => ofType(t).sort(byName));
  return [...clusters, ...endpoints, ...rest];
}
