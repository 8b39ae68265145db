/**
 * Listener (LDS) `ticketplane-http`: one filter chain with an HTTP connection
 * manager that takes its routes from RDS over ADS, logs to our access-log
 * service over gRPC, and (when the gateway is the entry point) runs ext_authz
 * before the router.
 */
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { ApiVersion } from "@envoyproxy/protos/envoy/config/core/v3/config_source";
import { HttpConnectionManager, HttpConnectionManager_CodecType } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import { HttpGrpcAccessLogConfig } from "@envoyproxy/protos/envoy/extensions/access_loggers/grpc/v3/als";
import { ExtAuthz } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { Router } from "@envoyproxy/protos/envoy/extensions/filters/http/router/v3/router";
import { StatusCode } from "@envoyproxy/protos/envoy/type/v3/http_status";
import { adsConfigSource, checkSocketAddress, duration, packAny, socketAddress } from "./envoy-values.js";
import { GATEWAY_GROUP_HEADER, LOGGED_REQUEST_HEADERS, RESOURCE_NAMES } from "../../routing/index.js";
import type { GatewayModel } from "./model.js";
import { EXTENSION_NAMES, EXTENSION_TYPE_URLS, TYPE_URLS } from "./type-urls.js";

export const LISTENER_TYPE_URL = TYPE_URLS.listener;

/** The access log's `log_name`, as our AccessLogService sees it in each stream's identifier. */
export const ACCESS_LOG_NAME = "ticketplane";

function accessLog(): HttpConnectionManager["accessLog"][number] {
  const config = HttpGrpcAccessLogConfig.fromPartial({
    commonConfig: {
      logName: ACCESS_LOG_NAME,
      grpcService: { envoyGrpc: { clusterName: RESOURCE_NAMES.accessLogCluster } },
      transportApiVersion: ApiVersion.V3,
    },
    additionalRequestHeadersToLog: [...LOGGED_REQUEST_HEADERS],
  });
  return {
    name: EXTENSION_NAMES.httpGrpcAccessLog,
    typedConfig: packAny(EXTENSION_TYPE_URLS.httpGrpcAccessLog, HttpGrpcAccessLogConfig.encode(config).finish()),
  };
}

function extAuthzFilter(group: string, timeoutMs: number): HttpConnectionManager["httpFilters"][number] {
  // Fail closed with a 503 (waiting-room friendly) and re-pick the route
  // after Check has set the cluster header (clear_route_cache). The group goes
  // with every Check, so Check matches only the apps this gateway routes.
  const config = ExtAuthz.fromPartial({
    grpcService: {
      envoyGrpc: { clusterName: RESOURCE_NAMES.authzCluster },
      timeout: duration(timeoutMs),
      initialMetadata: [{ key: GATEWAY_GROUP_HEADER, value: group }],
    },
    transportApiVersion: ApiVersion.V3,
    clearRouteCache: true,
    failureModeAllow: false,
    statusOnError: { code: StatusCode.ServiceUnavailable },
  });
  return { name: EXTENSION_NAMES.extAuthz, typedConfig: packAny(EXTENSION_TYPE_URLS.extAuthz, ExtAuthz.encode(config).finish()), isOptional: false, disabled: false };
}

function routerFilter(): HttpConnectionManager["httpFilters"][number] {
  return { name: EXTENSION_NAMES.router, typedConfig: packAny(EXTENSION_TYPE_URLS.router, Router.encode(Router.fromPartial({})).finish()), isOptional: false, disabled: false };
}

/** The HTTP connection manager of `ticketplane-http`. */
export function buildHttpConnectionManager(model: GatewayModel): HttpConnectionManager {
  const httpFilters = [...(model.extAuthz === undefined ? [] : [extAuthzFilter(model.group, model.extAuthz.timeoutMs)]), routerFilter()];
  return HttpConnectionManager.fromPartial({
    codecType: HttpConnectionManager_CodecType.AUTO,
    statPrefix: "ticketplane_http",
    rds: { configSource: adsConfigSource(), routeConfigName: RESOURCE_NAMES.routes },
    httpFilters,
    upgradeConfigs: [{ upgradeType: "websocket" }],
    accessLog: [accessLog()],
    // Long-lived connections (WebSockets) log periodically and when the
    // upgrade succeeds, not only at their close: that is their activity.
    accessLogOptions: { accessLogFlushInterval: duration(model.accessLog.flushIntervalMs), flushLogOnTunnelSuccessfullyEstablished: true },
  });
}

