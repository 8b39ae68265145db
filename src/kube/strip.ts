/**
 * What the cache keeps of each object: only the fields Kubernetes mode reads,
 * copied out of the API object so the rest (managedFields, most of spec,
 * status history) can be collected. A stripped object is frozen and
 * compared by value (`sameStripped`), so an update that changes nothing we
 * read (a Deployment's status counts, a pod's container statuses) is no
 * change at all.
 *
 * The input is untrusted JSON from a list or a watch (string timestamps) or
 * a client-node model (Date timestamps): every reader checks types and
 * returns undefined for an object it cannot use (no name).
 */
import { DRAINING_ANNOTATION } from "../config/pod-annotations.js";
import { isRecord } from "../config/spec-errors.js";

/** The annotation Kubernetes reads to pick which pod a ReplicaSet removes first. */
export const POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

type Labels = Readonly<Record<string, string>>;

/** The owner that controls an object (a Pod's ReplicaSet, a ReplicaSet's Deployment). */
export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

export interface CachedPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Labels;
  /** `controller.kubernetes.io/pod-deletion-cost`, when set (the reconciler reads and writes it). */
  readonly deletionCost?: string;
  /** `ticketplane.dev/draining`, when set: the pod takes no new tickets (the reconciler or a preStop hook marked it). */
  readonly drainMark?: string;
  readonly owner?: OwnerRef;
  /** Being deleted (deletionTimestamp set): terminating. */
  readonly terminating: boolean;
  readonly podIP?: string;
  /** status.phase: Pending, Running, Succeeded, Failed, Unknown. */
  readonly phase: string;
  /** The Ready condition is True. */
  readonly ready: boolean;
  readonly resourceVersion: string;
}

/** A label selector as Kubernetes writes it (matchLabels and matchExpressions). */
export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly { readonly key: string; readonly operator: string; readonly values: readonly string[] }[];
}

export interface CachedDeployment {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly replicas?: number;
  readonly selector?: LabelSelector;
  /** The pod template's labels and annotations (k8sTicket reads its port and path there). */
  readonly template: { readonly labels: Labels; readonly annotations: Labels };
  readonly resourceVersion: string;
}

/** A TicketedApp as parseTicketedApp reads it: apiVersion, kind, name and namespace, and the whole spec. */
export interface CachedTicketedApp {
  readonly apiVersion: unknown;
  readonly kind: unknown;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string; readonly generation?: number; readonly resourceVersion: string };
  readonly spec: unknown;
}

interface Meta {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

function meta(object: unknown): Meta | undefined {
  if (!isRecord(object) || !isRecord(object.metadata)) return undefined;
  const m = object.metadata;
  if (typeof m.name !== "string" || m.name === "") return undefined;
  return { namespace: str(m.namespace) ?? "default", name: m.name, uid: str(m.uid) ?? "", resourceVersion: str(m.resourceVersion) ?? "", raw: m };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A string map copied (labels, annotations); anything not a string is dropped. */
function strings(value: unknown, keep?: (key: string) => boolean): Labels {
  if (!isRecord(value)) return EMPTY;
  const out: Record<string, string> = {};
  let any = false;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string" && (keep === undefined || keep(k))) {
      out[k] = v;
      any = true;
    }
  }
  return any ? Object.freeze(out) : EMPTY;
}

const EMPTY: Labels = Object.freeze({});

function controllerOf(m: Readonly<Record<string, unknown>>): OwnerRef | undefined {
  const refs = Array.isArray(m.ownerReferences) ? (m.ownerReferences as unknown[]) : [];
  const ref = refs.find((r) => isRecord(r) && r.controller === true);
  if (!isRecord(ref) || typeof ref.kind !== "string" || typeof ref.name !== "string") return undefined;
  return Object.freeze({ kind: ref.kind, name: ref.name, uid: str(ref.uid) ?? "" });
}

export function stripPod(object: unknown): CachedPod | undefined {
  const m = meta(object);
  if (m === undefined) return undefined;
  const status = isRecord((object as { status?: unknown }).status) ? ((object as { status: Record<string, unknown> }).status) : {};
  const conditions = Array.isArray(status.conditions) ? (status.conditions as unknown[]) : [];
  const ready = conditions.some((c) => isRecord(c) && c.type === "Ready" && c.status === "True");
  const cost = isRecord(m.raw.annotations) ? str(m.raw.annotations[POD_DELETION_COST]) : undefined;
  const drainMark = isRecord(m.raw.annotations) ? str(m.raw.annotations[DRAINING_ANNOTATION]) : undefined;
  const owner = controllerOf(m.raw);
  const podIP = str(status.podIP);
  return Object.freeze({
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    labels: strings(m.raw.labels),
    ...(cost === undefined ? {} : { deletionCost: cost }),
    ...(drainMark === undefined ? {} : { drainMark }),
    ...(owner === undefined ? {} : { owner }),
    terminating: m.raw.deletionTimestamp !== undefined && m.raw.deletionTimestamp !== null,
    ...(podIP === undefined || podIP === "" ? {} : { podIP }),
    phase: str(status.phase) ?? "Pending",
    ready,
    resourceVersion: m.resourceVersion,
  });
}

function selectorOf(value: unknown): LabelSelector | undefined {
  if (!isRecord(value)) return undefined;
  const expressions = Array.isArray(value.matchExpressions) ? (value.matchExpressions as unknown[]) : [];
  return Object.freeze({
    matchLabels: strings(value.matchLabels),
    matchExpressions: Object.freeze(
      expressions.filter(isRecord).map((e) => Object.freeze({ key: str(e.key) ?? "", operator: str(e.operator) ?? "", values: Object.freeze(Array.isArray(e.values) ? e.values.filter((v): v is string => typeof v === "string") : []) })),
    ),
  });
}

/** Deployment annotations we read: k8sTicket's (any casing, so a misspelt one is still reported) and ours. */
const keepAnnotation = (key: string): boolean => key.toLowerCase().startsWith("ipb-halle.de/") || key.startsWith("ticketplane.dev/");

export function stripDeployment(object: unknown): CachedDeployment | undefined {
  const m = meta(object);
  if (m === undefined) return undefined;
  const spec = isRecord((object as { spec?: unknown }).spec) ? (object as { spec: Record<string, unknown> }).spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const templateMeta = isRecord(template.metadata) ? template.metadata : {};
  const selector = selectorOf(spec.selector);
  return Object.freeze({
    namespace: m.namespace,
    name: m.name,
    uid: m.uid,
    labels: strings(m.raw.labels),
    annotations: strings(m.raw.annotations, keepAnnotation),
    ...(typeof spec.replicas === "number" ? { replicas: spec.replicas } : {}),
    ...(selector === undefined ? {} : { selector }),
    template: Object.freeze({ labels: strings(templateMeta.labels), annotations: strings(templateMeta.annotations, keepAnnotation) }),
    resourceVersion: m.resourceVersion,
  });
}

export function stripTicketedApp(object: unknown): CachedTicketedApp | undefined {
  const m = meta(object);
  if (m === undefined) return undefined;
  const o = object as Record<string, unknown>;
  const generation = typeof m.raw.generation === "number" ? m.raw.generation : undefined;
  return Object.freeze({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: Object.freeze({ name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, ...(generation === undefined ? {} : { generation }) }),
    // The spec is small and read whole by parseTicketedApp (unknown fields are errors it reports).
    spec: o.spec,
  });
}

/**
 * Whether two stripped objects say the same, ignoring resourceVersion (which
 * changes on every write, including writes to fields we dropped).
 */
export function sameStripped(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === "resourceVersion" ? undefined : v));
}
