/**
 * Names of the xDS resources and routes: the builders (src/xds) give them,
 * Check names a pod's cluster in a header, and whatever reads the resources
 * back (tests, tools) recognises them. Pure strings.
 */
import { type AppKey, appKey } from "../config/app-spec.js";

/**
 * `<namespace>/<app>/`: how every one of the app's pod clusters begins, and no
 * other cluster. Namespace, app and pod names are DNS names (no "/"), so
 * another app's pod cluster never begins with it, and the shared clusters
 * (RESOURCE_NAMES) have no "/" at all.
 */
export function appClusterPrefix(key: AppKey): string {
  return `${key}/`;
}

/**
 * The app cluster prefix of a pod key (`<namespace>/<app>/<pod>` →
 * `<namespace>/<app>/`), or undefined for a name that is no pod's (a shared
 * cluster). The inverse of podClusterNameOf: pod names have no "/".
 */
export function appClusterPrefixOfPod(podKey: string): string | undefined {
  const cut = podKey.lastIndexOf("/");
  return cut <= 0 ? undefined : podKey.slice(0, cut + 1);
}

/** `<namespace>/<app>/<pod>` from the app's key: the pod's cluster and endpoints name, and its key everywhere in xDS. */
export function podClusterNameOf(key: AppKey, pod: string): string {
  return appClusterPrefix(key) + pod;
}

/** `<namespace>/<app>/<pod>`: the pod's cluster and endpoints name, and its key everywhere in xDS. */
export function podClusterName(namespace: string, app: string, pod: string): string {
  return podClusterNameOf(appKey(namespace, app), pod);
}

/** Name of an app's route to its pods (the cluster named by the request's cluster header). */
export function podsRouteName(namespace: string, app: string): string {
  return `${appKey(namespace, app)}:pods`;
}

/** Name of an app's fallback route, for requests without a valid cluster header. */
export function fallbackRouteName(namespace: string, app: string): string {
  return `${appKey(namespace, app)}:fallback`;
}

/** Fixed names of the shared resources. */
export const RESOURCE_NAMES = {
  listener: "ticketplane-http",
  routes: "ticketplane-routes",
  authzCluster: "ticketplane-authz",
  accessLogCluster: "ticketplane-als",
  resolverCluster: "ticketplane-resolver",
} as const;

/** What every route ticketplane owns in a VirtualService is named after (virtualServiceRouteName). */
export const ROUTE_NAME_PREFIX = "ticketplane-";

/** Name of the route (in the app's Istio VirtualService) whose destinations ticketplane flips for scale to zero. */
export function virtualServiceRouteName(app: string): string {
  return `${ROUTE_NAME_PREFIX}${app}`;
}
