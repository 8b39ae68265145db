import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { FilterConfig, Route, RouteAction_ClusterNotFoundResponseCode, VirtualHost } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import type { StringMatcher } from "@envoyproxy/protos/envoy/type/matcher/v3/string";
import { type EnvoyTarget, extAuthzDisabled, selectRoute, selectTarget, selectVirtualHost } from "./envoy-route-match.js";

const vh = (name: string, domains: string[], prefixes: string[] = ["/"]): VirtualHost =>
  VirtualHost.fromPartial({ name, domains, routes: prefixes.map((prefix) => ({ name: `${name}${prefix}`, match: { prefix }, directResponse: { status: 200 } })) });

function config(virtualHosts: VirtualHost[], ignorePortInHostMatching = true): RouteConfiguration {
  return RouteConfiguration.fromPartial({ name: "rc", virtualHosts, ignorePortInHostMatching });
}

describe("envoy-route-match (the emulator itself)", () => {
  const rc = config([vh("any", ["*"]), vh("exact", ["a.x.com"]), vh("suffix", ["*.x.com"]), vh("longer", ["*.a.x.com"]), vh("prefix", ["foo.*"])]);
  const host = (authority: string): string | undefined => selectVirtualHost(rc, authority)?.name;

  it("searches domains as documented: exact, longest suffix wildcard, prefix wildcard, then '*'", () => {
    assert.equal(host("a.x.com"), "exact");
    assert.equal(host("b.a.x.com"), "longer");
    assert.equal(host("b.x.com"), "suffix");
    assert.equal(host("foo.x.com"), "suffix");
    assert.equal(host("foo.bar"), "prefix");
    assert.equal(host(".x.com"), "any");
    assert.equal(host("A.X.COM"), "exact");
  });

  it("ignores the port only when told to, cutting at the last ':' outside brackets", () => {
    assert.equal(host("a.x.com:8080"), "exact");
    assert.equal(host("a.x.com:abc"), "exact");
    const strict = config([vh("exact", ["a.x.com"]), vh("v6", ["[::1]"])], false);
    assert.equal(selectVirtualHost(strict, "a.x.com:8080"), undefined);
    assert.equal(selectVirtualHost(config([vh("v6", ["[::1]"])]), "[::1]:80")?.name, "v6");
  });

  it("tries only the chosen virtual host's routes, in order, with case-sensitive prefixes and exact headers", () => {
    const foo = VirtualHost.fromPartial({
      name: "foo",
      domains: ["foo.com"],
      routes: [
        { name: "pod", match: { prefix: "/a/", headers: [{ name: "x-pod", stringMatch: { exact: "p" } }] }, directResponse: { status: 200 } },
        { name: "fallback", match: { prefix: "/a/" }, directResponse: { status: 503 } },
      ],
    });
    const routes = config([vh("any", ["*"], ["/b/"]), foo]);
    const route = (authority: string, path: string, headers: Record<string, string> = {}): string | undefined => selectRoute(routes, { authority, path, headers })?.name;
    assert.equal(route("foo.com", "/b/x"), undefined);
    assert.equal(route("bar.com", "/b/x"), "any/b/");
    assert.equal(route("foo.com", "/a/x", { "x-pod": "p" }), "pod");
    assert.equal(route("foo.com", "/a/x", { "x-pod": "q" }), "fallback");
    assert.equal(route("foo.com", "/a/x"), "fallback");
    assert.equal(route("foo.com", "/A/x"), undefined);
    assert.equal(route("foo.com", "/a"), undefined);
  });

  it("rejects what Envoy rejects and refuses what it does not emulate", () => {
    assert.throws(() => selectVirtualHost(config([vh("a", ["a.com"]), vh("b", ["A.com"])]), "a.com"), /Duplicate entry of domain a\.com/);
    assert.throws(() => selectVirtualHost(config([vh("a", ["*"]), vh("b", ["*"])]), "a.com"), /single wildcard/);
    const regex = config([VirtualHost.fromPartial({ name: "r", domains: ["*"], routes: [{ name: "re", match: { safeRegex: { regex: ".*" } }, directResponse: { status: 200 } }] })]);
    assert.throws(() => selectRoute(regex, { authority: "a", path: "/" }), /does not emulate/);
    const header = (stringMatch: Partial<StringMatcher>): RouteConfiguration =>
      config([VirtualHost.fromPartial({ name: "h", domains: ["*"], routes: [{ name: "r", match: { prefix: "/", headers: [{ name: "x", stringMatch }] }, directResponse: { status: 200 } }] })]);
    for (const unsupported of [{ suffix: "a" }, { prefix: "a", ignoreCase: true }, { exact: "a", prefix: "a" }, {}] satisfies Partial<StringMatcher>[]) {
      assert.throws(() => selectRoute(header(unsupported), { authority: "a", path: "/", headers: { x: "a" } }), /does not emulate/, JSON.stringify(unsupported));
    }
  });

  describe("the router's target", () => {
    const CLUSTERS = new Set(["ns/a/p1", "ns/a/p2", "ns/ab/p1", "internal"]);
    const rc = config([
      VirtualHost.fromPartial({
        name: "any",
        domains: ["*"],
        routes: [
          { name: "a:pods", match: { prefix: "/a/", headers: [{ name: "X-Cluster", stringMatch: { prefix: "ns/a/" } }] }, route: { clusterHeader: "X-Cluster" } },
          { name: "a:fallback", match: { prefix: "/a/" }, directResponse: { status: 503 } },
          { name: "fixed", match: { prefix: "/fixed/" }, route: { cluster: "internal" } },
          { name: "gone", match: { prefix: "/gone/" }, route: { cluster: "nowhere", clusterNotFoundResponseCode: RouteAction_ClusterNotFoundResponseCode.NOT_FOUND } },
          { name: "loose", match: { prefix: "/loose/" }, route: { clusterHeader: "x-cluster" } },
        ],
      }),
    ]);
    const target = (path: string, headers: Record<string, string> = {}): string | undefined => {
      const t: EnvoyTarget | undefined = selectTarget(rc, { authority: "h", path, headers }, CLUSTERS);
      return t === undefined ? undefined : `${t.route.name} ${t.kind === "cluster" ? t.cluster : String(t.status)}`;
    };

    it("reads the cluster from the header cluster_header names, once the route (and its header prefix) matched", () => {
      assert.equal(target("/a/x", { "x-cluster": "ns/a/p2" }), "a:pods ns/a/p2");
      assert.equal(target("/a/x", { "x-cluster": "ns/ab/p1" }), "a:fallback 503", "another app's cluster does not match the prefix ns/a/");
      assert.equal(target("/a/x", { "x-cluster": "internal" }), "a:fallback 503");
      assert.equal(target("/a/x", { "x-cluster": "NS/a/p1" }), "a:fallback 503", "header values are compared case-sensitively");
      assert.equal(target("/a/x"), "a:fallback 503");
    });

    it("answers cluster_not_found_response_code (503 by default) for a cluster the gateway does not have, or a missing header", () => {
      assert.equal(target("/a/x", { "x-cluster": "ns/a/p3" }), "a:pods 503");
      assert.equal(target("/gone/"), "gone 404");
      assert.equal(target("/loose/"), "loose 503");
      assert.equal(target("/loose/", { "x-cluster": "internal" }), "loose internal", "without a header matcher, any cluster can be named");
      assert.equal(target("/fixed/x"), "fixed internal");
      assert.equal(target("/none"), undefined);
    });
  });
});

