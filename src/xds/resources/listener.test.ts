import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExtAuthz } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { HttpConnectionManager } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import { packAny } from "./envoy-values.js";
import { buildHttpConnectionManager, buildListener, listenerErrors } from "./listener.js";
import { sampleModel } from "./model.fixture.js";
import { EXTENSION_TYPE_URLS } from "./type-urls.js";

describe("listener", () => {
  it("builds a valid listener on the model's address", () => {
    const l = buildListener(sampleModel());
    assert.deepEqual(listenerErrors(l), []);
    assert.equal(l.address?.socketAddress?.portValue, 8080);
  });

  it("sends the gateway group to Check as gRPC initial metadata", () => {
    const hcm = buildHttpConnectionManager(sampleModel({ group: "edge" }));
    const authz = ExtAuthz.decode(hcm.httpFilters[0]?.typedConfig?.value ?? new Uint8Array());
    assert.deepEqual(authz.grpcService?.initialMetadata.map((h) => [h.key, h.value]), [["x-ticketplane-gateway", "edge"]]);
  });

  it("validator reports an ext_authz that does not send the gateway group", () => {
    const listener = buildListener(sampleModel());
    const filter = listener.filterChains[0]?.filters[0];
    assert.ok(filter?.typedConfig);
    const hcm = HttpConnectionManager.decode(filter.typedConfig.value);
    const authzFilter = hcm.httpFilters[0];
    assert.ok(authzFilter?.typedConfig);
    const authz = ExtAuthz.decode(authzFilter.typedConfig.value);
    authzFilter.typedConfig = packAny(EXTENSION_TYPE_URLS.extAuthz, ExtAuthz.encode({ ...authz, grpcService: { ...authz.grpcService, initialMetadata: [] } }).finish());
    filter.typedConfig = packAny(EXTENSION_TYPE_URLS.httpConnectionManager, HttpConnectionManager.encode(hcm).finish());
    assert.deepEqual(listenerErrors(listener), [
      "listener.filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.grpc_service.initial_metadata: must send x-ticketplane-gateway (Check matches only that gateway group's apps)",
    ]);
  });

  it("validator decodes the HCM and reports a fail-open ext_authz, no route-cache clearing, and the router not last, with paths", () => {
    const hcm = buildHttpConnectionManager(sampleModel());
    const authz = ExtAuthz.decode(hcm.httpFilters[0]?.typedConfig?.value ?? new Uint8Array());
    const broken = HttpConnectionManager.fromPartial({
      ...hcm,
      rds: { routeConfigName: "" },
      httpFilters: [
        hcm.httpFilters[1] ?? {},
        { name: "envoy.filters.http.ext_authz", typedConfig: packAny(EXTENSION_TYPE_URLS.extAuthz, ExtAuthz.encode({ ...authz, clearRouteCache: false, failureModeAllow: true }).finish()) },
      ],
    });
    const listener = buildListener(sampleModel());
    const filter = listener.filterChains[0]?.filters[0];
    assert.ok(filter);
    filter.typedConfig = packAny(EXTENSION_TYPE_URLS.httpConnectionManager, HttpConnectionManager.encode(broken).finish());
    const p = "listener.filter_chains[0].filters[0].typed_config";
    assert.deepEqual(listenerErrors(listener), [
      `${p}.rds.route_config_name: must not be empty`,
      `${p}.rds.config_source.ads: required`,
      `${p}.http_filters: the last filter must be envoy.filters.http.router`,
      `${p}.http_filters[1].typed_config.clear_route_cache: must be true (the route depends on the cluster header Check sets)`,
      `${p}.http_filters[1].typed_config.failure_mode_allow: must be false (fail closed)`,
    ]);
  });
});
