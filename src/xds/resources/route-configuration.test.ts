import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { HeaderMatcher, type Route, FilterConfig } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { selectRoute, selectTarget } from "../../../test/support/envoy-route-match.js";
import { appKey } from "../../config/app-spec.js";
import { RouteTable } from "../../routing/route-table.js";
import { app, sampleModel } from "./model.fixture.js";
import { buildRouteConfiguration, NO_TICKET_BODY, routeConfigurationErrors } from "./route-configuration.js";

/** Envoy's choice (test/support's emulator): the route a request with these headers takes. */
function match(rc: RouteConfiguration, host: string, path: string, headers: Record<string, string> = {}): Route | undefined {
  return selectRoute(rc, { authority: host, path, headers });
}

/** The clusters a gateway fed sampleModel() has. */
const CLUSTERS = new Set(["apps/shiny/shiny-a", "apps/shiny/shiny-b", "apps/shiny-admin/adm-0", "ticketplane-authz", "ticketplane-als", "ticketplane-resolver"]);

/** Where Envoy sends the request: a cluster's name, or `direct:<status>`. */
function target(rc: RouteConfiguration, host: string, path: string, headers: Record<string, string> = {}): string | undefined {
  const t = selectTarget(rc, { authority: host, path, headers }, CLUSTERS);
  return t === undefined ? undefined : t.kind === "cluster" ? t.cluster : `direct:${t.status}`;
}

