/**
 * The kinds the test API server serves: one table entry each. Everything
 * else (paths, discovery, OpenAPI, lists, watches, subresources) is derived
 * from the entry, so adding a kind is adding a row to KINDS.
 */
import type { MergeKeys } from "./patch.ts";
import type { StatusCause } from "./status.ts";
import type { Column } from "./table.ts";

/** ObjectMeta's fields the server reads or sets; anything else passes through. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  managedFields?: unknown;
  [field: string]: unknown;
}

/** A Kubernetes object as JSON. */
export type KObject = Record<string, unknown> & { apiVersion?: string; kind?: string; metadata?: ObjectMeta };

export interface ScaleSpec {
  /** Dotted paths into the object, as a CRD's `scale` subresource names them (without the leading dot). */
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  /** A LabelSelector object (apps/v1) or an already formatted selector string (custom resources). */
  readonly labelSelectorPath: string;
}

export interface KindSpec {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** A `status` subresource: writes to the object ignore `status`, writes to `/status` change only `status`. */
  readonly status?: boolean;
  readonly scale?: ScaleSpec;
  /** `metadata.generation` starts at 1 and is bumped when anything but metadata and status changes. */
  readonly generation?: boolean;
  /** CRD-backed: list items keep kind/apiVersion, no strategic merge patch, an update must name a resourceVersion. */
  readonly custom?: boolean;
  /** Field selectors it accepts besides metadata.name and metadata.namespace (dotted paths). */
  readonly selectableFields?: readonly string[];
  /** How its lists merge under strategic merge patch and apply (see MergeKeys); ownerReferences and finalizers are added for every kind. */
  readonly mergeKeys?: MergeKeys;
  /** What the server sets on every write (defaults, Secret stringData → data); runs on a copy the store owns. */
  readonly normalize?: (obj: KObject) => void;
  /** `kubectl get` columns between Name and Age (server-side printing), as the real server prints this kind. */
  readonly columns?: readonly Column[];
  /** Rules the real API server enforces for this kind (422 Invalid); the store adds the metadata rules every kind shares. */
  readonly validate?: (obj: KObject) => StatusCause[];
}

export const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] as const;

function selectorMatchesTemplate(obj: KObject): StatusCause[] {
  const spec = (obj.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> }; replicas?: unknown; template?: { metadata?: { labels?: Record<string, string> } } };
  const causes: StatusCause[] = [];
  const matchLabels = spec.selector?.matchLabels;
  if (spec.selector === undefined) causes.push({ reason: "FieldValueRequired", field: "spec.selector", message: "Required value" });
  const labels = spec.template?.metadata?.labels ?? {};
  if (matchLabels !== undefined && Object.entries(matchLabels).some(([k, v]) => labels[k] !== v)) {
    causes.push({ reason: "FieldValueInvalid", field: "spec.template.metadata.labels", message: "Invalid value: `selector` does not match template `labels`" });
  }
  if (spec.replicas !== undefined && !(Number.isInteger(spec.replicas) && (spec.replicas as number) >= 0)) {
    causes.push({ reason: "FieldValueInvalid", field: "spec.replicas", message: "Invalid value: must be greater than or equal to 0" });
  }
  return causes;
}

/** The lists of a PodSpec that merge by key (the real types' patch strategies), under `prefix`. */
function podSpecLists(prefix: string): Record<string, string> {
  const out: Record<string, string> = { [`${prefix}volumes`]: "name", [`${prefix}imagePullSecrets`]: "name", [`${prefix}hostAliases`]: "ip" };
  for (const c of ["containers", "initContainers", "ephemeralContainers"]) {
    const p = `${prefix}${c}`;
    Object.assign(out, { [p]: "name", [`${p}[].ports`]: "containerPort", [`${p}[].env`]: "name", [`${p}[].volumeMounts`]: "mountPath", [`${p}[].volumeDevices`]: "devicePath" });
  }
  return out;
}

/** Every kind's metadata lists, as ObjectMeta declares them. */
export const METADATA_MERGE_KEYS: MergeKeys = { "metadata.finalizers": "", "metadata.ownerReferences": "uid" };

