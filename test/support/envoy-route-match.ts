/**
 * An independent emulator of how Envoy picks a route from a RouteConfiguration,
 * written from Envoy's documentation and source (config_impl.cc
 * RouteMatcher::findVirtualHost, HeaderUtility::getPortStart and
 * matchHeaders, PrefixRouteEntryImpl) — deliberately sharing no code with
 * src/routing, so tests can hold our Check matcher against it.
 *
 * Covers what our RouteConfigurations use: domains (exact, "*suffix",
 * "prefix*", "*"), `ignore_port_in_host_matching`, routes in order, `prefix`
 * path matching (case-sensitive unless told otherwise), header matchers with
 * an exact or prefix string match, and what the router does with the route
 * it took: a direct response, or the cluster named by `cluster` or read from
 * the request header `cluster_header` names (RouteEntryImplBase::clusterEntry:
 * the first value, "" when the header is absent), answered with
 * `cluster_not_found_response_code` (default 503) when the gateway has no
 * such cluster. Anything else in the configuration throws: the emulator never
 * answers silently for a feature it does not model.
 *
 * A request carries one value per header here; Envoy would match a header
 * sent several times against its values joined with ",".
 */
import type { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import type { HeaderMatcher, Route, VirtualHost } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { FilterConfig, RouteAction_ClusterNotFoundResponseCode, VirtualHost_TlsRequirementType } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import type { Any } from "@envoyproxy/protos/google/protobuf/any";

export interface EnvoyRequest {
  /** `:authority` as the client sent it. */
  readonly authority: string;
  /** `:path`, query included. */
  readonly path: string;
  /** Other request headers, lower-case names. */
  readonly headers?: Readonly<Record<string, string>>;
}

class Unsupported extends Error {
  constructor(what: string) {
    super(`envoy-route-match does not emulate ${what}`);
  }
}

/** absl::AsciiStrToLower: only A–Z change. */
function asciiToLower(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** HeaderUtility::getPortStart: the last ':' unless a ']' follows it; -1 for none. No check of the port's digits. */
function getPortStart(host: string): number {
  const portStart = host.lastIndexOf(":");
  if (portStart === -1) return -1;
  const v6End = host.lastIndexOf("]");
  if (v6End === -1 || v6End < portStart) return portStart + 1 > host.length ? -1 : portStart;
  return -1;
}

/** Envoy's per-RouteConfiguration domain maps, built as RouteMatcher's constructor does. */
interface Domains {
  readonly exact: Map<string, VirtualHost>;
  /** Wildcard length (domain length − 1) → fixed part → virtual host, iterated longest first. */
  readonly suffixes: Map<number, Map<string, VirtualHost>>;
  readonly prefixes: Map<number, Map<string, VirtualHost>>;
  readonly defaultHost: VirtualHost | undefined;
}

function addWildcard(maps: Map<number, Map<string, VirtualHost>>, length: number, fixed: string, vh: VirtualHost): boolean {
  const byFixed = maps.get(length) ?? new Map<string, VirtualHost>();
  maps.set(length, byFixed);
  if (byFixed.has(fixed)) return false;
  byFixed.set(fixed, vh);
  return true;
}

function domainsOf(rc: RouteConfiguration): Domains {
  const exact = new Map<string, VirtualHost>();
  const suffixes = new Map<number, Map<string, VirtualHost>>();
  const prefixes = new Map<number, Map<string, VirtualHost>>();
  let defaultHost: VirtualHost | undefined;
  for (const vh of rc.virtualHosts) {
    checkVirtualHost(vh);
    for (const name of vh.domains) {
      const domain = asciiToLower(name);
      let unique = true;
      if (domain === "*") {
        if (defaultHost !== undefined) throw new Error(`Only a single wildcard domain is permitted in route ${rc.name}`);
        defaultHost = vh;
      } else if (domain.length > 0 && domain[0] === "*") {
        unique = addWildcard(suffixes, domain.length - 1, domain.slice(1), vh);
      } else if (domain.length > 0 && domain[domain.length - 1] === "*") {
        unique = addWildcard(prefixes, domain.length - 1, domain.slice(0, -1), vh);
      } else if (exact.has(domain)) {
        unique = false;
      } else {
        exact.set(domain, vh);
      }
      if (!unique) throw new Error(`Only unique values for domains are permitted. Duplicate entry of domain ${domain} in route ${rc.name}`);
    }
  }
  return { exact, suffixes, prefixes, defaultHost };
}

/** findWildcardVirtualHost: longest wildcard first; ">=" because "*.foo.com" must not match ".foo.com". */
function findWildcard(host: string, maps: Map<number, Map<string, VirtualHost>>, part: (h: string, l: number) => string): VirtualHost | undefined {
  for (const length of [...maps.keys()].sort((a, b) => b - a)) {
    if (length >= host.length) continue;
    const hit = maps.get(length)?.get(part(host, length));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** The virtual host Envoy picks for this `:authority`, or undefined (404, no route). */
export function selectVirtualHost(rc: RouteConfiguration, authority: string): VirtualHost | undefined {
  if (rc.vhds !== undefined) throw new Unsupported("VHDS");
  const d = domainsOf(rc);
  if (d.exact.size === 0 && d.suffixes.size === 0 && d.prefixes.size === 0) return d.defaultHost;
  let hostValue = authority;
  if (rc.ignorePortInHostMatching) {
    const portStart = getPortStart(hostValue);
    if (portStart !== -1) hostValue = hostValue.slice(0, portStart);
  }
  const host = asciiToLower(hostValue);
  return (
    d.exact.get(host) ??
    findWildcard(host, d.suffixes, (h, l) => h.slice(h.length - l)) ??
    findWildcard(host, d.prefixes, (h, l) => h.slice(0, l)) ??
    d.defaultHost
  );
}

/** The route Envoy takes for the request: the first of the chosen virtual host's routes that matches, or undefined. */
export function selectRoute(rc: RouteConfiguration, request: EnvoyRequest): Route | undefined {
  if (rc.ignorePathParametersInPathMatching) throw new Unsupported("ignore_path_parameters_in_path_matching");
  const vh = selectVirtualHost(rc, request.authority);
  return vh?.routes.find((route) => routeMatches(route, request));
}

/** Where the router sends a request: upstream to a cluster, or a reply of its own. */
export type EnvoyTarget = { readonly kind: "cluster"; readonly cluster: string; readonly route: Route } | { readonly kind: "direct"; readonly status: number; readonly route: Route };

/** RouteAction.ClusterNotFoundResponseCode → HTTP status. */
const CLUSTER_NOT_FOUND_STATUS: Readonly<Record<number, number>> = {
  [RouteAction_ClusterNotFoundResponseCode.SERVICE_UNAVAILABLE]: 503,
  [RouteAction_ClusterNotFoundResponseCode.NOT_FOUND]: 404,
  [RouteAction_ClusterNotFoundResponseCode.INTERNAL_SERVER_ERROR]: 500,
};

/**
 * What Envoy does with the request, given the names of the clusters it has:
 * the cluster it forwards to, or the status of its own reply; undefined when
 * no route matches (404).
 */
export function selectTarget(rc: RouteConfiguration, request: EnvoyRequest, clusters: ReadonlySet<string>): EnvoyTarget | undefined {
  const route = selectRoute(rc, request);
  if (route === undefined) return undefined;
  if (route.directResponse !== undefined) return { kind: "direct", status: route.directResponse.status, route };
  const action = route.route;
  if (action === undefined) throw new Unsupported(`route ${route.name}: only route and direct_response actions are emulated`);
  if (action.weightedClusters !== undefined || action.clusterSpecifierPlugin !== undefined || action.inlineClusterSpecifierPlugin !== undefined) {
    throw new Unsupported(`route ${route.name}: only cluster and cluster_header are emulated`);
  }
  // The header is read once the route is chosen; a missing header names the cluster "".
  const cluster = action.cluster ?? (action.clusterHeader !== undefined ? (request.headers?.[action.clusterHeader.toLowerCase()] ?? "") : undefined);
  if (cluster === undefined) throw new Unsupported(`route ${route.name} without a cluster specifier`);
  if (clusters.has(cluster)) return { kind: "cluster", cluster, route };
  const status = CLUSTER_NOT_FOUND_STATUS[action.clusterNotFoundResponseCode];
  if (status === undefined) throw new Unsupported(`cluster_not_found_response_code ${action.clusterNotFoundResponseCode}`);
  return { kind: "direct", status, route };
}

function checkVirtualHost(vh: VirtualHost): void {
  if (vh.matcher !== undefined) throw new Unsupported(`the matcher tree of virtual host ${vh.name}`);
  if (vh.requireTls !== VirtualHost_TlsRequirementType.NONE) throw new Unsupported(`require_tls on virtual host ${vh.name}`);
}

function routeMatches(route: Route, request: EnvoyRequest): boolean {
  const m = route.match;
  if (m === undefined) throw new Unsupported(`route ${route.name} without match`);
  const others = [m.path, m.safeRegex, m.connectMatcher, m.pathSeparatedPrefix, m.pathMatchPolicy, m.runtimeFraction, m.grpc, m.tlsContext];
  if (m.prefix === undefined || others.some((x) => x !== undefined) || m.queryParameters.length > 0 || m.dynamicMetadata.length > 0) {
    throw new Unsupported(`route ${route.name}: only prefix and header matching are emulated`);
  }
  const caseSensitive = m.caseSensitive ?? true;
  const prefixMatches = caseSensitive ? request.path.startsWith(m.prefix) : request.path.toLowerCase().startsWith(m.prefix.toLowerCase());
  return prefixMatches && m.headers.every((h) => headerMatches(h, request.headers ?? {}));
}

/** The exact or prefix string matcher of a header matcher; throws for any other kind or option. */
function stringMatcherOf(h: HeaderMatcher): { readonly exact?: string | undefined; readonly prefix?: string | undefined } {
  const sm = h.stringMatch;
  const legacy = [h.exactMatch, h.safeRegexMatch, h.rangeMatch, h.presentMatch, h.prefixMatch, h.suffixMatch, h.containsMatch];
  const others = sm === undefined ? [] : [sm.suffix, sm.contains, sm.safeRegex, sm.custom];
  const kinds = sm === undefined ? 0 : [sm.exact, sm.prefix].filter((x) => x !== undefined).length;
  if (sm === undefined || kinds !== 1 || [...legacy, ...others].some((x) => x !== undefined) || h.invertMatch || h.treatMissingHeaderAsEmpty || sm.ignoreCase) {
    throw new Unsupported(`header matcher on ${h.name}: only string_match.exact and string_match.prefix are emulated`);
  }
  return sm;
}

/**
 * HeaderUtility::matchHeaders for a string_match exact or prefix matcher
 * (case-sensitive): a missing header never matches.
 */
function headerMatches(h: HeaderMatcher, headers: Readonly<Record<string, string>>): boolean {
  const sm = stringMatcherOf(h);
  const value = headers[h.name.toLowerCase()];
  if (value === undefined) return false;
  return sm.exact !== undefined ? value === sm.exact : value.startsWith(sm.prefix ?? "");
}

const EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz";
const EXT_AUTHZ_PER_ROUTE_URL = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute";
const FILTER_CONFIG_URL = "type.googleapis.com/envoy.config.route.v3.FilterConfig";

function perRouteDisables(any: Any): boolean {
  if (any.typeUrl === EXT_AUTHZ_PER_ROUTE_URL) return ExtAuthzPerRoute.decode(any.value).disabled === true;
  throw new Unsupported(`typed_per_filter_config of ext_authz with ${any.typeUrl}`);
}

/**
 * Whether the ext_authz filter skips a request whose route (picked before
 * the filter runs, with the client's headers) is `route`: its
 * typed_per_filter_config under the filter's name is an ExtAuthzPerRoute
 * with `disabled`, bare or inside a FilterConfig (whose own `disabled` turns
 * the filter off too). Per Envoy's ext_authz docs, the check is skipped and
 * the request goes on along that route.
 */
export function extAuthzDisabled(route: Route): boolean {
  const any = route.typedPerFilterConfig[EXT_AUTHZ_FILTER];
  if (any === undefined) return false;
  if (any.typeUrl !== FILTER_CONFIG_URL) return perRouteDisables(any);
  const wrapped = FilterConfig.decode(any.value);
  return wrapped.disabled === true || (wrapped.config !== undefined && perRouteDisables(wrapped.config));
}
