/**
 * RouteConfiguration (RDS) `ticketplane-routes`: per app two routes, neither
 * naming a pod, so a pod that comes or goes changes only its own Cluster and
 * ClusterLoadAssignment, never this resource:
 *
 *  1. `<ns>/<app>:pods`: the app's prefix, and `x-ticketplane-cluster`
 *     starting with `<ns>/<app>/` (one of this app's clusters: no other
 *     app's, no shared one); goes to the cluster that header names
 *     (`cluster_header`, read when the route is picked). Check sets the
 *     header on every request it allows, replacing the client's, and the
 *     listener's ext_authz filter clears the route cache, so the route is
 *     picked again with Check's header. A cluster the gateway does not have
 *     (yet) answers 503 (cluster_not_found_response_code's default); make
 *     before use keeps tickets off pods whose cluster a gateway has not
 *     ACKed.
 *  2. `<ns>/<app>:fallback`: the app's prefix without a valid header: a 503
 *     "no valid ticket", or the resolver for an app in proxy mode. That
 *     route turns ext_authz off (ExtAuthzPerRoute `disabled`): the resolver
 *     makes Check's decision itself once the app has a pod, and Check at the
 *     gateway would only put the user in a waiting room for a pod that the
 *     resolver is already bringing. The setting is wrapped in an optional
 *     FilterConfig: a client without ext_authz (gRPC) ignores it.
 *
 * Virtual hosts and the order of apps come from the group's RouteTable
 * (src/routing), the same table Check matches with, so the two cannot
 * disagree about a request's app.
 */
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { FilterConfig, type HeaderMatcher, Route, VirtualHost } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { appKey } from "../../config/app-spec.js";
import { ANY_HOST, appClusterPrefix, type AppRoute, fallbackRouteName, podsRouteName, RESOURCE_NAMES, RouteTable, ROUTING_HEADERS } from "../../routing/index.js";
import { ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { checkUniqueNames, duration, packAny } from "./envoy-values.js";
import type { AppModel, GatewayModel } from "./model.js";
import { EXTENSION_NAMES, EXTENSION_TYPE_URLS, TYPE_URLS } from "./type-urls.js";

export const ROUTE_CONFIGURATION_TYPE_URL = TYPE_URLS.routes;

/** Body of the 503 a request without a valid cluster header gets when no resolver can take it. */
export const NO_TICKET_BODY = "ticketplane: no valid ticket for this app\n";

// Long-lived connections: no route timeout (an explicit 0s), WebSocket upgrades allowed.
function longLived(): { timeout: ReturnType<typeof duration>; upgradeConfigs: { upgradeType: string; enabled: boolean }[] } {
  return { timeout: duration(0), upgradeConfigs: [{ upgradeType: "websocket", enabled: true }] };
}

/** The app's route to its pods: only when the cluster header names one of this app's clusters, then to that cluster. */
function podsRoute(app: AppModel): Route {
  const clusterPrefix = appClusterPrefix(appKey(app.namespace, app.name));
  return Route.fromPartial({
    name: podsRouteName(app.namespace, app.name),
    match: { prefix: app.pathPrefix, headers: [{ name: ROUTING_HEADERS.cluster, stringMatch: { prefix: clusterPrefix } }] },
    route: { ...longLived(), clusterHeader: ROUTING_HEADERS.cluster, prefixRewrite: app.podPath },
  });
}

function fallbackRoute(app: AppModel, model: GatewayModel): Route {
  const name = fallbackRouteName(app.namespace, app.name);
  const match = { prefix: app.pathPrefix };
  if (app.mode === "proxy" && model.resolver !== undefined) {
    const perRoute = packAny(EXTENSION_TYPE_URLS.extAuthzPerRoute, ExtAuthzPerRoute.encode(ExtAuthzPerRoute.fromPartial({ disabled: true })).finish());
    const noCheck = packAny(EXTENSION_TYPE_URLS.filterConfig, FilterConfig.encode(FilterConfig.fromPartial({ config: perRoute, isOptional: true })).finish());
    return Route.fromPartial({ name, match, route: { ...longLived(), cluster: RESOURCE_NAMES.resolverCluster }, typedPerFilterConfig: { [EXTENSION_NAMES.extAuthz]: noCheck } });
  }
  // Check never lets a request without a ticket through in serve mode; if one
  // slips by (or a proxy-mode app has no resolver) it must not reach a pod.
  return Route.fromPartial({ name, match, directResponse: { status: 503, body: { inlineString: NO_TICKET_BODY } } });
}

function appRoutes(app: AppModel, model: GatewayModel): Route[] {
  return [podsRoute(app), fallbackRoute(app, model)];
}

/** The group's apps as the RouteTable sees them, each carrying its model. */
interface ModelRoute extends AppRoute {
  readonly app: AppModel;
}

/** The route table of a model's apps: the one Check builds from the same apps. */
function routeTableOf(model: GatewayModel): RouteTable<ModelRoute> {
  return new RouteTable(model.apps.map((app) => ({ key: appKey(app.namespace, app.name), host: app.host, pathPrefix: app.pathPrefix, app })));
}

/** One virtual host per RouteTable domain ("*" for apps without a host), in its order; each app's routes in the table's app order. */
export function buildRouteConfiguration(model: GatewayModel): RouteConfiguration {
  const virtualHosts = routeTableOf(model).virtualHosts.map((vh) =>
    VirtualHost.fromPartial({
      name: vh.domain === ANY_HOST ? "any-host" : vh.domain,
      domains: [vh.domain],
      routes: vh.routes.flatMap((r) => appRoutes(r.app, model)),
    }),
  );
  // Hosts arrive as "name:port" too; match them on the name alone (RouteTable strips the port the same way).
  return RouteConfiguration.fromPartial({ name: RESOURCE_NAMES.routes, virtualHosts, ignorePortInHostMatching: true });
}

/** The shared clusters: a cluster header must never be able to name one. */
const SHARED_CLUSTERS: readonly string[] = [RESOURCE_NAMES.authzCluster, RESOURCE_NAMES.accessLogCluster, RESOURCE_NAMES.resolverCluster];

function headerMatcherErrors(h: HeaderMatcher, path: string): string[] {
  const errors: string[] = [];
  if (h.name === "") errors.push(`${path}.name: must not be empty`);
  const values = [h.stringMatch?.exact, h.stringMatch?.prefix].filter((v) => v !== undefined);
  if (values.length !== 1 || values[0] === "") errors.push(`${path}.string_match: needs one non-empty exact or prefix`);
  return errors;
}

/**
 * A cluster_header route must only match when its header names clusters of
 * one app: a string_match.prefix on that header ending in "/" (pod clusters
 * are `<ns>/<app>/<pod>`), which no shared cluster starts with.
 */
function clusterHeaderErrors(route: Route, header: string, path: string): string[] {
  const prefixes = (route.match?.headers ?? []).filter((h) => h.name === header).map((h) => h.stringMatch?.prefix);
  const safe = prefixes.some((p) => p !== undefined && p.endsWith("/") && p !== "/" && !SHARED_CLUSTERS.some((c) => c.startsWith(p)));
  return safe ? [] : [`${path}.route.cluster_header: the route must match "${header}" with a string_match.prefix ending in "/" that no shared cluster starts with`];
}

function routeActionErrors(route: Route, clusters: ReadonlySet<string>, path: string): string[] {
  const action = route.route;
  if (action === undefined) return [];
  const { cluster, clusterHeader } = action;
  if ((cluster === undefined) === (clusterHeader === undefined)) return [`${path}.route: needs exactly one of cluster, cluster_header`];
  if (clusterHeader !== undefined) return clusterHeader === "" ? [`${path}.route.cluster_header: must not be empty`] : clusterHeaderErrors(route, clusterHeader, path);
  if (cluster === undefined || cluster === "") return [`${path}.route.cluster: required`];
  return clusters.has(cluster) ? [] : [`${path}.route.cluster: "${cluster}" is not a cluster in the set`];
}

function routeErrors(route: Route, clusters: ReadonlySet<string>, path: string): string[] {
  const errors: string[] = [];
  if (route.name === "") errors.push(`${path}.name: must not be empty`);
  const prefix = route.match?.prefix;
  if (prefix === undefined) errors.push(`${path}.match.prefix: required`);
  else if (!prefix.startsWith("/")) errors.push(`${path}.match.prefix: "${prefix}" must start with "/"`);
  route.match?.headers.forEach((h, i) => errors.push(...headerMatcherErrors(h, `${path}.match.headers[${i}]`)));
  const actions = [route.route, route.directResponse, route.redirect].filter((a) => a !== undefined).length;
  if (actions !== 1) errors.push(`${path}: needs exactly one of route, direct_response (has ${actions})`);
  errors.push(...routeActionErrors(route, clusters, path));
  const status = route.directResponse?.status;
  if (status !== undefined && (status < 200 || status > 599)) errors.push(`${path}.direct_response.status: ${status} is not in 200..599`);
  return errors;
}

/**
 * Errors (path-prefixed) in a RouteConfiguration our builders must never
 * produce, given the names of the clusters sent alongside it.
 */
export function routeConfigurationErrors(rc: RouteConfiguration, clusters: ReadonlySet<string>, path = "routes"): string[] {
  const errors: string[] = [];
  if (rc.name === "") errors.push(`${path}.name: must not be empty`);
  errors.push(...checkUniqueNames(rc.virtualHosts.map((v) => v.name), (i) => `${path}.virtual_hosts[${i}].name`, "virtual host"));
  errors.push(...checkUniqueNames(rc.virtualHosts.flatMap((v) => v.domains), () => `${path}.virtual_hosts`, "domain"));
  rc.virtualHosts.forEach((vh, vi) => {
    const vpath = `${path}.virtual_hosts[${vi}]`;
    if (vh.name === "") errors.push(`${vpath}.name: must not be empty`);
    if (vh.domains.length === 0) errors.push(`${vpath}.domains: must not be empty`);
    vh.routes.forEach((r, ri) => errors.push(...routeErrors(r, clusters, `${vpath}.routes[${ri}]`)));
    errors.push(...checkUniqueNames(vh.routes.map((r) => r.name), (i) => `${vpath}.routes[${i}].name`, "route name"));
  });
  return errors;
}
