/**
 * Which apps the cluster defines: TicketedApps, and Deployments labelled
 * `k8sTicket` (read as k8sTicket documents them). Pure: cached objects in,
 * apps and the problems of the invalid ones out.
 *
 * - A TicketedApp must name its Deployment in Kubernetes mode.
 * - A k8sTicket Deployment whose label is anything but "true" is **disabled**:
 *   it keeps serving the tickets it has and takes no new users (its pods
 *   drain and its waiting line is closed: newcomers are refused, not
 *   queued). Its spec is read as if the label were "true", so the app is
 *   known even when the process started after the label changed.
 * - When a TicketedApp and a k8sTicket Deployment define the same app
 *   (namespace/name), the TicketedApp wins and the Deployment is reported.
 */
import { appKey } from "../config/app-spec.js";
import type { AppKey, AppSpec, SpecError } from "../config/app-spec.js";
import { K8STICKET_APP_KEY, K8STICKET_LABEL, parseK8sTicketDeployment } from "../config/k8sticket.js";
import { joinPath } from "../config/spec-errors.js";
import { parseTicketedApp } from "../config/ticketed-app.js";
import type { CachedDeployment, CachedTicketedApp } from "./strip.js";

/** An app the cluster defines, with where its pods come from. */
export interface ClusterApp {
  readonly key: AppKey;
  readonly spec: AppSpec;
  /** The Deployment whose pods serve it (same namespace). */
  readonly deployment: string;
  /** The canary Deployment, if any. */
  readonly canaryDeployment?: string;
  /** Takes no new users; existing tickets are served until they end (k8sTicket label not "true"). */
  readonly disabled: boolean;
  /** The object that defines it, for status and Events. */
  readonly definedBy: ObjectRef;
}

export interface ObjectRef {
  readonly kind: "TicketedApp" | "Deployment";
  readonly namespace: string;
  readonly name: string;
  /** The object's uid, when the API server gave one (Events name it). */
  readonly uid?: string;
  /** A TicketedApp's metadata.generation (its status reports it as observedGeneration). */
  readonly generation?: number;
}

/** An object that would define an app but cannot: every error names its field. */
export interface InvalidApp {
  readonly object: ObjectRef;
  readonly errors: readonly SpecError[];
}

export interface ClusterApps {
  readonly apps: ReadonlyMap<AppKey, ClusterApp>;
  readonly invalid: readonly InvalidApp[];
}

export function readClusterApps(ticketedApps: Iterable<CachedTicketedApp>, deployments: Iterable<CachedDeployment>): ClusterApps {
  const apps = new Map<AppKey, ClusterApp>();
  const invalid: InvalidApp[] = [];
  for (const t of ticketedApps) {
    const object: ObjectRef = { kind: "TicketedApp", namespace: t.metadata.namespace, name: t.metadata.name, ...(t.metadata.uid === "" ? {} : { uid: t.metadata.uid }), ...(t.metadata.generation === undefined ? {} : { generation: t.metadata.generation }) };
    const parsed = parseTicketedApp({ apiVersion: t.apiVersion, kind: t.kind, metadata: { name: t.metadata.name, namespace: t.metadata.namespace }, spec: t.spec });
    if (!parsed.ok) {
      invalid.push({ object, errors: parsed.errors });
      continue;
    }
    const spec = parsed.value;
    if (spec.deployment === undefined) {
      invalid.push({ object, errors: [{ path: "spec.deployment", value: undefined, rule: "is required in Kubernetes mode: the Deployment whose pods serve the app" }] });
      continue;
    }
    apps.set(appKey(spec.namespace, spec.name), { key: appKey(spec.namespace, spec.name), spec, deployment: spec.deployment, ...(spec.canary === undefined ? {} : { canaryDeployment: spec.canary.deployment }), disabled: false, definedBy: object });
  }
  for (const d of deployments) {
    const found = readK8sTicketApp(d);
    if (found === undefined) continue;
    if ("errors" in found) {
      invalid.push(found);
      continue;
    }
    const other = apps.get(found.key);
    if (other !== undefined) {
      invalid.push({ object: found.definedBy, errors: [{ path: joinPath("metadata.annotations", K8STICKET_APP_KEY), value: found.spec.name, rule: `names the app ${found.key}, which ${other.definedBy.kind} ${other.definedBy.name} already defines` }] });
      continue;
    }
    apps.set(found.key, found);
  }
  return { apps, invalid };
}

/** A Deployment as k8sTicket reads it: not one (undefined), an app (perhaps disabled), or invalid. */
function readK8sTicketApp(d: CachedDeployment): ClusterApp | InvalidApp | undefined {
  const label = d.labels[K8STICKET_LABEL];
  if (label === undefined) return undefined;
  const object: ObjectRef = { kind: "Deployment", namespace: d.namespace, name: d.name, ...(d.uid === "" ? {} : { uid: d.uid }) };
  // Disabled: read the spec as if enabled, so existing tickets keep their app.
  const parsed = parseK8sTicketDeployment(asManifest(d, label === "true" ? d.labels : { ...d.labels, [K8STICKET_LABEL]: "true" }));
  if (!parsed.ok) return label === "true" ? { object, errors: parsed.errors } : undefined;
  if (parsed.value === null) return undefined;
  const disabled = label !== "true";
  // Accepting no new users: no waiting line either (a queue for an app that is off would never move).
  const spec = disabled ? { ...parsed.value, queue: { ...parsed.value.queue, maxLength: 0 } } : parsed.value;
  return { key: appKey(spec.namespace, spec.name), spec, deployment: d.name, disabled, definedBy: object };
}

function asManifest(d: CachedDeployment, labels: Readonly<Record<string, string>>): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: d.name, namespace: d.namespace, labels, annotations: d.annotations },
    spec: { ...(d.replicas === undefined ? {} : { replicas: d.replicas }), template: { metadata: { labels: d.template.labels, annotations: d.template.annotations } } },
  };
}
