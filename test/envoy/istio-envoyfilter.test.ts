import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { GATEWAY_GROUP_HEADER } from "../../src/routing/index.js";
import { validateEnvoyConfig } from "../support/envoy-config.js";

const HTTP_FILTER = "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter";

interface EnvoyFilter {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    workloadSelector: { labels: Record<string, string> };
    configPatches: {
      applyTo: string;
      match: { context: string; listener: { portNumber: number; filterChain: { filter: { name: string; subFilter: { name: string } } } } };
      patch: { operation: string; value: { name: string; typed_config: Record<string, unknown> } };
    }[];
  };
}

const filter = parse(readFileSync(new URL("../../istio/base/ext-authz-envoyfilter.yaml", import.meta.url), "utf8")) as EnvoyFilter;

describe("istio/base/ext-authz-envoyfilter.yaml", () => {
  it("is an EnvoyFilter patching the gateway's HTTP filters before the router", () => {
    assert.equal(filter.apiVersion, "networking.istio.io/v1alpha3");
    assert.equal(filter.kind, "EnvoyFilter");
    assert.deepEqual(filter.spec.workloadSelector.labels, { istio: "ingressgateway" });
    const [p] = filter.spec.configPatches;
    assert.ok(p !== undefined && filter.spec.configPatches.length === 1);
    assert.equal(p.applyTo, "HTTP_FILTER");
    assert.equal(p.match.context, "GATEWAY");
    assert.equal(p.match.listener.filterChain.filter.name, "envoy.filters.network.http_connection_manager");
    assert.equal(p.match.listener.filterChain.filter.subFilter.name, "envoy.filters.http.router");
    assert.equal(p.patch.operation, "INSERT_BEFORE");
  });

  it("its filter passes Envoy's own protos with no unknown field, and routes again after Check", () => {
    const value = filter.spec.configPatches[0]?.patch.value;
    assert.ok(value !== undefined);
    assert.deepEqual(validateEnvoyConfig(HTTP_FILTER, value), []);
    const c = value.typed_config;
    assert.equal(c["@type"], "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz");
    assert.equal(c.clear_route_cache, true, "without it the cluster header never changes the route");
    assert.equal(c.failure_mode_allow, false, "fail closed");
    assert.equal(c.transport_api_version, "V3");
    assert.deepEqual(c.status_on_error, { code: "ServiceUnavailable" });
  });

  it("points at Istio's outbound cluster for the authz Service, with an authority free of '|'", () => {
    const grpc = filter.spec.configPatches[0]?.patch.value.typed_config.grpc_service as { envoy_grpc: { cluster_name: string; authority: string }; timeout: string };
    assert.match(grpc.envoy_grpc.cluster_name, /^outbound\|\d+\|\|[a-z0-9.-]+\.svc\.cluster\.local$/);
    assert.doesNotMatch(grpc.envoy_grpc.authority, /\|/);
    assert.equal(grpc.envoy_grpc.cluster_name.split("||")[1], grpc.envoy_grpc.authority);
    assert.match(grpc.timeout, /^\d+(\.\d+)?s$/);
  });

  it("tells Check its gateway group (default) in the gRPC initial metadata", () => {
    const grpc = filter.spec.configPatches[0]?.patch.value.typed_config.grpc_service as { initial_metadata?: { key: string; value: string }[] };
    assert.deepEqual(grpc.initial_metadata, [{ key: GATEWAY_GROUP_HEADER, value: "default" }]);
  });

  it("the strict validator rejects a misspelt field inside the typed config (the test can fail)", () => {
    const value = structuredClone(filter.spec.configPatches[0]?.patch.value);
    assert.ok(value !== undefined);
    value.typed_config.clear_route_cahce = true;
    assert.notDeepEqual(validateEnvoyConfig(HTTP_FILTER, value), []);
  });
});
