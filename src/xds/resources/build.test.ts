import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cluster, Cluster_DiscoveryType } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import type { LbEndpoint } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint_components";
import { HealthStatus } from "@envoyproxy/protos/envoy/config/core/v3/health_check";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { HttpConnectionManager } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import { HttpGrpcAccessLogConfig } from "@envoyproxy/protos/envoy/extensions/access_loggers/grpc/v3/als";
import { ExtAuthz } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { HttpProtocolOptions } from "@envoyproxy/protos/envoy/extensions/upstreams/http/v3/http_protocol_options";
import { TicketplaneError } from "../../common/errors.js";
import { buildGatewayResources, tryBuildGatewayResources } from "./build.js";
import type { BuiltResource, GatewayModel } from "./model.js";
import { app, pod, sampleModel } from "./model.fixture.js";
import { EXTENSION_NAMES, EXTENSION_TYPE_URLS, TYPE_URLS } from "./type-urls.js";

const find = (rs: BuiltResource[], typeUrl: string, name: string): BuiltResource => {
  const r = rs.find((x) => x.typeUrl === typeUrl && x.name === name);
  assert.ok(r, `${name} of ${typeUrl} missing`);
  return r;
};

function firstEndpoint(rs: BuiltResource[], name: string): LbEndpoint | undefined {
  return ClusterLoadAssignment.decode(find(rs, TYPE_URLS.endpoints, name).encoded).endpoints[0]?.lbEndpoints[0];
}

function hcmOf(rs: BuiltResource[]): HttpConnectionManager {
  const listener = Listener.decode(find(rs, TYPE_URLS.listener, "ticketplane-http").encoded);
  const any = listener.filterChains[0]?.filters[0]?.typedConfig;
  assert.equal(any?.typeUrl, EXTENSION_TYPE_URLS.httpConnectionManager);
  return HttpConnectionManager.decode(any.value);
}