describe("route configuration", () => {
  const rc = buildRouteConfiguration(sampleModel());

  it("groups apps into virtual hosts by host, '*' when none", () => {
    assert.deepEqual(
      rc.virtualHosts.map((v) => v.domains),
      [["*"], ["lab.example.com"]],
    );
    assert.equal(rc.name, "ticketplane-routes");
  });

  it("takes its virtual hosts and app order from the group's RouteTable (hosts lower-cased into one virtual host)", () => {
    const model = sampleModel({ apps: [...sampleModel().apps, app({ name: "lab2", host: "LAB.example.com", pathPrefix: "/two/" })] });
    const table = new RouteTable(model.apps.map((a) => ({ key: appKey(a.namespace, a.name), host: a.host, pathPrefix: a.pathPrefix })));
    const fallbacks = (routes: readonly Route[]): string[] => routes.filter((r) => r.name.endsWith(":fallback")).map((r) => r.name.replace(/:fallback$/, ""));
    assert.deepEqual(
      buildRouteConfiguration(model).virtualHosts.map((v) => [v.domains, fallbacks(v.routes)]),
      table.virtualHosts.map((v) => [[v.domain], v.routes.map((r) => r.key)]),
    );
    assert.deepEqual(table.virtualHosts.map((v) => v.domain), ["*", "lab.example.com"]);
  });

  it("sends a request whose cluster header names one of the app's clusters to that cluster, rewriting the prefix, with no timeout and websockets", () => {
    const r = match(rc, "x", "/shiny/app.js", { "x-ticketplane-cluster": "apps/shiny/shiny-b" });
    assert.equal(r?.name, "apps/shiny:pods");
    assert.equal(r?.route?.clusterHeader, "x-ticketplane-cluster");
    assert.equal(r?.route?.cluster, undefined);
    assert.equal(r?.route?.prefixRewrite, "/");
    assert.deepEqual(r?.route?.timeout, { seconds: 0, nanos: 0 });
    assert.deepEqual(r?.route?.upgradeConfigs.map((u) => [u.upgradeType, u.enabled]), [["websocket", true]]);
    assert.equal(target(rc, "x", "/shiny/app.js", { "x-ticketplane-cluster": "apps/shiny/shiny-b" }), "apps/shiny/shiny-b");
    assert.equal(target(rc, "x", "/shiny/admin/x", { "x-ticketplane-cluster": "apps/shiny-admin/adm-0" }), "apps/shiny-admin/adm-0");
    const admin = match(rc, "x", "/shiny/admin/x", { "x-ticketplane-cluster": "apps/shiny-admin/adm-0" });
    assert.equal(admin?.route?.prefixRewrite, "/admin/");
  });

  it("lists two routes per app and no pod, longer prefixes first, each app's pods route before its fallback", () => {
    const names = rc.virtualHosts[0]?.routes.map((r) => r.name);
    assert.deepEqual(names, ["apps/shiny-admin:pods", "apps/shiny-admin:fallback", "apps/shiny:pods", "apps/shiny:fallback"]);
    assert.deepEqual(
      rc.virtualHosts[0]?.routes.map((r) => r.match?.headers.map((h) => [h.name, h.stringMatch?.prefix])),
      [[["x-ticketplane-cluster", "apps/shiny-admin/"]], [], [["x-ticketplane-cluster", "apps/shiny/"]], []],
    );
  });

  it("never lets a cluster header reach a cluster of another app, or a shared cluster: the app's fallback answers", () => {
    // A shiny cluster under the admin prefix belongs to the admin app's routes: its fallback, not shiny's pod.
    assert.equal(target(rc, "x", "/shiny/admin/x", { "x-ticketplane-cluster": "apps/shiny/shiny-a" }), "direct:503");
    assert.equal(target(rc, "x", "/shiny/x", { "x-ticketplane-cluster": "apps/shiny-admin/adm-0" }), "direct:503");
    for (const shared of ["ticketplane-authz", "ticketplane-als", "ticketplane-resolver", "apps/shiny", "apps/shiny-", "", "APPS/shiny/shiny-a"]) {
      assert.equal(target(rc, "x", "/shiny/x", { "x-ticketplane-cluster": shared }), "direct:503", shared);
    }
    assert.equal(target(rc, "x", "/shiny/x", { "x-ticketplane-pod": "shiny-a" }), "direct:503", "the pod header alone routes nowhere");
    assert.equal(target(rc, "x", "/shiny/x"), "direct:503");
    assert.equal(target(rc, "x", "/other"), undefined);
  });

  it("answers 503 for one of the app's clusters the gateway does not have (yet)", () => {
    assert.equal(match(rc, "x", "/shiny/", { "x-ticketplane-cluster": "apps/shiny/shiny-z" })?.name, "apps/shiny:pods");
    assert.equal(target(rc, "x", "/shiny/", { "x-ticketplane-cluster": "apps/shiny/shiny-z" }), "direct:503");
  });

  it("falls back to the resolver in proxy mode, to a 503 in serve mode or without a resolver", () => {
    assert.equal(target(rc, "lab.example.com", "/notebook"), "ticketplane-resolver");
    // Check at the gateway is off on that route only: the resolver decides as Check does once a pod serves.
    const perFilter = match(rc, "lab.example.com", "/notebook")?.typedPerFilterConfig["envoy.filters.http.ext_authz"];
    // Optional, so a client without ext_authz (gRPC) ignores it rather than refusing the table.
    assert.equal(perFilter?.typeUrl, "type.googleapis.com/envoy.config.route.v3.FilterConfig");
    const wrapper = FilterConfig.decode(perFilter.value);
    assert.equal(wrapper.isOptional, true);
    assert.equal(wrapper.config?.typeUrl, "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute");
    assert.equal(ExtAuthzPerRoute.decode(wrapper.config.value).disabled, true);
    assert.deepEqual(match(rc, "lab.example.com", "/notebook", { "x-ticketplane-cluster": "apps/lab/p" })?.typedPerFilterConfig, {});
    const noResolver = buildRouteConfiguration(sampleModel({ resolver: undefined }));
    const r = match(noResolver, "lab.example.com", "/notebook");
    assert.equal(r?.directResponse?.status, 503);
    assert.equal(r?.directResponse?.body?.inlineString, NO_TICKET_BODY);
  });

  it("validator reports routes to unknown clusters, duplicate names and bad prefixes with their path", () => {
    const lab = rc.virtualHosts.findIndex((v) => v.domains[0] === "lab.example.com");
    assert.deepEqual(routeConfigurationErrors(rc, new Set()), [`routes.virtual_hosts[${lab}].routes[1].route.cluster: "ticketplane-resolver" is not a cluster in the set`]);
    const twice = app({ name: "a" });
    const dup = buildRouteConfiguration(sampleModel({ apps: [twice, twice] }));
    assert.ok(routeConfigurationErrors(dup, new Set()).some((e) => e.startsWith('routes.virtual_hosts[0].routes[2].name: duplicate route name "apps/a:pods"')));
    const bad = buildRouteConfiguration(sampleModel({ apps: [app({ name: "a", pathPrefix: "a/" })] }));
    assert.deepEqual(routeConfigurationErrors(bad, new Set()), [
      'routes.virtual_hosts[0].routes[0].match.prefix: "a/" must start with "/"',
      'routes.virtual_hosts[0].routes[1].match.prefix: "a/" must start with "/"',
    ]);
  });

  it("validator refuses a cluster_header route that a header could aim at any cluster", () => {
    /** The app's route, matching these headers by prefix instead. */
    const withHeaders = (headers: readonly { readonly name: string; readonly prefix: string }[]): RouteConfiguration => {
      const built = buildRouteConfiguration(sampleModel({ apps: [app({ name: "a" })], resolver: undefined }));
      const pods = built.virtualHosts[0]?.routes[0];
      assert.ok(pods?.match);
      pods.match.headers = headers.map(({ name, prefix }) => HeaderMatcher.fromPartial({ name, stringMatch: { prefix } }));
      return built;
    };
    const header = (prefix: string, name = "x-ticketplane-cluster"): { name: string; prefix: string } => ({ name, prefix });
    assert.deepEqual(routeConfigurationErrors(withHeaders([header("apps/a/")]), new Set()), []);
    const refused = 'routes.virtual_hosts[0].routes[0].route.cluster_header: the route must match "x-ticketplane-cluster" with a string_match.prefix ending in "/" that no shared cluster starts with';
    for (const prefix of ["apps/a", "/", "ticketplane-"]) {
      assert.deepEqual(routeConfigurationErrors(withHeaders([header(prefix)]), new Set()), [refused], prefix);
    }
    assert.deepEqual(routeConfigurationErrors(withHeaders([]), new Set()), [refused]);
    assert.deepEqual(routeConfigurationErrors(withHeaders([header("apps/a/", "x-other")]), new Set()), [refused]);
    assert.deepEqual(routeConfigurationErrors(withHeaders([header("")]), new Set()), [
      "routes.virtual_hosts[0].routes[0].match.headers[0].string_match: needs one non-empty exact or prefix",
      refused,
    ]);
  });
});
