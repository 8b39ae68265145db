/**
 * The filter chain's decision (admission.ts) over a GatewayState fed real
 * encoded resources, with Check answers given by the test: the Envoy
 * behaviours the integration test cannot reach with our own Check.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { HttpConnectionManager } from "@envoyproxy/protos/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager";
import { ExtAuthz, ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import type { CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { buildClusterLoadAssignment } from "../../xds/resources/cluster-load-assignment.js";
import { buildPodCluster } from "../../xds/resources/cluster.js";
import { type Admission, admit } from "./admission.js";
import type { CheckResult, DownstreamRequest } from "./check-client.js";
import { GatewayState } from "./gateway-state.js";
import { TYPE } from "./resources.js";

const HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

function listener(authz: Partial<ExtAuthz> | undefined): Uint8Array {
  const filters = [
    ...(authz === undefined ? [] : [{ name: "envoy.filters.http.ext_authz", typedConfig: { typeUrl: "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz", value: Buffer.from(ExtAuthz.encode(ExtAuthz.fromPartial({ grpcService: { envoyGrpc: { clusterName: "authz" } }, ...authz })).finish()) } }]),
    { name: "envoy.filters.http.router", typedConfig: { typeUrl: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router", value: Buffer.alloc(0) } },
  ];
  const hcm = HttpConnectionManager.fromPartial({ statPrefix: "t", rds: { routeConfigName: "routes", configSource: { ads: {} } }, httpFilters: filters });
  return Listener.encode(Listener.fromPartial({ name: "l", filterChains: [{ filters: [{ name: "hcm", typedConfig: { typeUrl: HCM, value: Buffer.from(HttpConnectionManager.encode(hcm).finish()) } }] }] })).finish();
}

/** The app's route table: a request naming a pod's cluster goes there; anything else takes `fallback`. */
function routeTable(fallback: Record<string, unknown>): Uint8Array {
  return RouteConfiguration.encode(
    RouteConfiguration.fromPartial({
      name: "routes",
      virtualHosts: [
        {
          name: "any",
          domains: ["*"],
          routes: [
            { name: "pods", match: { prefix: "/app/", headers: [{ name: "x-c", stringMatch: { prefix: "pod-" } }] }, route: { clusterHeader: "x-c", prefixRewrite: "/" } },
            { name: "fallback", match: { prefix: "/app/" }, ...fallback },
          ],
        },
      ],
    }),
  ).finish();
}

const ROUTES = routeTable({ directResponse: { status: 503, body: { inlineString: "no ticket" } } });

/** The app at zero: its fallback goes to the resolver with Check off on that route (what the route builder publishes in proxy mode). */
const ROUTES_AT_ZERO = routeTable({
  route: { cluster: "pod-a" },
  typedPerFilterConfig: { "envoy.filters.http.ext_authz": { typeUrl: "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute", value: Buffer.from(ExtAuthzPerRoute.encode({ disabled: true }).finish()) } },
});

function state(authz: Partial<ExtAuthz> | undefined, routes = ROUTES): GatewayState {
  const steps: [string, string, Uint8Array][] = [
    [TYPE.cluster, "pod-a", Cluster.encode(buildPodCluster("pod-a")).finish()],
    [TYPE.cluster, "pod-empty", Cluster.encode(buildPodCluster("pod-empty")).finish()],
    [TYPE.endpoints, "pod-a", ClusterLoadAssignment.encode(buildClusterLoadAssignment("pod-a", [{ host: "127.0.0.1", port: 7001 }])).finish()],
    [TYPE.endpoints, "pod-empty", ClusterLoadAssignment.encode(ClusterLoadAssignment.fromPartial({ clusterName: "pod-empty" })).finish()],
    [TYPE.listener, "l", listener(authz)],
    [TYPE.routes, "routes", routes],
  ];
  let s = new GatewayState();
  for (const [type, name, bytes] of steps) {
    const next = s.apply(type as typeof TYPE.cluster, [{ name, version: "1", bytes }], []);
    if (!next.ok) throw new Error(next.errors.join("; "));
    s = next.value;
  }
  return s;
}

function downstream(path = "/app/x", headers: Record<string, string> = {}): DownstreamRequest & { path: string } {
  return { method: "GET", path, authority: "h", scheme: "http", protocol: "HTTP/1.1", requestId: "r1", headers: new Map(Object.entries(headers).map(([k, v]) => [k, [v]])), source: { address: "127.0.0.1", port: 1 }, destination: { address: "127.0.0.1", port: 2 } };
}

const ok = (headers: [string, string][], extra: Partial<NonNullable<CheckResponse["okResponse"]>> = {}): CheckResult => ({
  kind: "response",
  response: { status: { code: 0, message: "", details: [] }, okResponse: { headers: headers.map(([key, value]) => ({ header: { key, value, rawValue: Buffer.alloc(0) }, append: false, appendAction: 0, keepEmptyValue: false })), headersToRemove: [], responseHeadersToAdd: [], queryParametersToSet: [], queryParametersToRemove: [], ...extra } },
});

