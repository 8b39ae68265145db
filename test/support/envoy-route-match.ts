/**
 * An independent emulator of how Envoy picks a route from a RouteConfiguration,
 * written from Envoy's documentation and source (config_impl.cc
 * RouteMatcher::findVirtualHost, HeaderUtility::getPortStart and
 * matchHeaders, PrefixRouteEntryImpl) — deliberately sharing no code with
 * src/routing, so tests can hold our Check matcher against it.
 *
 * Covers what our RouteConfigurations use: domains (exact, "*suffix",
 * "prefix*", "*"), `ignore_port_in_host_matching`, routes in order, `prefix`
 * path matching (case-sensitive unless told otherwise) and header matchers
 * with an exact string match. Anything else in the configuration throws: the
 * emulator never answers silently for a feature it does not model.
 */
import type { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import type { HeaderMatcher, Route, VirtualHost } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { VirtualHost_TlsRequirementType } from "@envoyproxy/protos/envoy/config/route/v3/route_components";

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

/** HeaderUtility::matchHeaders for a string_match exact matcher: a missing header never matches. */
function headerMatches(h: HeaderMatcher, headers: Readonly<Record<string, string>>): boolean {
  const exact = h.stringMatch?.exact;
  const plain = h.exactMatch === undefined && h.safeRegexMatch === undefined && h.rangeMatch === undefined && h.presentMatch === undefined;
  const otherKinds = h.prefixMatch !== undefined || h.suffixMatch !== undefined || h.containsMatch !== undefined;
  if (exact === undefined || !plain || otherKinds || h.invertMatch || h.treatMissingHeaderAsEmpty || h.stringMatch?.ignoreCase === true) {
    throw new Unsupported(`header matcher on ${h.name}: only string_match.exact is emulated`);
  }
  const value = headers[h.name.toLowerCase()];
  return value !== undefined && value === exact;
}