export function buildListener(model: GatewayModel): Listener {
  const hcm = buildHttpConnectionManager(model);
  return Listener.fromPartial({
    name: RESOURCE_NAMES.listener,
    address: socketAddress(model.listener.address, model.listener.port),
    filterChains: [
      {
        filters: [
          {
            name: EXTENSION_NAMES.httpConnectionManager,
            typedConfig: packAny(EXTENSION_TYPE_URLS.httpConnectionManager, HttpConnectionManager.encode(hcm).finish()),
          },
        ],
      },
    ],
  });
}

function extAuthzErrors(encoded: Uint8Array | undefined, path: string): string[] {
  const config = ExtAuthz.decode(encoded ?? new Uint8Array());
  const errors: string[] = [];
  if (!config.clearRouteCache) errors.push(`${path}.clear_route_cache: must be true (the route depends on the cluster header Check sets)`);
  if (config.failureModeAllow) errors.push(`${path}.failure_mode_allow: must be false (fail closed)`);
  if (!config.grpcService?.envoyGrpc?.clusterName) errors.push(`${path}.grpc_service.envoy_grpc.cluster_name: required`);
  const group = config.grpcService?.initialMetadata.find((h) => h.key === GATEWAY_GROUP_HEADER)?.value;
  if (group === undefined || group === "") errors.push(`${path}.grpc_service.initial_metadata: must send ${GATEWAY_GROUP_HEADER} (Check matches only that gateway group's apps)`);
  return errors;
}

function hcmErrors(hcm: HttpConnectionManager, path: string): string[] {
  const errors: string[] = [];
  if (hcm.statPrefix === "") errors.push(`${path}.stat_prefix: must not be empty`);
  if (hcm.rds === undefined) errors.push(`${path}.rds: required (routes come from RDS)`);
  else {
    if (hcm.rds.routeConfigName === "") errors.push(`${path}.rds.route_config_name: must not be empty`);
    if (hcm.rds.configSource?.ads === undefined) errors.push(`${path}.rds.config_source.ads: required`);
  }
  const names = hcm.httpFilters.map((f) => f.name);
  if (names.at(-1) !== EXTENSION_NAMES.router) errors.push(`${path}.http_filters: the last filter must be ${EXTENSION_NAMES.router}`);
  const authz = names.indexOf(EXTENSION_NAMES.extAuthz);
  if (authz !== -1) errors.push(...extAuthzErrors(hcm.httpFilters[authz]?.typedConfig?.value, `${path}.http_filters[${authz}].typed_config`));
  hcm.httpFilters.forEach((f, i) => {
    if (f.typedConfig === undefined || f.typedConfig.typeUrl === "") errors.push(`${path}.http_filters[${i}].typed_config: required`);
  });
  return errors;
}

/** Errors (path-prefixed) in a Listener our builders must never produce; the HCM's typed_config is decoded and checked too. */
export function listenerErrors(listener: Listener, path = "listener"): string[] {
  const errors: string[] = [];
  if (listener.name === "") errors.push(`${path}.name: must not be empty`);
  errors.push(...checkSocketAddress(listener.address, `${path}.address`));
  if (listener.filterChains.length !== 1) errors.push(`${path}.filter_chains: expected exactly one filter chain, got ${listener.filterChains.length}`);
  listener.filterChains.forEach((chain, ci) => {
    chain.filters.forEach((f, fi) => {
      const fpath = `${path}.filter_chains[${ci}].filters[${fi}]`;
      if (f.name !== EXTENSION_NAMES.httpConnectionManager) errors.push(`${fpath}.name: "${f.name}" is not the HTTP connection manager`);
      else if (f.typedConfig?.typeUrl !== EXTENSION_TYPE_URLS.httpConnectionManager) errors.push(`${fpath}.typed_config: type URL must be ${EXTENSION_TYPE_URLS.httpConnectionManager}`);
      else errors.push(...hcmErrors(HttpConnectionManager.decode(f.typedConfig.value), `${fpath}.typed_config`));
    });
  });
  return errors;
}