function defaultReplicas(obj: KObject): void {
  const spec = ((obj.spec ??= {}) as Record<string, unknown>);
  spec.replicas ??= 1;
}

function podDefaults(obj: KObject): void {
  const status = ((obj.status ??= {}) as Record<string, unknown>);
  status.phase ??= "Pending";
}

function namespaceDefaults(obj: KObject): void {
  const meta = (obj.metadata ??= {});
  meta.labels = { ...(meta.labels), "kubernetes.io/metadata.name": String(meta.name) };
  const status = ((obj.status ??= {}) as Record<string, unknown>);
  status.phase ??= "Active";
}

/** The API server turns `stringData` into base64 `data` on every write. */
function secretStringData(obj: KObject): void {
  const stringData = obj.stringData as Record<string, string> | undefined;
  if (stringData === undefined) return;
  const data = ((obj.data ??= {}) as Record<string, string>);
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, "utf8").toString("base64");
  delete obj.stringData;
  obj.type ??= "Opaque";
}

/**
 * The size rule of ConfigMaps and Secrets (the API server's
 * ValidateConfigMap/ValidateSecret): keys plus values (binaryData and Secret
 * data counted as decoded bytes) at most 1 MiB, else 422 "Too long".
 */
export const MAX_DATA_BYTES = 1024 * 1024;
function dataSize(encodedData: boolean) {
  return (obj: KObject): StatusCause[] => {
    let total = 0;
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) total += k.length + (encodedData ? Buffer.from(String(v), "base64").length : Buffer.byteLength(String(v)));
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) total += k.length + Buffer.from(String(v), "base64").length;
    return total > MAX_DATA_BYTES ? [{ reason: "FieldValueTooLong", field: "", message: `Too long: must have at most ${MAX_DATA_BYTES} bytes` }] : [];
  };
}

type Obj = Record<string, unknown>;
const num = (v: unknown) => (typeof v === "number" ? v : 0);
const at = (o: KObject, path: string) => getPath(o, path);
/** A cell's text: strings and numbers as they are, anything else the fallback. */
export const text = (v: unknown, fallback = ""): string => (typeof v === "string" || typeof v === "number" ? String(v) : fallback);

const POD_COLUMNS: readonly Column[] = [
  { name: "Ready", type: "string", value: (o) => `${((at(o, "status.containerStatuses") ?? []) as Obj[]).filter((c) => c.ready === true).length}/${((at(o, "spec.containers") ?? []) as Obj[]).length}` },
  { name: "Status", type: "string", value: (o) => (o.metadata?.deletionTimestamp !== undefined ? "Terminating" : text(at(o, "status.phase"), "Pending")) },
  { name: "Restarts", type: "integer", value: (o) => ((at(o, "status.containerStatuses") ?? []) as Obj[]).reduce((n, c) => n + num(c.restartCount), 0) },
  { name: "IP", type: "string", priority: 1, value: (o) => text(at(o, "status.podIP"), "<none>") },
  { name: "Node", type: "string", priority: 1, value: (o) => text(at(o, "spec.nodeName"), "<none>") },
];

const images = (o: KObject) => ((at(o, "spec.template.spec.containers") ?? []) as Obj[]);
const DEPLOYMENT_COLUMNS: readonly Column[] = [
  { name: "Ready", type: "string", value: (o) => `${num(at(o, "status.readyReplicas"))}/${num(at(o, "spec.replicas"))}` },
  { name: "Up-to-date", type: "integer", value: (o) => num(at(o, "status.updatedReplicas")) },
  { name: "Available", type: "integer", value: (o) => num(at(o, "status.availableReplicas")) },
  { name: "Containers", type: "string", priority: 1, value: (o) => images(o).map((c) => String(c.name)).join(",") },
  { name: "Images", type: "string", priority: 1, value: (o) => images(o).map((c) => String(c.image)).join(",") },
];

const REPLICASET_COLUMNS: readonly Column[] = [
  { name: "Desired", type: "integer", value: (o) => num(at(o, "spec.replicas")) },
  { name: "Current", type: "integer", value: (o) => num(at(o, "status.replicas")) },
  { name: "Ready", type: "integer", value: (o) => num(at(o, "status.readyReplicas")) },
];

