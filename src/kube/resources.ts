/**
 * The collections Kubernetes mode watches, each as a ResourceSource over
 * client-node's generated clients: Pods, Deployments and TicketedApps, in
 * one namespace or in all of them.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { TICKETED_APP_API_VERSION } from "../config/ticketed-app.js";
import type { ListPage, ResourceSource } from "./informer.js";

const [TP_GROUP = "", TP_VERSION = ""] = TICKETED_APP_API_VERSION.split("/");

/** The generated clients the sources use (one set per connection). */
export interface KubeApis {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
}

export function kubeApis(kubeConfig: KubeConfig): KubeApis {
  return { core: kubeConfig.makeApiClient(CoreV1Api), apps: kubeConfig.makeApiClient(AppsV1Api), custom: kubeConfig.makeApiClient(CustomObjectsApi) };
}

/** `undefined`: every namespace. */
export type Scope = string | undefined;

/** "in every namespace" / "in namespace X", for a source's description. */
export function where(namespace: Scope): string {
  return namespace === undefined ? "in every namespace" : `in namespace ${namespace}`;
}

/** A list response as client-node returns it, as far as paging reads it. */
export interface RawList {
  readonly items?: readonly unknown[];
  readonly metadata?: { readonly resourceVersion?: string; readonly _continue?: string; readonly continue?: string };
}

/** One page of a list: its items, resourceVersion and continue token. */
export function page(list: RawList): ListPage {
  const next = list.metadata?._continue ?? list.metadata?.continue;
  return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? "", ...(next === undefined || next === "" ? {} : { continue: next }) };
}

export function podsIn(apis: KubeApis, namespace: Scope): ResourceSource {
  return {
    description: `pods ${where(namespace)}`,
    path: namespace === undefined ? "/api/v1/pods" : `/api/v1/namespaces/${namespace}/pods`,
    async list(p) {
      const params = { limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) };
      return page(namespace === undefined ? await apis.core.listPodForAllNamespaces(params) : await apis.core.listNamespacedPod({ namespace, ...params }));
    },
  };
}

export function deploymentsIn(apis: KubeApis, namespace: Scope): ResourceSource {
  return {
    description: `Deployments ${where(namespace)}`,
    path: namespace === undefined ? "/apis/apps/v1/deployments" : `/apis/apps/v1/namespaces/${namespace}/deployments`,
    async list(p) {
      const params = { limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) };
      return page(namespace === undefined ? await apis.apps.listDeploymentForAllNamespaces(params) : await apis.apps.listNamespacedDeployment({ namespace, ...params }));
    },
  };
}

export function ticketedAppsIn(apis: KubeApis, namespace: Scope): ResourceSource {
  return {
    description: `TicketedApps ${where(namespace)}`,
    path: namespace === undefined ? `/apis/${TP_GROUP}/${TP_VERSION}/ticketedapps` : `/apis/${TP_GROUP}/${TP_VERSION}/namespaces/${namespace}/ticketedapps`,
    async list(p) {
      const params = { group: TP_GROUP, version: TP_VERSION, plural: "ticketedapps", limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) };
      const list: unknown = namespace === undefined ? await apis.custom.listClusterCustomObject(params) : await apis.custom.listNamespacedCustomObject({ ...params, namespace });
      return page(list as RawList);
    },
  };
}

/** The ledger ConfigMaps in the control plane's namespace (label `ticketplane.dev/ledger=v1`), for the followers' mirror. */
export function ledgerObjectsIn(apis: KubeApis, namespace: string, labelSelector: string): ResourceSource {
  return {
    description: `ledger ConfigMaps in namespace ${namespace}`,
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    selectors: { labelSelector },
    async list(p) {
      return page(await apis.core.listNamespacedConfigMap({ namespace, labelSelector, limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) }));
    },
  };
}
