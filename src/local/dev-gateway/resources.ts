/**
 * The four xDS resource types as the dev gateway reads them (pure): each
 * decoded from its Any and checked for what the gateway can follow, giving
 * either the settings it uses or every error with its path — the error_detail
 * of a NACK. Written from Envoy's API, not from our builders (src/xds), so a
 * builder that emits something a gateway cannot take is caught here as a
 * NACK, as Envoy would.
 */
import { Cluster, Cluster_DiscoveryType } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { HealthStatus } from "@envoyproxy/protos/envoy/config/core/v3/health_check";
import type { HeaderValue } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { HttpConnectionManager } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import { ExtAuthz } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { HttpGrpcAccessLogConfig } from "@envoyproxy/protos/envoy/extensions/access_loggers/grpc/v3/als";
import type { Duration } from "@envoyproxy/protos/google/protobuf/duration";
import { type Compiled, compileRouteConfiguration, type CompiledRoutes } from "./routes.js";

/** v3 type URLs of the resources, and of the extensions inside a listener. */
export const TYPE = {
  cluster: "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  endpoints: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
  listener: "type.googleapis.com/envoy.config.listener.v3.Listener",
  routes: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
} as const;
export type ResourceType = (typeof TYPE)[keyof typeof TYPE];

const EXTENSION = {
  hcm: "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  router: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
  extAuthz: "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
  grpcAccessLog: "type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig",
} as const;

/** The ext_authz filter's settings the gateway follows. */
export interface ExtAuthzSettings {
  /** The envoy_grpc cluster Check is called through. */
  readonly cluster: string;
  /** grpc_service.timeout; Envoy's default 200 ms. */
  readonly timeoutMs: number;
  readonly failureModeAllow: boolean;
  /** status_on_error; Envoy's default 403. */
  readonly statusOnError: number;
  readonly clearRouteCache: boolean;
  /** grpc_service.initial_metadata, sent with every Check. */
  readonly metadata: readonly HeaderValue[];
}

/** The gRPC access log's settings. */
export interface AccessLogSettings {
  readonly logName: string;
  readonly cluster: string;
  readonly requestHeaders: readonly string[];
  /** buffer_flush_interval; Envoy's default 1 s. */
  readonly bufferFlushMs: number;
}

export interface ListenerSettings {
  readonly name: string;
  /** The RouteConfiguration the listener takes over RDS. */
  readonly routeConfigName: string;
  readonly extAuthz?: ExtAuthzSettings;
  readonly accessLog?: AccessLogSettings;
  /** WebSocket upgrades allowed by the connection manager's upgrade_configs. */
  readonly websocket: boolean;
  /** access_log_flush_interval: periodic entries for open streams; undefined: none. */
  readonly flushIntervalMs?: number;
  readonly flushOnTunnelEstablished: boolean;
  /** Where Envoy would listen (informational: the dev gateway listens where it is told). */
  readonly address: string;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ClusterSettings {
  readonly name: string;
  /** EDS: endpoints come as the ClusterLoadAssignment of this name. */
  readonly edsName?: string;
  /** STATIC / STRICT_DNS: endpoints inline. */
  readonly endpoints?: readonly Endpoint[];
}

export interface EndpointSettings {
  readonly clusterName: string;
  /** Endpoints Envoy would balance over: not UNHEALTHY, DRAINING or TIMEOUT. */
  readonly endpoints: readonly Endpoint[];
}

export interface DecodedResources {
  [TYPE.listener]: ListenerSettings;
  [TYPE.routes]: CompiledRoutes;
  [TYPE.cluster]: ClusterSettings;
  [TYPE.endpoints]: EndpointSettings;
}

export type { Compiled };

const DEFAULT_CHECK_TIMEOUT_MS = 200;
const DEFAULT_STATUS_ON_ERROR = 403;
const DEFAULT_BUFFER_FLUSH_MS = 1000;

function ms(d: Duration | undefined, fallback: number): number {
  return d === undefined ? fallback : d.seconds * 1000 + Math.floor(d.nanos / 1_000_000);
}

function result<T>(errors: readonly string[], value: () => T): Compiled<T> {
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: value() };
}

/** Decodes bytes, turning a decode failure into an error. */
function decode<T>(what: string, bytes: Uint8Array, fn: (b: Uint8Array) => T): Compiled<T> {
  try {
    return { ok: true, value: fn(bytes) };
  } catch (err) {
    return { ok: false, errors: [`${what}: does not decode (${err instanceof Error ? err.message : String(err)})`] };
  }
}

