/**
 * RouteConfiguration (RDS) `ticketplane-routes`: per app, one route per pod
 * that matches the app's prefix and `x-ticketplane-pod: <pod>`, then one
 * fallback for requests without a valid pod header. Virtual hosts and the
 * order of apps come from the group's RouteTable (src/routing), the same
 * table Check matches with, so the two cannot disagree about a request's app.
 */
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { Route, VirtualHost } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { appKey } from "../../config/app-spec.js";
import { ANY_HOST, type AppRoute, fallbackRouteName, podClusterName, RESOURCE_NAMES, RouteTable, ROUTING_HEADERS } from "../../routing/index.js";
import { checkUniqueNames, duration } from "./envoy-values.js";
import type { AppModel, GatewayModel, PodModel } from "./model.js";
import { TYPE_URLS } from "./type-urls.js";

export const ROUTE_CONFIGURATION_TYPE_URL = TYPE_URLS.routes;

/** Body of the 503 a request without a valid pod header gets when no resolver can take it. */
export const NO_TICKET_BODY = "ticketplane: no valid ticket for this app\n";

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Long-lived connections: no route timeout (an explicit 0s), WebSocket upgrades allowed.
function longLived(): { timeout: ReturnType<typeof duration>; upgradeConfigs: { upgradeType: string; enabled: boolean }[] } {
  return { timeout: duration(0), upgradeConfigs: [{ upgradeType: "websocket", enabled: true }] };
}

function podRoute(app: AppModel, pod: PodModel): Route {
  const cluster = podClusterName(app.namespace, app.name, pod.name);
  return Route.fromPartial({
    name: cluster,
    match: { prefix: app.pathPrefix, headers: [{ name: ROUTING_HEADERS.pod, stringMatch: { exact: pod.name } }] },
    route: { ...longLived(), cluster, prefixRewrite: app.podPath },
  });
}

function fallbackRoute(app: AppModel, model: GatewayModel): Route {
  const name = fallbackRouteName(app.namespace, app.name);
  const match = { prefix: app.pathPrefix };
  if (app.mode === "proxy" && model.resolver !== undefined) {
    return Route.fromPartial({ name, match, route: { ...longLived(), cluster: RESOURCE_NAMES.resolverCluster } });
  }
  // Check never lets a request without a ticket through in serve mode; if one
  // slips by (or a proxy-mode app has no resolver) it must not reach a pod.
  return Route.fromPartial({ name, match, directResponse: { status: 503, body: { inlineString: NO_TICKET_BODY } } });
}

function appRoutes(app: AppModel, model: GatewayModel): Route[] {
  const pods = [...app.pods].sort((a, b) => compare(a.name, b.name));
  return [...pods.map((p) => podRoute(app, p)), fallbackRoute(app, model)];
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

/** Every pod key the route configuration routes to, sorted (its `pods` tag). */
export function routedPods(model: GatewayModel): string[] {
  return model.apps.flatMap((a) => a.pods.map((p) => podClusterName(a.namespace, a.name, p.name))).sort(compare);
}

function routeErrors(route: Route, clusters: ReadonlySet<string>, path: string): string[] {
  const errors: string[] = [];
  if (route.name === "") errors.push(`${path}.name: must not be empty`);
  const prefix = route.match?.prefix;
  if (prefix === undefined) errors.push(`${path}.match.prefix: required`);
  else if (!prefix.startsWith("/")) errors.push(`${path}.match.prefix: "${prefix}" must start with "/"`);
  route.match?.headers.forEach((h, i) => {
    if (h.name === "") errors.push(`${path}.match.headers[${i}].name: must not be empty`);
    if (h.stringMatch?.exact === undefined || h.stringMatch.exact === "") errors.push(`${path}.match.headers[${i}].string_match.exact: must be a non-empty value`);
  });
  const actions = [route.route, route.directResponse, route.redirect].filter((a) => a !== undefined).length;
  if (actions !== 1) errors.push(`${path}: needs exactly one of route, direct_response (has ${actions})`);
  if (route.route !== undefined) {
    const cluster = route.route.cluster;
    if (cluster === undefined || cluster === "") errors.push(`${path}.route.cluster: required`);
    else if (!clusters.has(cluster)) errors.push(`${path}.route.cluster: "${cluster}" is not a cluster in the set`);
  }
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
