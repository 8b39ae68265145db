/**
 * Names of the xDS resources and routes: the builders (src/xds) give them, and
 * whatever reads the resources back (tests, tools) recognises them. Pure strings.
 */

/** `<namespace>/<app>/<pod>`: the pod's cluster, endpoints and route name, and its key everywhere in xDS. */
export function podClusterName(namespace: string, app: string, pod: string): string {
  return `${namespace}/${app}/${pod}`;
}

/** Name of an app's fallback route (":" never occurs in a pod name, so it cannot clash with a pod key). */
export function fallbackRouteName(namespace: string, app: string): string {
  return `${namespace}/${app}:fallback`;
}

/** Fixed names of the shared resources. */
export const RESOURCE_NAMES = {
  listener: "ticketplane-http",
  routes: "ticketplane-routes",
  authzCluster: "ticketplane-authz",
  accessLogCluster: "ticketplane-als",
  resolverCluster: "ticketplane-resolver",
} as const;