/** One resource of `type` from its encoded bytes, or why the gateway rejects it. `name` is the name the server gave it. */
export function decodeResource<T extends ResourceType>(type: T, name: string, bytes: Uint8Array): Compiled<DecodedResources[T]> {
  const compiled = ((): Compiled<unknown> => {
    switch (type) {
      case TYPE.listener:
        return chain(decode(`listener "${name}"`, bytes, (b) => Listener.decode(b)), listenerSettings);
      case TYPE.routes:
        return chain(decode(`route_configuration "${name}"`, bytes, (b) => RouteConfiguration.decode(b)), compileRouteConfiguration);
      case TYPE.cluster:
        return chain(decode(`cluster "${name}"`, bytes, (b) => Cluster.decode(b)), clusterSettings);
      default:
        return chain(decode(`cluster_load_assignment "${name}"`, bytes, (b) => ClusterLoadAssignment.decode(b)), endpointSettings);
    }
  })();
  if (compiled.ok && nameOf(type, compiled.value) !== name) return { ok: false, errors: [`${type} "${name}": the resource is named "${nameOf(type, compiled.value)}"`] };
  return compiled as Compiled<DecodedResources[T]>;
}

function nameOf(type: ResourceType, value: unknown): string {
  return type === TYPE.endpoints ? (value as EndpointSettings).clusterName : (value as { name: string }).name;
}

function chain<A, B>(first: Compiled<A>, next: (a: A) => Compiled<B>): Compiled<B> {
  return first.ok ? next(first.value) : first;
}

export function listenerSettings(listener: Listener): Compiled<ListenerSettings> {
  const path = `listener "${listener.name}"`;
  const filters = listener.filterChains.flatMap((c) => c.filters);
  if (listener.filterChains.length !== 1 || filters.length !== 1) return { ok: false, errors: [`${path}.filter_chains: the dev gateway takes one filter chain with one filter (the HTTP connection manager)`] };
  const hcmAny = filters[0]?.typedConfig;
  if (hcmAny?.typeUrl !== EXTENSION.hcm) return { ok: false, errors: [`${path}.filter_chains[0].filters[0].typed_config: ${String(hcmAny?.typeUrl)} is not the HTTP connection manager`] };
  const decoded = decode(`${path} http_connection_manager`, hcmAny.value, (b) => HttpConnectionManager.decode(b));
  if (!decoded.ok) return decoded;
  const sa = listener.address?.socketAddress;
  return hcmSettings(decoded.value, `${path}.filter_chains[0].filters[0].typed_config`, listener.name, `${sa?.address ?? "?"}:${String(sa?.portValue ?? "?")}`);
}

function hcmSettings(hcm: HttpConnectionManager, path: string, name: string, address: string): Compiled<ListenerSettings> {
  const errors: string[] = [];
  const routeConfigName = hcm.rds?.routeConfigName ?? "";
  if (hcm.rds === undefined || routeConfigName === "") errors.push(`${path}.rds: required (the dev gateway takes its routes over RDS)`);
  else if (hcm.rds.configSource?.ads === undefined) errors.push(`${path}.rds.config_source.ads: required (one ADS stream carries everything)`);
  const extAuthz = filterSettings(hcm, path, errors);
  const accessLog = accessLogSettings(hcm, path, errors);
  const flush = hcm.accessLogOptions?.accessLogFlushInterval;
  return result(errors, () => ({
    name,
    routeConfigName,
    ...(extAuthz === undefined ? {} : { extAuthz }),
    ...(accessLog === undefined ? {} : { accessLog }),
    websocket: hcm.upgradeConfigs.some((u) => u.upgradeType.toLowerCase() === "websocket" && u.enabled !== false),
    ...(flush === undefined ? {} : { flushIntervalMs: ms(flush, 0) }),
    flushOnTunnelEstablished: hcm.accessLogOptions?.flushLogOnTunnelSuccessfullyEstablished ?? false,
    address,
  }));
}

/** The HTTP filters: optional ext_authz, then the router (last). Any other non-optional filter is refused. */
function filterSettings(hcm: HttpConnectionManager, path: string, errors: string[]): ExtAuthzSettings | undefined {
  let extAuthz: ExtAuthzSettings | undefined;
  hcm.httpFilters.forEach((f, i) => {
    const at = `${path}.http_filters[${i}]`;
    const typeUrl = f.typedConfig?.typeUrl;
    if (f.disabled) return;
    if (typeUrl === EXTENSION.router) {
      if (i !== hcm.httpFilters.length - 1) errors.push(`${at}: the router must be the last filter`);
    } else if (typeUrl === EXTENSION.extAuthz) {
      extAuthz = extAuthzSettings(f.typedConfig?.value ?? new Uint8Array(), at, errors);
    } else if (!f.isOptional) {
      errors.push(`${at}: filter "${f.name}" (${String(typeUrl)}) is not supported by the dev gateway`);
    }
  });
  if (hcm.httpFilters.at(-1)?.typedConfig?.typeUrl !== EXTENSION.router) errors.push(`${path}.http_filters: the last filter must be the router`);
  return extAuthz;
}

