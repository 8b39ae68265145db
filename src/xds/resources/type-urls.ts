/** v3 type URLs, and the one place that fixes the order in which types are pushed. */
export const TYPE_URLS = {
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoints: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  routes: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
} as const;

export type TypeUrl = (typeof TYPE_URLS)[keyof typeof TYPE_URLS];

/**
 * Make before break: clusters and their endpoints before the listeners and
 * routes that use them. Removals go in the reverse order (routes before
 * clusters), so no route ever points at a cluster the gateway lacks.
 */
export const PUSH_ORDER: readonly TypeUrl[] = [TYPE_URLS.cluster, TYPE_URLS.endpoints, TYPE_URLS.listener, TYPE_URLS.routes];

export const REMOVE_ORDER: readonly TypeUrl[] = [...PUSH_ORDER].reverse();

/** Types whose subscriptions may be wildcard (all resources of the type). */
export const WILDCARD_TYPES: ReadonlySet<TypeUrl> = new Set([TYPE_URLS.cluster, TYPE_URLS.listener]);

const BY_VALUE: ReadonlyMap<string, TypeUrl> = new Map(Object.values(TYPE_URLS).map((t) => [t, t]));

export function isTypeUrl(value: string): value is TypeUrl {
  return BY_VALUE.has(value);
}

/**
 * Our own constant for a type URL a client sent (a string decoded per
 * request), or undefined for a type we do not serve: the per-stream maps
 * keyed by type are then looked up by the same string every time.
 */
export function typeUrlOf(value: string): TypeUrl | undefined {
  return BY_VALUE.get(value);
}

/** Type URLs of the typed_config extensions our resources embed as `google.protobuf.Any`. */
export const EXTENSION_TYPE_URLS = {
  httpConnectionManager: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  router: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
  extAuthz: "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
  extAuthzPerRoute: "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute",
  /** The per-route wrapper that marks a filter's setting optional, so a client without that filter (gRPC) may ignore it. */
  filterConfig: "type.googleapis.com/envoy.config.route.v3.FilterConfig",
  httpGrpcAccessLog: "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
  httpProtocolOptions: "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
} as const;

/** Well-known extension names (the keys Envoy looks them up by). */
export const EXTENSION_NAMES = {
  httpConnectionManager: "envoy.filters.network.http_connection_manager",
  router: "envoy.filters.http.router",
  extAuthz: "envoy.filters.http.ext_authz",
  httpGrpcAccessLog: "envoy.access_loggers.http_grpc",
  httpProtocolOptions: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
} as const;