/** An HPA (autoscaling/v2) must name its target and a maxReplicas of at least 1, as the real server's validation says. */
function hpaRules(obj: KObject): StatusCause[] {
  const spec = (obj.spec ?? {}) as { scaleTargetRef?: { kind?: unknown; name?: unknown }; maxReplicas?: unknown; minReplicas?: unknown };
  const causes: StatusCause[] = [];
  for (const f of ["kind", "name"] as const) {
    const v = spec.scaleTargetRef?.[f];
    if (typeof v !== "string" || v === "") causes.push({ reason: "FieldValueRequired", field: `spec.scaleTargetRef.${f}`, message: "Required value" });
  }
  if (!(Number.isInteger(spec.maxReplicas) && (spec.maxReplicas as number) >= 1)) causes.push({ reason: "FieldValueInvalid", field: "spec.maxReplicas", message: "Invalid value: must be greater than or equal to 1" });
  return causes;
}

const HPA_COLUMNS: readonly Column[] = [
  { name: "Reference", type: "string", value: (o) => `${text(at(o, "spec.scaleTargetRef.kind"))}/${text(at(o, "spec.scaleTargetRef.name"))}` },
  { name: "MinPods", type: "integer", value: (o) => num(at(o, "spec.minReplicas") ?? 1) },
  { name: "MaxPods", type: "integer", value: (o) => num(at(o, "spec.maxReplicas")) },
  { name: "Replicas", type: "integer", value: (o) => num(at(o, "status.currentReplicas")) },
];

/** KEDA's CRD's printer columns (the ones that do not need its status). */
const SCALED_OBJECT_COLUMNS: readonly Column[] = [
  { name: "ScaleTargetKind", type: "string", value: (o) => text(at(o, "spec.scaleTargetRef.kind"), "") },
  { name: "ScaleTargetName", type: "string", value: (o) => text(at(o, "spec.scaleTargetRef.name"), "") },
  { name: "Min", type: "integer", value: (o) => num(at(o, "spec.minReplicaCount")) },
  { name: "Max", type: "integer", value: (o) => num(at(o, "spec.maxReplicaCount")) },
];

const dataCount = (o: KObject) => Object.keys((o.data ?? {})).length + Object.keys((o.binaryData ?? {})).length;

const replicasScale: ScaleSpec = { specReplicasPath: "spec.replicas", statusReplicasPath: "status.replicas", labelSelectorPath: "spec.selector" };

/** `kubectl get virtualservices` as Istio's CRD prints them. */
const VIRTUAL_SERVICE_COLUMNS: readonly Column[] = [
  { name: "Gateways", type: "string", value: (o) => JSON.stringify(at(o, "spec.gateways") ?? []) },
  { name: "Hosts", type: "string", value: (o) => JSON.stringify(at(o, "spec.hosts") ?? []) },
];

