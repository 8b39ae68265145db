import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import type { Route } from "@envoyproxy/protos/envoy/config/route/v3/route_components";
import { selectRoute } from "../../../test/support/envoy-route-match.js";
import { appKey } from "../../config/app-spec.js";
import { RouteTable } from "../../routing/route-table.js";
import { app, pod, sampleModel } from "./model.fixture.js";
import { buildRouteConfiguration, NO_TICKET_BODY, routeConfigurationErrors } from "./route-configuration.js";

/** Envoy's choice (test/support's emulator): the route a request with these headers takes. */
function match(rc: RouteConfiguration, host: string, path: string, headers: Record<string, string> = {}): Route | undefined {
  return selectRoute(rc, { authority: host, path, headers });
}

const target = (r: Route | undefined): string | undefined => r?.route?.cluster ?? (r?.directResponse ? `direct:${r.directResponse.status}` : undefined);

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

  it("sends a pod header to that pod's cluster, rewriting the prefix, with no timeout and websockets", () => {
    const r = match(rc, "x", "/shiny/app.js", { "x-ticketplane-pod": "shiny-b" });
    assert.equal(r?.name, "apps/shiny/shiny-b");
    assert.equal(r?.route?.cluster, "apps/shiny/shiny-b");
    assert.equal(r?.route?.prefixRewrite, "/");
    assert.deepEqual(r?.route?.timeout, { seconds: 0, nanos: 0 });
    assert.deepEqual(r?.route?.upgradeConfigs.map((u) => [u.upgradeType, u.enabled]), [["websocket", true]]);
  });

  it("orders longer prefixes first, pod routes before their app's fallback", () => {
    assert.equal(target(match(rc, "x", "/shiny/admin/x", { "x-ticketplane-pod": "adm-0" })), "apps/shiny-admin/adm-0");
    // A shiny pod header under the admin prefix belongs to the admin app: its fallback, not shiny's pod.
    assert.equal(target(match(rc, "x", "/shiny/admin/x", { "x-ticketplane-pod": "shiny-a" })), "direct:503");
    assert.equal(target(match(rc, "x", "/shiny/x", { "x-ticketplane-pod": "adm-0" })), "direct:503");
    assert.equal(target(match(rc, "x", "/shiny/x")), "direct:503");
    assert.equal(target(match(rc, "x", "/other")), undefined);
    const names = rc.virtualHosts[0]?.routes.map((r) => r.name);
    assert.deepEqual(names, ["apps/shiny-admin/adm-0", "apps/shiny-admin:fallback", "apps/shiny/shiny-a", "apps/shiny/shiny-b", "apps/shiny:fallback"]);
  });

  it("falls back to the resolver in proxy mode, to a 503 in serve mode or without a resolver", () => {
    assert.equal(target(match(rc, "lab.example.com", "/notebook")), "ticketplane-resolver");
    const noResolver = buildRouteConfiguration(sampleModel({ resolver: undefined }));
    const r = match(noResolver, "lab.example.com", "/notebook");
    assert.equal(r?.directResponse?.status, 503);
    assert.equal(r?.directResponse?.body?.inlineString, NO_TICKET_BODY);
  });

  it("matches pod headers exactly (no prefix of a pod name, no missing header)", () => {
    assert.equal(target(match(rc, "x", "/shiny/", { "x-ticketplane-pod": "shiny-" })), "direct:503");
    assert.equal(target(match(rc, "x", "/shiny/", { "x-ticketplane-pod": "shiny-a" })), "apps/shiny/shiny-a");
  });

  it("validator reports routes to unknown clusters and duplicates with their path", () => {
    const clusters = new Set(["apps/shiny/shiny-a", "apps/shiny-admin/adm-0", "ticketplane-resolver"]);
    const errors = routeConfigurationErrors(rc, clusters);
    assert.deepEqual(errors, ['routes.virtual_hosts[0].routes[3].route.cluster: "apps/shiny/shiny-b" is not a cluster in the set']);
    const dup = buildRouteConfiguration(sampleModel({ apps: [app({ name: "a", pods: [pod("p", "10.0.0.1"), pod("p", "10.0.0.2")] })] }));
    assert.ok(routeConfigurationErrors(dup, new Set(["apps/a/p"])).some((e) => e.startsWith('routes.virtual_hosts[0].routes[1].name: duplicate route name "apps/a/p"')));
    const bad = buildRouteConfiguration(sampleModel({ apps: [app({ name: "a", pathPrefix: "a/" })] }));
    assert.deepEqual(routeConfigurationErrors(bad, new Set()), ['routes.virtual_hosts[0].routes[0].match.prefix: "a/" must start with "/"']);
  });
});
