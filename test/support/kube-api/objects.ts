/** Small manifests the kube-api tests share. */
import type { KObject } from "./kinds.ts";
import type { ObjectStore } from "./store.ts";

export const PODS = "/api/v1/namespaces/default/pods";
export const CONFIGMAPS = "/api/v1/namespaces/default/configmaps";
export const DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";
export const TICKETED_APPS = "/apis/ticketplane.dev/v1alpha1/namespaces/default/ticketedapps";
export const HPAS = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
export const SCALED_OBJECTS = "/apis/keda.sh/v1alpha1/namespaces/default/scaledobjects";

export function pod(name: string, labels: Record<string, string> = {}): KObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { containers: [{ name: "app", image: "busybox" }] } };
}

export function configMap(name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): KObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data };
}

export function deployment(name: string, replicas: number, image = "nginx:1"): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image, ports: [{ containerPort: 8080 }] }] } },
    },
  };
}

export function ticketedApp(name: string, spec: Record<string, unknown> = { pathPrefix: `/${name}/`, ticketsPerPod: 1 }): KObject {
  return { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name }, spec };
}

/** An autoscaling/v2 HPA on a Deployment (CPU target; no controller acts on it here). */
export function hpa(name: string, deploymentName: string, maxReplicas = 10): KObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName }, minReplicas: 1, maxReplicas, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }] },
  };
}

/** A KEDA ScaledObject on a Deployment (the kind left out: KEDA's default), with ticketplane's external scaler as trigger. */
export function scaledObject(name: string, deploymentName: string): KObject {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name },
    spec: { scaleTargetRef: { name: deploymentName }, minReplicaCount: 0, maxReplicaCount: 10, triggers: [{ type: "external", metadata: { scalerAddress: "ticketplane.ticketplane:9443", app: `default/${deploymentName}` } }] },
  };
}

/**
 * Stores what a whole-process test starts from: the control plane's
 * namespace `ticketplane-system`, `namespace`, a Deployment `name` (image
 * `example/<name>:1`) of `replicas`, and a TicketedApp `name` on it with
 * `spec` (its `deployment` set to `name`).
 */
export function seedTicketedApp(store: ObjectStore, o: { readonly namespace: string; readonly name: string; readonly replicas: number; readonly spec: Record<string, unknown> }): void {
  const create = (apiVersion: string, kind: string, namespace: string, object: KObject): void => {
    const k = store.kindFor(apiVersion, kind);
    if (k === undefined) throw new Error(`the store serves no ${kind}`);
    store.create(k, namespace, object);
  };
  for (const name of ["ticketplane-system", o.namespace]) create("v1", "Namespace", "", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  create("apps/v1", "Deployment", o.namespace, deployment(o.name, o.replicas, `example/${o.name}:1`));
  create("ticketplane.dev/v1alpha1", "TicketedApp", o.namespace, ticketedApp(o.name, { deployment: o.name, ...o.spec }));
}