export const KINDS: readonly KindSpec[] = [
  { group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true, shortNames: ["po"], categories: ["all"], status: true, selectableFields: ["spec.nodeName", "status.phase", "status.podIP"], mergeKeys: { ...podSpecLists("spec."), "status.conditions": "type", "status.podIPs": "ip" }, normalize: podDefaults, columns: POD_COLUMNS },
  { group: "", version: "v1", kind: "Service", plural: "services", singular: "service", namespaced: true, shortNames: ["svc"], categories: ["all"], status: true, mergeKeys: { "spec.ports": "port" }, columns: [
    { name: "Type", type: "string", value: (o) => text(at(o, "spec.type"), "ClusterIP") },
    { name: "Cluster-IP", type: "string", value: (o) => text(at(o, "spec.clusterIP"), "<none>") },
    { name: "Port(s)", type: "string", value: (o) => ((at(o, "spec.ports") ?? []) as Obj[]).map((p) => `${String(p.port)}/${text(p.protocol, "TCP")}`).join(",") || "<none>" },
  ] },
  { group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true, shortNames: ["ev"], selectableFields: ["involvedObject.kind", "involvedObject.name", "involvedObject.namespace", "involvedObject.uid", "reason", "type"] },
  { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", singular: "configmap", namespaced: true, shortNames: ["cm"], validate: dataSize(false), columns: [{ name: "Data", type: "integer", value: dataCount }] },
  { group: "", version: "v1", kind: "Secret", plural: "secrets", singular: "secret", namespaced: true, selectableFields: ["type"], normalize: secretStringData, validate: dataSize(true), columns: [{ name: "Type", type: "string", value: (o) => text(o.type, "Opaque") }, { name: "Data", type: "integer", value: dataCount }] },
  { group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace", namespaced: false, shortNames: ["ns"], status: true, selectableFields: ["status.phase"], mergeKeys: { "status.conditions": "type" }, normalize: namespaceDefaults, columns: [{ name: "Status", type: "string", value: (o) => text(at(o, "status.phase"), "") }] },
  { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", singular: "deployment", namespaced: true, shortNames: ["deploy"], categories: ["all"], status: true, scale: replicasScale, generation: true, mergeKeys: { ...podSpecLists("spec.template.spec."), "status.conditions": "type" }, normalize: defaultReplicas, validate: selectorMatchesTemplate, columns: DEPLOYMENT_COLUMNS },
  { group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", singular: "replicaset", namespaced: true, shortNames: ["rs"], categories: ["all"], status: true, scale: replicasScale, generation: true, mergeKeys: { ...podSpecLists("spec.template.spec."), "status.conditions": "type" }, normalize: defaultReplicas, validate: selectorMatchesTemplate, columns: REPLICASET_COLUMNS },
  { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", singular: "lease", namespaced: true, columns: [{ name: "Holder", type: "string", value: (o) => text(at(o, "spec.holderIdentity"), "") }] },
  { group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true, shortNames: ["ev"], selectableFields: ["regarding.kind", "regarding.name", "regarding.namespace", "reason", "type"] },
  { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", singular: "horizontalpodautoscaler", namespaced: true, shortNames: ["hpa"], categories: ["all"], status: true, mergeKeys: { "status.conditions": "type" }, validate: hpaRules, columns: HPA_COLUMNS },
  // KEDA's custom resource; a test that needs a cluster without KEDA serves KINDS without it (`kinds` option).
  { group: "keda.sh", version: "v1alpha1", kind: "ScaledObject", plural: "scaledobjects", singular: "scaledobject", namespaced: true, shortNames: ["so"], categories: ["keda"], status: true, generation: true, custom: true, columns: SCALED_OBJECT_COLUMNS },
  // Istio's VirtualService (CRD-backed), whose ticketplane route the reconciler flips for scale to zero.
  { group: "networking.istio.io", version: "v1", kind: "VirtualService", plural: "virtualservices", singular: "virtualservice", namespaced: true, shortNames: ["vs"], categories: ["istio-io", "networking-istio-io"], status: true, generation: true, custom: true, columns: VIRTUAL_SERVICE_COLUMNS },
  { group: "ticketplane.dev", version: "v1alpha1", kind: "TicketedApp", plural: "ticketedapps", singular: "ticketedapp", namespaced: true, shortNames: ["tapp"], categories: ["ticketplane"], status: true, generation: true, custom: true },
];

export function apiVersionOf(k: Pick<KindSpec, "group" | "version">): string {
  return k.group === "" ? k.version : `${k.group}/${k.version}`;
}

/** The group versions served, in discovery order (core first, then as the table lists them). */
export function groupVersions(kinds: readonly KindSpec[]): { group: string; version: string; kinds: KindSpec[] }[] {
  const out: { group: string; version: string; kinds: KindSpec[] }[] = [];
  for (const k of kinds) {
    let gv = out.find((g) => g.group === k.group && g.version === k.version);
    if (gv === undefined) out.push((gv = { group: k.group, version: k.version, kinds: [] }));
    gv.kinds.push(k);
  }
  return out;
}

export function findKind(kinds: readonly KindSpec[], group: string, version: string, plural: string): KindSpec | undefined {
  return kinds.find((k) => k.group === group && k.version === version && k.plural === plural);
}

/** Reads a dotted path (`spec.template.metadata.labels`). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Writes a dotted path, creating the maps on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== "object" || Array.isArray(next)) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1] ?? ""] = value;
}
