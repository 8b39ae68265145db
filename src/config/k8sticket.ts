/**
 * A Deployment configured for k8sTicket, read exactly as k8sTicket documents
 * it (https://github.com/ipb-halle/k8sTicket#readme and the documentation it
 * links, docs/Documentation.md there), so an existing k8sTicket user migrates
 * by changing nothing:
 *
 * - label `k8sTicket: "true"` enables the app; any other value means the app
 *   accepts no new users (existing tickets are served until their users
 *   leave): the parse then returns `{ ok: true, value: null, reason: "disabled" }`
 *   with the app's key when it can be read. Without the label the Deployment
 *   is not k8sTicket's: `reason: "not-k8sticket"`.
 * - annotations `ipb-halle.de/k8sticket.deployment.{app,maxPods,maxTickets,port,Podcooldown,spareTickets}`
 *   (mixed casing exactly as documented; other keys under that prefix are errors);
 * - pod template label `ipb-halle.de/k8sticket.deployment.app` equal to the
 *   app annotation, and pod template annotations `ipb-halle.de/k8sTicket.port|path`.
 *
 * Defaults: k8sTicket's (maxPods 1, maxTickets 1, Podcooldown 10 s, pod port
 * 80, path "/", spareTickets 2 — the doc is silent on the last, k8sTicket's
 * code uses 2). minPods is the Deployment's `spec.replicas` (Kubernetes
 * default 1) capped at maxPods, since k8sTicket never removes the
 * Deployment's own pods.
 */
import type { AppKey, AppSpec, SpecError } from "./app-spec.js";
import { appKey } from "./app-spec.js";
import { readAppFields } from "./app-fields.js";
import { FieldReader, pathUnder } from "./field-reader.js";
import { checkDnsLabel } from "./names.js";
import { ErrorSink, isRecord, joinPath, specError, typeName } from "./spec-errors.js";
import { unknownFieldRule } from "./suggest.js";

export const K8STICKET_LABEL = "k8sTicket";
export const K8STICKET_DEPLOYMENT_PREFIX = "ipb-halle.de/k8sticket.deployment.";
export const K8STICKET_APP_KEY = "ipb-halle.de/k8sticket.deployment.app";
export const K8STICKET_POD_PORT = "ipb-halle.de/k8sTicket.port";
export const K8STICKET_POD_PATH = "ipb-halle.de/k8sTicket.path";
/** k8sTicket's spareTickets when the annotation is absent (from k8sTicket's controller; its doc is silent). */
export const K8STICKET_DEFAULT_SPARE_TICKETS = 2;

/** Deployment annotation suffix → field of the spec shape. */
const ANNOTATION_FIELDS: Readonly<Record<string, string>> = {
  app: "name",
  maxPods: "maxPods",
  maxTickets: "ticketsPerPod",
  port: "legacyProxyPort",
  Podcooldown: "podCooldown",
  spareTickets: "spareTickets",
};
export const K8STICKET_DEPLOYMENT_ANNOTATIONS: readonly string[] = Object.keys(ANNOTATION_FIELDS).map((k) => K8STICKET_DEPLOYMENT_PREFIX + k);
/** Pod-template annotations under this prefix that k8sTicket knows (case as documented). */
const POD_ANNOTATIONS = [K8STICKET_POD_PORT, K8STICKET_POD_PATH];
const POD_PREFIX = "ipb-halle.de/k8sticket.";

export type K8sTicketResult =
  | { readonly ok: true; readonly value: AppSpec }
  | { readonly ok: true; readonly value: null; readonly reason: "disabled"; readonly app?: AppKey }
  | { readonly ok: true; readonly value: null; readonly reason: "not-k8sticket" }
  | { readonly ok: false; readonly errors: readonly SpecError[] };

function annotationPath(base: string, key: string): string {
  return joinPath(joinPath(base, "annotations"), key);
}

