/** Small manifests the kube-api tests share. */
import type { KObject } from "./kinds.ts";

export const PODS = "/api/v1/namespaces/default/pods";
export const CONFIGMAPS = "/api/v1/namespaces/default/configmaps";
export const DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";
export const TICKETED_APPS = "/apis/ticketplane.dev/v1alpha1/namespaces/default/ticketedapps";

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
