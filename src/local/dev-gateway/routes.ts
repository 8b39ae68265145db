/**
 * A RouteConfiguration compiled into the decision Envoy's router makes for a
 * request (pure). Virtual hosts are picked with src/routing's DomainIndex —
 * the one definition of Envoy's domain order (exact, suffix wildcard, prefix
 * wildcard, "*") that Check and our route builder also obey — then the first
 * route of that virtual host whose match holds wins.
 *
 * Supported, as Envoy documents them: path matching by `prefix` (on the whole
 * `:path`), `path` and `safe_regex` (on the path without its query, the regex
 * matching it whole), `case_sensitive`; header matchers (`string_match`
 * exact / prefix / suffix / contains with `ignore_case`, `present_match`,
 * `invert_match`; several values of one header are matched joined with ",");
 * actions `route` (`cluster`, `cluster_header`, `prefix_rewrite`, `timeout`,
 * `upgrade_configs`) and `direct_response` (inline body); per route, ext_authz's
 * `ExtAuthzPerRoute` `disabled`. Anything else in a
 * RouteConfiguration is an error, so the gateway NACKs it rather than route
 * differently from Envoy. Domains are matched without the port, as Envoy does
 * with `ignore_port_in_host_matching` (which our route tables set).
 */
import type { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import type { HeaderMatcher, Route, RouteAction, VirtualHost } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { FilterConfig, RouteAction_ClusterNotFoundResponseCode as NotFoundCode } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import type { StringMatcher } from "@envoyproxy/protos/envoy/type/matcher/v3/string";
import { ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import type { Duration } from "@envoyproxy/protos/google/protobuf/duration";
import { DomainIndex } from "../../routing/index.js";

/** Envoy's default route timeout when `timeout` is absent. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

/** What the router does once a route matched with a `route` action. */
export interface ForwardAction {
  /** The fixed cluster, or undefined when `clusterHeader` names it. */
  readonly cluster?: string;
  readonly clusterHeader?: string;
  /** HTTP status when the named cluster does not exist (cluster_not_found_response_code). */
  readonly clusterNotFoundStatus: number;
  readonly prefixRewrite?: string;
  /** Upstream response timeout; 0: none (long-lived connections). */
  readonly timeoutMs: number;
  /** Per-route WebSocket upgrade switch: undefined follows the listener's upgrade_configs. */
  readonly websocket?: boolean;
}

export interface CompiledRoute {
  readonly name: string;
  /** The prefix the route matched with, for prefix_rewrite; undefined for path / regex routes. */
  readonly prefix?: string;
  /** ExtAuthzPerRoute `disabled`: a request that picks this route first is not sent to Check. */
  readonly extAuthzDisabled?: true;
  readonly matches: (path: string, headers: ReadonlyMap<string, readonly string[]>) => boolean;
  readonly action: { readonly kind: "forward"; readonly forward: ForwardAction } | { readonly kind: "direct"; readonly status: number; readonly body: string };
}

export type RouteDecision =
  /** No virtual host or no route matched: Envoy answers 404 (NR). */
  | { readonly kind: "no_route" }
  | { readonly kind: "direct"; readonly route: CompiledRoute; readonly status: number; readonly body: string }
  /** Forward to `cluster` ("" when a cluster_header route found no header). */
  | { readonly kind: "forward"; readonly route: CompiledRoute; readonly forward: ForwardAction; readonly cluster: string };

export class CompiledRoutes {
  readonly name: string;
  readonly #hosts: DomainIndex<readonly CompiledRoute[]>;

  constructor(name: string, hosts: DomainIndex<readonly CompiledRoute[]>) {
    this.name = name;
    this.#hosts = hosts;
  }

  /** The router's decision for a request's `:authority`, `:path` and headers (lower-case names). */
  decide(authority: string, path: string, headers: ReadonlyMap<string, readonly string[]>): RouteDecision {
    const routes = this.#hosts.select(authority);
    const route = routes?.find((r) => r.matches(path, headers));
    if (route === undefined) return { kind: "no_route" };
    if (route.action.kind === "direct") return { kind: "direct", route, status: route.action.status, body: route.action.body };
    const forward = route.action.forward;
    // Envoy reads the header when the route is chosen: its first value, "" when absent.
    const cluster = forward.cluster ?? headers.get(forward.clusterHeader ?? "")?.[0] ?? "";
    return { kind: "forward", route, forward, cluster };
  }
}

export type Compiled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

/** Compiles a RouteConfiguration, or every reason (path-prefixed) it is one the gateway cannot follow. */
export function compileRouteConfiguration(rc: RouteConfiguration): Compiled<CompiledRoutes> {
  const errors: string[] = [];
  const path = `route_configuration "${rc.name}"`;
  if (rc.vhds !== undefined) errors.push(`${path}.vhds: not supported`);
  const entries: (readonly [string, readonly CompiledRoute[]])[] = [];
  rc.virtualHosts.forEach((vh, vi) => {
    const routes = compileVirtualHost(vh, `${path}.virtual_hosts[${vi}]`, errors);
    for (const domain of vh.domains) entries.push([domain, routes]);
  });
  if (errors.length > 0) return { ok: false, errors };
  try {
    return { ok: true, value: new CompiledRoutes(rc.name, new DomainIndex(entries)) };
  } catch (err) {
    return { ok: false, errors: [`${path}.virtual_hosts: ${err instanceof Error ? err.message : String(err)}`] };
  }
}

function compileVirtualHost(vh: VirtualHost, path: string, errors: string[]): CompiledRoute[] {
  if (vh.domains.length === 0) errors.push(`${path}.domains: must not be empty`);
  if (vh.matcher !== undefined) errors.push(`${path}.matcher: not supported`);
  const out: CompiledRoute[] = [];
  vh.routes.forEach((route, ri) => {
    const compiled = compileRoute(route, `${path}.routes[${ri}]`, errors);
    if (compiled !== undefined) out.push(compiled);
  });
  return out;
}

function compileRoute(route: Route, path: string, errors: string[]): CompiledRoute | undefined {
  const before = errors.length;
  const pathMatch = compilePathMatch(route, path, errors);
  const headerMatches = (route.match?.headers ?? []).map((h, i) => compileHeaderMatcher(h, `${path}.match.headers[${i}]`, errors));
  const action = compileAction(route, path, errors);
  const checkOff = extAuthzDisabled(route, path, errors);
  if (errors.length > before || pathMatch === undefined || action === undefined) return undefined;
  const prefix = route.match?.prefix;
  return {
    name: route.name,
    ...(prefix === undefined ? {} : { prefix }),
    ...(checkOff ? { extAuthzDisabled: true as const } : {}),
    matches: (p, headers) => pathMatch(p) && headerMatches.every((m) => m?.(headers) ?? false),
    action,
  };
}

const EXT_AUTHZ_FILTER = "envoy.filters.http.ext_authz";
const EXT_AUTHZ_PER_ROUTE = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute";
const FILTER_CONFIG = "type.googleapis.com/envoy.config.route.v3.FilterConfig";

/**
 * The route's `typed_per_filter_config`: only ext_authz's ExtAuthzPerRoute
 * with `disabled` is followed, bare or inside a FilterConfig (whose own
 * `disabled` turns the filter off too, as in Envoy); true when it turns Check off.
 */
function extAuthzDisabled(route: Route, path: string, errors: string[]): boolean {
  let disabled = false;
  for (const [name, wrapped] of Object.entries(route.typedPerFilterConfig)) {
    const at = `${path}.typed_per_filter_config["${name}"]`;
    let any = wrapped;
    if (name === EXT_AUTHZ_FILTER && wrapped.typeUrl === FILTER_CONFIG) {
      let filterConfig: FilterConfig;
      try {
        filterConfig = FilterConfig.decode(wrapped.value);
      } catch (err) {
        errors.push(`${at}: does not decode: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (filterConfig.disabled) {
        disabled = true;
        continue;
      }
      if (filterConfig.config === undefined) continue;
      any = filterConfig.config;
    }
    if (name !== EXT_AUTHZ_FILTER || any.typeUrl !== EXT_AUTHZ_PER_ROUTE) {
      errors.push(`${at}: only ${EXT_AUTHZ_FILTER} with ExtAuthzPerRoute is supported`);
      continue;
    }
    try {
      const perRoute = ExtAuthzPerRoute.decode(any.value);
      if (perRoute.checkSettings !== undefined) errors.push(`${at}.check_settings: not supported`);
      disabled = perRoute.disabled === true;
    } catch (err) {
      errors.push(`${at}: does not decode: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return disabled;
}

/** The path without query and fragment (what `path` and `safe_regex` see). */
function pathOnly(path: string): string {
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}

function compilePathMatch(route: Route, path: string, errors: string[]): ((p: string) => boolean) | undefined {
  const m = route.match;
  if (m === undefined) {
    errors.push(`${path}.match: required`);
    return undefined;
  }
  const unsupported = { connect_matcher: m.connectMatcher, path_separated_prefix: m.pathSeparatedPrefix, path_match_policy: m.pathMatchPolicy, runtime_fraction: m.runtimeFraction, grpc: m.grpc, tls_context: m.tlsContext };
  for (const [field, value] of Object.entries(unsupported)) if (value !== undefined) errors.push(`${path}.match.${field}: not supported`);
  if (m.queryParameters.length > 0) errors.push(`${path}.match.query_parameters: not supported`);
  if (m.dynamicMetadata.length > 0) errors.push(`${path}.match.dynamic_metadata: not supported`);
  const sensitive = m.caseSensitive ?? true;
  const fold = (s: string): string => (sensitive ? s : s.toLowerCase());
  if (m.prefix !== undefined) {
    const prefix = fold(m.prefix);
    return (p) => fold(p).startsWith(prefix);
  }
  if (m.path !== undefined) {
    const exact = fold(m.path);
    return (p) => fold(pathOnly(p)) === exact;
  }
  if (m.safeRegex !== undefined) {
    const regex = compileRegex(m.safeRegex.regex, sensitive ? "" : "i", `${path}.match.safe_regex.regex`, errors);
    return regex === undefined ? undefined : (p) => regex.test(pathOnly(p));
  }
  errors.push(`${path}.match: needs one of prefix, path, safe_regex`);
  return undefined;
}

/** An RE2 regex as a JavaScript one that must match the whole input (RE2's FullMatch). */
function compileRegex(source: string, flags: string, path: string, errors: string[]): RegExp | undefined {
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch (err) {
    errors.push(`${path}: ${JSON.stringify(source)} does not compile (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

type HeadersMatch = (headers: ReadonlyMap<string, readonly string[]>) => boolean;

function compileHeaderMatcher(h: HeaderMatcher, path: string, errors: string[]): HeadersMatch | undefined {
  const legacy = { exact_match: h.exactMatch, safe_regex_match: h.safeRegexMatch, range_match: h.rangeMatch, prefix_match: h.prefixMatch, suffix_match: h.suffixMatch, contains_match: h.containsMatch };
  for (const [field, value] of Object.entries(legacy)) if (value !== undefined) errors.push(`${path}.${field}: not supported (use string_match)`);
  const name = h.name.toLowerCase();
  if (name === "") errors.push(`${path}.name: must not be empty`);
  let valueMatch: ((value: string) => boolean) | undefined;
  if (h.stringMatch !== undefined) valueMatch = compileStringMatcher(h.stringMatch, `${path}.string_match`, errors);
  else if (h.presentMatch === undefined) errors.push(`${path}: needs string_match or present_match`);
  const present = h.presentMatch;
  return (headers) => {
    const values = headers.get(name);
    const result = values === undefined ? (h.treatMissingHeaderAsEmpty && valueMatch !== undefined ? valueMatch("") : present === false) : present !== undefined ? present : (valueMatch?.(values.join(",")) ?? false);
    return result !== h.invertMatch;
  };
}

function compileStringMatcher(sm: StringMatcher, path: string, errors: string[]): ((value: string) => boolean) | undefined {
  const fold = (s: string): string => (sm.ignoreCase ? s.toLowerCase() : s);
  if (sm.exact !== undefined) return (v) => fold(v) === fold(sm.exact ?? "");
  if (sm.prefix !== undefined) return (v) => fold(v).startsWith(fold(sm.prefix ?? ""));
  if (sm.suffix !== undefined) return (v) => fold(v).endsWith(fold(sm.suffix ?? ""));
  if (sm.contains !== undefined) return (v) => fold(v).includes(fold(sm.contains ?? ""));
  if (sm.safeRegex !== undefined) {
    const regex = compileRegex(sm.safeRegex.regex, "", `${path}.safe_regex.regex`, errors);
    return regex === undefined ? undefined : (v) => regex.test(v);
  }
  errors.push(`${path}: needs one of exact, prefix, suffix, contains, safe_regex`);
  return undefined;
}

const NOT_FOUND_STATUS: Readonly<Record<number, number>> = {
  [NotFoundCode.SERVICE_UNAVAILABLE]: 503,
  [NotFoundCode.NOT_FOUND]: 404,
  [NotFoundCode.INTERNAL_SERVER_ERROR]: 500,
};

function durationMs(d: Duration): number {
  return d.seconds * 1000 + Math.floor(d.nanos / 1_000_000);
}

function compileAction(route: Route, path: string, errors: string[]): CompiledRoute["action"] | undefined {
  const kinds = [route.route, route.directResponse, route.redirect, route.filterAction, route.nonForwardingAction].filter((a) => a !== undefined).length;
  if (kinds !== 1) {
    errors.push(`${path}: needs exactly one action (route or direct_response), has ${kinds}`);
    return undefined;
  }
  if (route.directResponse !== undefined) return directAction(route.directResponse, path, errors);
  if (route.route === undefined) {
    errors.push(`${path}: only route and direct_response actions are supported`);
    return undefined;
  }
  return { kind: "forward", forward: forwardAction(route.route, route.match?.prefix !== undefined, `${path}.route`, errors) };
}

function directAction(direct: NonNullable<Route["directResponse"]>, path: string, errors: string[]): CompiledRoute["action"] {
  const { status, body } = direct;
  if (status < 200 || status > 599) errors.push(`${path}.direct_response.status: ${status} is not in 200..599`);
  if (body !== undefined && body.inlineString === undefined && body.inlineBytes === undefined) errors.push(`${path}.direct_response.body: only inline_string and inline_bytes are supported`);
  const text = body?.inlineString ?? (body?.inlineBytes === undefined ? "" : Buffer.from(body.inlineBytes).toString("utf8"));
  return { kind: "direct", status, body: text };
}

/** What in a RouteAction the gateway cannot follow. */
function routeActionErrors(a: RouteAction, prefixMatch: boolean, path: string): string[] {
  const errors: string[] = [];
  const unsupported = { weighted_clusters: a.weightedClusters, cluster_specifier_plugin: a.clusterSpecifierPlugin, inline_cluster_specifier_plugin: a.inlineClusterSpecifierPlugin, regex_rewrite: a.regexRewrite, path_rewrite_policy: a.pathRewritePolicy };
  for (const [field, value] of Object.entries(unsupported)) if (value !== undefined) errors.push(`${path}.${field}: not supported`);
  if ((a.cluster === undefined) === (a.clusterHeader === undefined)) errors.push(`${path}: needs exactly one of cluster, cluster_header`);
  if (a.cluster === "" || a.clusterHeader === "") errors.push(`${path}: the cluster or cluster_header must not be empty`);
  if (a.prefixRewrite !== "" && !prefixMatch) errors.push(`${path}.prefix_rewrite: only with a prefix match`);
  return errors;
}

function forwardAction(a: RouteAction, prefixMatch: boolean, path: string, errors: string[]): ForwardAction {
  errors.push(...routeActionErrors(a, prefixMatch, path));
  const status = NOT_FOUND_STATUS[a.clusterNotFoundResponseCode];
  if (status === undefined) errors.push(`${path}.cluster_not_found_response_code: ${a.clusterNotFoundResponseCode} is unknown`);
  const websocket = a.upgradeConfigs.find((u) => u.upgradeType.toLowerCase() === "websocket");
  return {
    ...(a.cluster === undefined ? {} : { cluster: a.cluster }),
    ...(a.clusterHeader === undefined ? {} : { clusterHeader: a.clusterHeader.toLowerCase() }),
    clusterNotFoundStatus: status ?? 503,
    ...(a.prefixRewrite === "" ? {} : { prefixRewrite: a.prefixRewrite }),
    timeoutMs: a.timeout === undefined ? DEFAULT_ROUTE_TIMEOUT_MS : durationMs(a.timeout),
    ...(websocket === undefined ? {} : { websocket: websocket.enabled ?? true }),
  };
}

/** The `:path` the upstream gets: the matched prefix replaced by `prefix_rewrite`, if the route has one. */
export function rewritePath(route: CompiledRoute, forward: ForwardAction, path: string): string {
  if (forward.prefixRewrite === undefined || route.prefix === undefined) return path;
  return forward.prefixRewrite + path.slice(route.prefix.length);
}