describe("extAuthzDisabled (ext_authz's per-route setting)", () => {
  const PER_ROUTE = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute";
  const WRAPPED = "type.googleapis.com/envoy.config.route.v3.FilterConfig";
  const perRoute = (disabled: boolean) => ({ typeUrl: PER_ROUTE, value: Buffer.from(ExtAuthzPerRoute.encode(ExtAuthzPerRoute.fromPartial({ disabled })).finish()) });
  const wrapped = (config: ReturnType<typeof perRoute> | undefined, disabled = false) => ({ typeUrl: WRAPPED, value: Buffer.from(FilterConfig.encode(FilterConfig.fromPartial({ ...(config === undefined ? {} : { config }), isOptional: true, disabled })).finish()) });
  const route = (any?: { typeUrl: string; value: Buffer }, filter = "envoy.filters.http.ext_authz") => Route.fromPartial({ name: "r", match: { prefix: "/" }, directResponse: { status: 200 }, typedPerFilterConfig: any === undefined ? {} : { [filter]: any } });

  it("reads disabled bare or inside a FilterConfig, whose own disabled counts too; no setting: Check runs", () => {
    assert.equal(extAuthzDisabled(route()), false);
    assert.equal(extAuthzDisabled(route(perRoute(true))), true);
    assert.equal(extAuthzDisabled(route(perRoute(false))), false);
    assert.equal(extAuthzDisabled(route(wrapped(perRoute(true)))), true);
    assert.equal(extAuthzDisabled(route(wrapped(perRoute(false)))), false);
    assert.equal(extAuthzDisabled(route(wrapped(undefined, true))), true);
    assert.equal(extAuthzDisabled(route(perRoute(true), "envoy.filters.http.cors")), false, "another filter's setting");
  });

  it("refuses a setting it does not emulate", () => {
    assert.throws(() => extAuthzDisabled(route({ typeUrl: "type.googleapis.com/other", value: Buffer.alloc(0) })), /does not emulate/);
  });
});