export function parseK8sTicketDeployment(object: unknown): K8sTicketResult {
  if (!isRecord(object)) return { ok: false, errors: [specError("", object, `a Deployment must be a mapping, not ${typeName(object)}`)] };
  const sink = new ErrorSink();
  if (object.kind !== "Deployment") sink.add("kind", object.kind, 'must be "Deployment"');
  if (object.apiVersion !== "apps/v1") sink.add("apiVersion", object.apiVersion, 'must be "apps/v1"');
  const d = readDeployment(object, sink);
  const enabled = d.labels[K8STICKET_LABEL];
  if (enabled === undefined) return sink.ok ? { ok: true, value: null, reason: "not-k8sticket" } : { ok: false, errors: sink.errors };

  const { fields, fieldPaths } = gatherFields(d);
  const r = new FieldReader((field) => fieldPaths[field] ?? pathUnder("spec")(field), true, sink);
  checkUnknownKeys(d.annotations, K8STICKET_DEPLOYMENT_PREFIX, K8STICKET_DEPLOYMENT_ANNOTATIONS, "metadata", sink);
  checkUnknownKeys(d.podAnnotations, POD_PREFIX, POD_ANNOTATIONS, "spec.template.metadata", sink);
  if (d.metadata.name === undefined) sink.add("metadata.name", undefined, "is required");
  const app = fields.name;
  // A missing app annotation is reported by readAppFields ("is required").
  if (app !== undefined && d.podLabels[K8STICKET_APP_KEY] !== app) {
    sink.add(joinPath("spec.template.metadata.labels", K8STICKET_APP_KEY), d.podLabels[K8STICKET_APP_KEY], `must equal the Deployment annotation ${K8STICKET_APP_KEY} (${JSON.stringify(app)})`);
  }

  if (enabled !== "true") return disabled(app, d.metadata.namespace);

  const legacyProxyPort = r.int("legacyProxyPort", fields.legacyProxyPort, { min: 1, max: 65535 });
  const { legacyProxyPort: _legacy, ...specFields } = fields;
  const parsed = readAppFields(specFields, r, {
    source: "k8sTicket",
    checkUnknown: false,
    defaults: { spareTickets: K8STICKET_DEFAULT_SPARE_TICKETS, minPods: d.replicas },
  });
  if (!parsed.ok) return parsed;
  return { ok: true, value: legacyProxyPort === undefined ? parsed.value : { ...parsed.value, legacyProxyPort } };
}

/** Not accepting new users: field errors do not matter any more, only which app it is. */
function disabled(app: unknown, namespace: unknown): K8sTicketResult {
  const name = typeof app === "string" && checkDnsLabel(app) === undefined ? app : undefined;
  const ns = typeof namespace === "string" ? namespace : "default";
  return { ok: true, value: null, reason: "disabled", ...(name !== undefined ? { app: appKey(ns, name) } : {}) };
}

interface DeploymentView {
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly podAnnotations: Readonly<Record<string, string>>;
  /** spec.replicas, Kubernetes' default 1 when absent. */
  readonly replicas: number;
}

function readDeployment(object: Readonly<Record<string, unknown>>, sink: ErrorSink): DeploymentView {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const spec = isRecord(object.spec) ? object.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const templateMeta = isRecord(template.metadata) ? template.metadata : {};
  const replicas = typeof spec.replicas === "number" && Number.isInteger(spec.replicas) && spec.replicas >= 0 ? spec.replicas : 1;
  return {
    metadata,
    labels: stringMap("metadata.labels", metadata.labels, sink),
    annotations: stringMap("metadata.annotations", metadata.annotations, sink),
    podLabels: stringMap("spec.template.metadata.labels", templateMeta.labels, sink),
    podAnnotations: stringMap("spec.template.metadata.annotations", templateMeta.annotations, sink),
    replicas,
  };
}

/** The annotations in the spec shape, and each field's path in the Deployment. */
function gatherFields(d: DeploymentView): { fields: Record<string, unknown>; fieldPaths: Record<string, string> } {
  const fieldPaths: Record<string, string> = {
    deployment: "metadata.name",
    namespace: "metadata.namespace",
    port: annotationPath("spec.template.metadata", K8STICKET_POD_PORT),
    path: annotationPath("spec.template.metadata", K8STICKET_POD_PATH),
  };
  const fields: Record<string, unknown> = {
    deployment: d.metadata.name,
    namespace: d.metadata.namespace,
    port: d.podAnnotations[K8STICKET_POD_PORT],
    path: d.podAnnotations[K8STICKET_POD_PATH],
  };
  for (const [suffix, field] of Object.entries(ANNOTATION_FIELDS)) {
    fieldPaths[field] = annotationPath("metadata", K8STICKET_DEPLOYMENT_PREFIX + suffix);
    fields[field] = d.annotations[K8STICKET_DEPLOYMENT_PREFIX + suffix];
  }
  return { fields, fieldPaths };
}

/** Labels and annotations are string maps; anything else is reported and dropped. */
function stringMap(path: string, value: unknown, sink: ErrorSink): Readonly<Record<string, string>> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    sink.add(path, value, `must be a mapping of strings, not ${typeName(value)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === "string") out[key] = v;
    else sink.add(joinPath(path, key), v, `must be a string (quote it: "${String(v)}")`);
  }
  return out;
}

/** Keys under k8sTicket's prefixes (compared case-insensitively) that are not documented, e.g. a mistyped case. */
function checkUnknownKeys(map: Readonly<Record<string, string>>, prefix: string, known: readonly string[], base: string, sink: ErrorSink): void {
  for (const key of Object.keys(map)) {
    if (!key.toLowerCase().startsWith(prefix.toLowerCase()) || known.includes(key)) continue;
    sink.add(annotationPath(base, key), map[key], `unknown k8sTicket annotation${unknownFieldRule(key, known).slice("unknown field".length)}`);
  }
}