function extAuthzSettings(bytes: Uint8Array, path: string, errors: string[]): ExtAuthzSettings | undefined {
  const decoded = decode(`${path}.typed_config`, bytes, (b) => ExtAuthz.decode(b));
  if (!decoded.ok) {
    errors.push(...decoded.errors);
    return undefined;
  }
  const c = decoded.value;
  const cluster = c.grpcService?.envoyGrpc?.clusterName ?? "";
  if (c.httpService !== undefined || cluster === "") {
    errors.push(`${path}.typed_config.grpc_service.envoy_grpc.cluster_name: required (the dev gateway calls Check over gRPC through a cluster)`);
    return undefined;
  }
  const code = Number(c.statusOnError?.code ?? 0);
  return {
    cluster,
    timeoutMs: ms(c.grpcService?.timeout, DEFAULT_CHECK_TIMEOUT_MS),
    failureModeAllow: c.failureModeAllow,
    statusOnError: code >= 100 ? code : DEFAULT_STATUS_ON_ERROR,
    clearRouteCache: c.clearRouteCache,
    metadata: c.grpcService?.initialMetadata ?? [],
  };
}

function accessLogSettings(hcm: HttpConnectionManager, path: string, errors: string[]): AccessLogSettings | undefined {
  const grpcLogs = hcm.accessLog.filter((a) => a.typedConfig?.typeUrl === EXTENSION.grpcAccessLog);
  const first = grpcLogs[0];
  if (first === undefined) return undefined;
  const decoded = decode(`${path}.access_log`, first.typedConfig?.value ?? new Uint8Array(), (b) => HttpGrpcAccessLogConfig.decode(b));
  if (!decoded.ok) {
    errors.push(...decoded.errors);
    return undefined;
  }
  const common = decoded.value.commonConfig;
  const cluster = common?.grpcService?.envoyGrpc?.clusterName ?? "";
  if (cluster === "") {
    errors.push(`${path}.access_log[0].common_config.grpc_service.envoy_grpc.cluster_name: required`);
    return undefined;
  }
  return {
    logName: common?.logName ?? "",
    cluster,
    requestHeaders: decoded.value.additionalRequestHeadersToLog.map((h) => h.toLowerCase()),
    bufferFlushMs: ms(common?.bufferFlushInterval, DEFAULT_BUFFER_FLUSH_MS),
  };
}

function endpointsOf(cla: ClusterLoadAssignment, path: string, errors: string[]): Endpoint[] {
  const out: Endpoint[] = [];
  cla.endpoints.forEach((locality, li) =>
    locality.lbEndpoints.forEach((lb, ei) => {
      const sa = lb.endpoint?.address?.socketAddress;
      const at = `${path}.endpoints[${li}].lb_endpoints[${ei}].endpoint.address.socket_address`;
      const port = sa?.portValue ?? 0;
      if (sa === undefined || sa.address === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
        errors.push(`${at}: needs an address and a port in 1..65535`);
        return;
      }
      const excluded = lb.healthStatus === HealthStatus.UNHEALTHY || lb.healthStatus === HealthStatus.DRAINING || lb.healthStatus === HealthStatus.TIMEOUT;
      if (!excluded) out.push({ host: sa.address, port });
    }),
  );
  return out;
}

export function clusterSettings(cluster: Cluster): Compiled<ClusterSettings> {
  const path = `cluster "${cluster.name}"`;
  const errors: string[] = [];
  if (cluster.name === "") errors.push(`${path}.name: must not be empty`);
  if (cluster.type === Cluster_DiscoveryType.EDS) {
    if (cluster.edsClusterConfig?.edsConfig?.ads === undefined) errors.push(`${path}.eds_cluster_config.eds_config.ads: required (endpoints come over ADS)`);
    const edsName = cluster.edsClusterConfig?.serviceName || cluster.name;
    return result(errors, () => ({ name: cluster.name, edsName }));
  }
  const type = cluster.type ?? Cluster_DiscoveryType.STATIC;
  if (type !== Cluster_DiscoveryType.STATIC && type !== Cluster_DiscoveryType.STRICT_DNS) {
    errors.push(`${path}.type: ${Cluster_DiscoveryType[type] ?? String(type)} is not supported (EDS, STATIC, STRICT_DNS)`);
    return { ok: false, errors };
  }
  if (cluster.loadAssignment === undefined) errors.push(`${path}.load_assignment: required on a ${Cluster_DiscoveryType[type] ?? ""} cluster`);
  const endpoints = cluster.loadAssignment === undefined ? [] : endpointsOf(cluster.loadAssignment, `${path}.load_assignment`, errors);
  return result(errors, () => ({ name: cluster.name, endpoints }));
}

export function endpointSettings(cla: ClusterLoadAssignment): Compiled<EndpointSettings> {
  const path = `cluster_load_assignment "${cla.clusterName}"`;
  const errors: string[] = [];
  if (cla.clusterName === "") errors.push(`${path}.cluster_name: must not be empty`);
  const endpoints = endpointsOf(cla, path, errors);
  return result(errors, () => ({ clusterName: cla.clusterName, endpoints }));
}