describe("buildGatewayResources", () => {
  const model = sampleModel();
  const built = buildGatewayResources(model);

  it("builds every resource in push order, sorted by name", () => {
    assert.deepEqual(
      built.map((r) => `${r.typeUrl.split(".").at(-1)} ${r.name}`),
      [
        "Cluster apps/shiny-admin/adm-0",
        "Cluster apps/shiny/shiny-a",
        "Cluster apps/shiny/shiny-b",
        "Cluster ticketplane-als",
        "Cluster ticketplane-authz",
        "Cluster ticketplane-resolver",
        "ClusterLoadAssignment apps/shiny-admin/adm-0",
        "ClusterLoadAssignment apps/shiny/shiny-a",
        "ClusterLoadAssignment apps/shiny/shiny-b",
        "Listener ticketplane-http",
        "RouteConfiguration ticketplane-routes",
      ],
    );
  });

  it("is deterministic: same model, or reordered apps and pods, gives identical bytes", () => {
    const reordered: GatewayModel = { ...model, apps: [...model.apps].reverse().map((a) => ({ ...a, pods: [...a.pods].reverse() })) };
    for (const other of [buildGatewayResources(model), buildGatewayResources(reordered)]) {
      assert.deepEqual(
        other.map((r) => [r.typeUrl, r.name, Buffer.from(r.encoded).toString("base64"), r.pods]),
        built.map((r) => [r.typeUrl, r.name, Buffer.from(r.encoded).toString("base64"), r.pods]),
      );
    }
  });

  it("tags pod clusters and endpoints with their pod key; the routes and shared resources with none", () => {
    const tags = Object.fromEntries(built.map((r) => [`${r.typeUrl.split(".").at(-1)} ${r.name}`, r.pods]));
    assert.deepEqual(tags["Cluster apps/shiny/shiny-a"], ["apps/shiny/shiny-a"]);
    assert.deepEqual(tags["ClusterLoadAssignment apps/shiny/shiny-b"], ["apps/shiny/shiny-b"]);
    for (const shared of ["RouteConfiguration ticketplane-routes", "Cluster ticketplane-als", "Cluster ticketplane-authz", "Cluster ticketplane-resolver", "Listener ticketplane-http"]) {
      assert.deepEqual(tags[shared], [], shared);
    }
  });

  it("tags the routes with the cluster prefix of every app they route to, read from the routes themselves", () => {
    const apps = Object.fromEntries(built.map((r) => [`${r.typeUrl.split(".").at(-1)} ${r.name}`, r.apps ?? []]));
    // sampleModel: shiny, shiny-admin and lab (proxy mode, no pods: its pods' route is there all the same).
    assert.deepEqual(apps["RouteConfiguration ticketplane-routes"], ["apps/lab/", "apps/shiny-admin/", "apps/shiny/"]);
    for (const [name, a] of Object.entries(apps)) if (!name.startsWith("RouteConfiguration")) assert.deepEqual(a, [], name);
  });

  for (const n of [500, 8_000]) {
    it(`a pod added to an app of ${n} changes only its own Cluster and ClusterLoadAssignment: the routes are the same bytes`, () => {
      const pods = Array.from({ length: n + 1 }, (_, i) => pod(`p${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
      const before = buildGatewayResources(sampleModel({ apps: [app({ name: "big", pods: pods.slice(0, n) })] }));
      const after = buildGatewayResources(sampleModel({ apps: [app({ name: "big", pods })] }));
      const bytes = (rs: BuiltResource[]): Map<string, string> => new Map(rs.map((r) => [`${r.typeUrl.split(".").at(-1)} ${r.name}`, Buffer.from(r.encoded).toString("base64")]));
      const [was, now] = [bytes(before), bytes(after)];
      const routes = "RouteConfiguration ticketplane-routes";
      assert.ok(was.has(routes) && was.get(routes) === now.get(routes), "the RouteConfiguration is byte for byte the same");
      const changed = [...now].filter(([k, v]) => was.get(k) !== v).map(([k]) => k);
      const gone = [...was.keys()].filter((k) => !now.has(k));
      assert.deepEqual([changed, gone], [[`Cluster apps/big/p${n}`, `ClusterLoadAssignment apps/big/p${n}`], []]);
    });
  }

  it("makes pod clusters EDS over ADS, and their endpoints HEALTHY even while the pod is not (Envoy drops EDS-DRAINING hosts)", () => {
    const c = Cluster.decode(find(built, TYPE_URLS.cluster, "apps/shiny/shiny-a").encoded);
    assert.equal(c.type, Cluster_DiscoveryType.EDS);
    assert.deepEqual(c.edsClusterConfig?.edsConfig?.ads, {});
    assert.equal(firstEndpoint(built, "apps/shiny/shiny-a")?.healthStatus, HealthStatus.HEALTHY);
    // Whether a pod takes new tickets is the ticket core's business: every endpoint goes out HEALTHY, so existing tickets always reach their pod.
    const draining = firstEndpoint(built, "apps/shiny/shiny-b");
    assert.equal(draining?.healthStatus, HealthStatus.HEALTHY);
    assert.equal(draining?.endpoint?.address?.socketAddress?.address, "10.0.0.2");
    assert.equal(draining?.endpoint?.address?.socketAddress?.portValue, 3838);
  });

  it("makes the gRPC clusters HTTP/2 with inline endpoints: STATIC for IPs, STRICT_DNS for names", () => {
    const als = Cluster.decode(find(built, TYPE_URLS.cluster, "ticketplane-als").encoded);
    assert.equal(als.type, Cluster_DiscoveryType.STRICT_DNS);
    assert.equal(als.loadAssignment?.clusterName, "ticketplane-als");
    const opts = als.typedExtensionProtocolOptions[EXTENSION_NAMES.httpProtocolOptions];
    assert.equal(opts?.typeUrl, EXTENSION_TYPE_URLS.httpProtocolOptions);
    assert.ok(HttpProtocolOptions.decode(opts.value).explicitHttpConfig?.http2ProtocolOptions);
    const authz = Cluster.decode(find(built, TYPE_URLS.cluster, "ticketplane-authz").encoded);
    assert.equal(authz.type, Cluster_DiscoveryType.STATIC);
    const resolver = Cluster.decode(find(built, TYPE_URLS.cluster, "ticketplane-resolver").encoded);
    assert.deepEqual(resolver.typedExtensionProtocolOptions, {});
  });

  it("builds the HCM: RDS over ADS, websockets, gRPC access log with flush interval", () => {
    const hcm = hcmOf(built);
    assert.equal(hcm.rds?.routeConfigName, "ticketplane-routes");
    assert.deepEqual(hcm.rds?.configSource?.ads, {});
    assert.deepEqual(hcm.upgradeConfigs.map((u) => u.upgradeType), ["websocket"]);
    assert.deepEqual(hcm.accessLogOptions?.accessLogFlushInterval, { seconds: 10, nanos: 0 });
    const log = hcm.accessLog[0];
    assert.equal(log?.name, "envoy.access_loggers.http_grpc");
    assert.equal(log.typedConfig?.typeUrl, EXTENSION_TYPE_URLS.httpGrpcAccessLog);
    const als = HttpGrpcAccessLogConfig.decode(log.typedConfig.value);
    assert.equal(als.commonConfig?.grpcService?.envoyGrpc?.clusterName, "ticketplane-als");
    assert.deepEqual(als.additionalRequestHeadersToLog, ["x-ticketplane-ticket", "x-ticketplane-app", "x-request-id", "upgrade"]);
  });

  it("puts ext_authz (fail closed, 503, clear_route_cache, timeout) before the router", () => {
    const hcm = hcmOf(built);
    assert.deepEqual(hcm.httpFilters.map((f) => f.name), ["envoy.filters.http.ext_authz", "envoy.filters.http.router"]);
    const authz = ExtAuthz.decode(hcm.httpFilters[0]?.typedConfig?.value ?? new Uint8Array());
    assert.equal(authz.clearRouteCache, true);
    assert.equal(authz.failureModeAllow, false);
    assert.equal(authz.statusOnError?.code, 503);
    assert.equal(authz.grpcService?.envoyGrpc?.clusterName, "ticketplane-authz");
    assert.deepEqual(authz.grpcService?.timeout, { seconds: 0, nanos: 500_000_000 });
  });

  it("without extAuthz: no ext_authz filter and no authz cluster", () => {
    const rs = buildGatewayResources(sampleModel({ extAuthz: undefined }));
    assert.deepEqual(hcmOf(rs).httpFilters.map((f) => f.name), ["envoy.filters.http.router"]);
    assert.ok(!rs.some((r) => r.name === "ticketplane-authz"));
  });

  it("returns path-prefixed errors for a model that yields broken resources, and throws a TicketplaneError from the strict variant", () => {
    const broken = sampleModel({
      listener: { address: "0.0.0.0", port: 70000 },
      apps: [app({ name: "a", pathPrefix: "a/", pods: [pod("p", "10.0.0.1"), pod("p", "10.0.0.2"), pod("q", "", 0)] })],
    });
    const result = tryBuildGatewayResources(broken);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    for (const expected of [
      /^clusters\[\d\]\.name: duplicate cluster name "apps\/a\/p"/,
      /^endpoints\[2\]\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address: must not be empty/,
      /^endpoints\[2\]\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.port_value: 0 is not a port/,
      /^listener\.address\.socket_address\.port_value: 70000 is not a port/,
      /^routes\.virtual_hosts\[0\]\.routes\[0\]\.match\.prefix: "a\/" must start with "\/"/,
    ]) {
      assert.ok(errors.some((e) => expected.test(e)), `no error matching ${expected}; got:\n${errors.join("\n")}`);
    }
    assert.throws(() => buildGatewayResources(broken), (e: unknown) => e instanceof TicketplaneError && e.code === "TP_INTERNAL");
  });
});