async function decide(authz: Partial<ExtAuthz> | undefined, result: CheckResult, request = downstream(), upgrade = false): Promise<Admission> {
  return admit({ state: state(authz), check: () => Promise.resolve(result), pick: () => 0 }, request, upgrade);
}

const summary = (a: Admission): string => (a.kind === "reply" ? `reply ${a.status} ${a.body}` : `forward ${a.cluster} ${a.path} ${a.endpoint.host}:${a.endpoint.port}`);

describe("admission: ext_authz then the router, as Envoy orders them", () => {
  it("routes on the header Check set when clear_route_cache is on", async () => {
    assert.equal(summary(await decide({ clearRouteCache: true }, ok([["x-c", "pod-a"]]))), "forward pod-a /x 127.0.0.1:7001");
  });

  it("without clear_route_cache keeps the route picked before Check: the header is ignored for routing", async () => {
    assert.equal(summary(await decide({ clearRouteCache: false }, ok([["x-c", "pod-a"]]))), "reply 503 no ticket");
  });

  it("answers 503 'no healthy upstream' for a cluster without endpoints, and cluster_not_found (503) for a cluster it lacks", async () => {
    assert.equal(summary(await decide({ clearRouteCache: true }, ok([["x-c", "pod-empty"]]))), "reply 503 no healthy upstream");
    const missing = await decide({ clearRouteCache: true }, ok([["x-c", "pod-zzz"]]));
    assert.equal(summary(missing), "reply 503 ");
    assert.equal(missing.kind === "reply" && missing.facts.noClusterFound, true);
  });

  it("fails closed with status_on_error (default 403), or lets the request through with failure_mode_allow", async () => {
    const error: CheckResult = { kind: "error", reason: "UNAVAILABLE" };
    assert.equal(summary(await decide({}, error)), "reply 403 ");
    assert.equal(summary(await decide({ statusOnError: { code: 503 } }, error)), "reply 503 ");
    // Let through unchecked, the client's own header routes — why our listener never fails open.
    assert.equal(summary(await decide({ failureModeAllow: true }, error, downstream("/app/x", { "x-c": "pod-a" }))), "forward pod-a /x 127.0.0.1:7001");
  });

  it("sends a denial's status (403 when unset), headers and body", async () => {
    const denied: CheckResult = { kind: "response", response: { status: { code: 7, message: "", details: [] }, deniedResponse: { headers: [{ header: { key: "x-why", value: "no", rawValue: Buffer.alloc(0) }, append: false, appendAction: 0, keepEmptyValue: false }], body: "go away" } } };
    const a = await decide({}, denied);
    assert.equal(summary(a), "reply 403 go away");
    assert.deepEqual(a.kind === "reply" ? a.headers.get("x-why") : undefined, ["no"]);
    assert.equal(a.kind === "reply" && a.facts.unauthorized, true);
  });

  it("applies headers_to_remove and query parameters to the request that goes upstream", async () => {
    const request = downstream("/app/x?keep=1&drop=2", { "x-c": "pod-a", authorization: "secret" });
    const a = await decide({ clearRouteCache: true }, ok([], { headersToRemove: ["Authorization"], queryParametersToSet: [{ key: "added", value: "3" }], queryParametersToRemove: ["drop"] }), request);
    assert.equal(summary(a), "forward pod-a /x?keep=1&added=3 127.0.0.1:7001");
    assert.equal(request.headers.has("authorization"), false);
  });

  it("refuses a WebSocket upgrade the listener and route do not allow (403)", async () => {
    assert.equal(summary(await decide({ clearRouteCache: true }, ok([["x-c", "pod-a"]]), downstream(), true)), "reply 403 ");
  });

  it("skips Check on a route that disables ext_authz (per route), and only when that route is the one picked first", async () => {
    let checks = 0;
    const counting = (result: CheckResult) => () => {
      checks++;
      return Promise.resolve(result);
    };
    const denied: CheckResult = { kind: "response", response: { status: { code: 7, message: "", details: [] }, deniedResponse: { status: { code: 503 }, headers: [], body: "waiting room" } } };
    const atZero = state({}, ROUTES_AT_ZERO);
    assert.equal(summary(await admit({ state: atZero, check: counting(denied), pick: () => 0 }, downstream(), false)), "forward pod-a /app/x 127.0.0.1:7001");
    assert.equal(checks, 0);
    // A request that picks the pods route first (it carries the cluster header) still goes through Check.
    assert.equal(summary(await admit({ state: atZero, check: counting(denied), pick: () => 0 }, downstream("/app/x", { "x-c": "pod-a" }), false)), "reply 503 waiting room");
    assert.equal(checks, 1);
  });

  it("answers 503 before ADS has given a listener and routes, and 404 where no route matches", async () => {
    assert.equal(summary(await admit({ state: new GatewayState(), check: () => Promise.resolve(ok([])), pick: () => 0 }, downstream(), false)).startsWith("reply 503"), true);
    assert.equal(summary(await decide(undefined, ok([]), downstream("/other"))), "reply 404 ");
  });
});
