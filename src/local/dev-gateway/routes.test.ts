/**
 * The gateway's router against the independent Envoy emulator
 * (test/support/envoy-route-match.ts) and against Check's matching rule
 * (src/routing RouteTable, which Check's AppIndex uses): for random app sets
 * — hosts exact, wildcard and none, nested prefixes, apps whose names prefix
 * one another, serve and proxy mode — built into RouteConfigurations by our
 * builder and decoded from their bytes, and random requests (ports, case,
 * bare prefixes, queries, cluster headers valid, forged, absent):
 *
 *  - the gateway takes the route the emulator takes, and forwards to the
 *    cluster the emulator names (or answers the same status);
 *  - the app of that route is the app Check matches.
 *
 * Seeded (TICKETPLANE_ROUTING_SEED overrides), printed with any failure.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { ExtAuthzPerRoute } from "@envoyproxy/protos/envoy/extensions/filters/http/ext_authz/v3/ext_authz";
import { appKey } from "../../config/app-spec.js";
import { podClusterName, RESOURCE_NAMES, RouteTable, ROUTING_HEADERS } from "../../routing/index.js";
import { buildRouteConfiguration } from "../../xds/resources/route-configuration.js";
import { app, pod, sampleModel } from "../../xds/resources/model.fixture.js";
import type { AppModel } from "../../xds/resources/model.js";
import { selectTarget } from "../../../test/support/envoy-route-match.js";
import { prng } from "../../../test/support/prng.js";
import { compileRouteConfiguration, type CompiledRoutes } from "./routes.js";

const EXT_AUTHZ_PER_ROUTE = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute";

const SEED = Number(process.env["TICKETPLANE_ROUTING_SEED"] ?? 20_261_201);
const SETS = 200;
const REQUESTS = 24;

const HOSTS = [undefined, undefined, "foo.com", "a.foo.com", "*.foo.com", "*.a.foo.com", "bar.*", "[::1]"];
const PREFIXES = ["/", "/a/", "/a/b/", "/b/", "/ab/", "/A/"];
const NAMES = ["a", "a-b", "ab", "b", "bb"];
const REQUEST_HOSTS = ["foo.com", "FOO.com", "a.foo.com", "b.a.foo.com", "x.foo.com", ".foo.com", "bar.org", "bar.", "other.net", "", "[::1]"];
const PORTS = ["", "", ":8080", ":abc"];
const PATHS = ["/", "/a", "/a/", "/a/b/c?q=1", "/A/x", "/ab/", "/b/y", "/bb", "/zz/"];

type Rng = () => number;
const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)];

function randomApps(r: Rng): AppModel[] {
  const count = 1 + Math.floor(r() * NAMES.length);
  return NAMES.slice(0, count).map((name) => {
    const host = pick(r, HOSTS);
    return app({ name, pathPrefix: pick(r, PREFIXES), ...(host === undefined ? {} : { host }), podPath: pick(r, ["/", "/inner/"]), mode: r() < 0.2 ? "proxy" : "serve", pods: [pod("p0", "10.0.0.1"), pod("p1", "10.0.0.2")] });
  });
}

function clustersOf(apps: readonly AppModel[]): Set<string> {
  return new Set([...apps.flatMap((a) => a.pods.map((p) => podClusterName(a.namespace, a.name, p.name))), RESOURCE_NAMES.authzCluster, RESOURCE_NAMES.resolverCluster]);
}

function compile(rc: RouteConfiguration): CompiledRoutes {
  const compiled = compileRouteConfiguration(RouteConfiguration.decode(RouteConfiguration.encode(rc).finish()));
  if (!compiled.ok) throw new Error(compiled.errors.join("; "));
  return compiled.value;
}

describe("the dev gateway's router agrees with Envoy and with Check", () => {
  it(`random app sets and requests (seed ${SEED})`, () => {
    const r = prng(SEED);
    for (let set = 0; set < SETS; set++) {
      const apps = randomApps(r);
      // Duplicate domain/prefix pairs are fine: the RouteTable orders them; duplicate domains cannot happen (one vhost per domain).
      const rc = buildRouteConfiguration(sampleModel({ apps }));
      const routes = compile(rc);
      const clusters = clustersOf(apps);
      const table = new RouteTable(apps.map((a) => ({ key: appKey(a.namespace, a.name), host: a.host, pathPrefix: a.pathPrefix })));
      for (let i = 0; i < REQUESTS; i++) {
        const authority = pick(r, REQUEST_HOSTS) + pick(r, PORTS);
        const path = pick(r, PATHS);
        const target = pick(r, apps);
        const headerChoice = r();
        const headers: Record<string, string> = headerChoice < 0.4 ? { [ROUTING_HEADERS.cluster]: podClusterName(target.namespace, target.name, pick(r, ["p0", "p1"])) } : headerChoice < 0.6 ? { [ROUTING_HEADERS.cluster]: RESOURCE_NAMES.authzCluster } : {};
        const where = `seed ${SEED} set ${set} request ${i}: ${authority} ${path} ${JSON.stringify(headers)} apps ${JSON.stringify(apps.map((a) => [a.name, a.host, a.pathPrefix, a.mode]))}`;
        const envoy = selectTarget(rc, { authority, path, headers }, clusters);
        const ours = routes.decide(authority, path, new Map(Object.entries(headers).map(([k, v]) => [k, [v]])));
        if (envoy === undefined) {
          assert.equal(ours.kind, "no_route", where);
          assert.equal(table.match(authority, path), undefined, `Check matches no app either: ${where}`);
          continue;
        }
        assert.notEqual(ours.kind, "no_route", where);
        if (ours.kind === "no_route") continue;
        assert.equal(ours.route.name, envoy.route.name, where);
        if (envoy.kind === "cluster") {
          assert.equal(ours.kind, "forward", where);
          if (ours.kind === "forward") assert.equal(ours.cluster, envoy.cluster, where);
        } else if (ours.kind === "direct") {
          assert.equal(ours.status, envoy.status, where);
        } else {
          // The emulator answered cluster-not-found: ours names a cluster the gateway does not hold.
          assert.ok(!clusters.has(ours.cluster), where);
          assert.equal(ours.forward.clusterNotFoundStatus, envoy.status, where);
        }
        const routeApp = ours.route.name.slice(0, ours.route.name.lastIndexOf(":"));
        assert.equal(table.match(authority, path)?.key, routeApp, `Check's app is the route's app: ${where}`);
      }
    }
  });
});

describe("compileRouteConfiguration", () => {
  const rc = (routes: object[], domains = ["*"]): RouteConfiguration => RouteConfiguration.fromPartial({ name: "r", virtualHosts: [{ name: "v", domains, routes }] });

  it("matches path exactly and safe_regex whole, both without the query", () => {
    const routes = compile(rc([
      { name: "exact", match: { path: "/x" }, directResponse: { status: 200 } },
      { name: "regex", match: { safeRegex: { regex: "/r/[0-9]+" } }, directResponse: { status: 201 } },
    ]));
    const name = (p: string): string | undefined => {
      const d = routes.decide("h", p, new Map());
      return d.kind === "no_route" ? undefined : d.route.name;
    };
    assert.equal(name("/x?y=1"), "exact");
    assert.equal(name("/x/"), undefined);
    assert.equal(name("/r/12?z"), "regex");
    assert.equal(name("/r/12a"), undefined, "RE2 FullMatch: the whole path");
  });

  it("rewrites the matched prefix, and reads the cluster from the header the route names (first value, '' when absent)", () => {
    const routes = compile(rc([{ name: "p", match: { prefix: "/app/" }, route: { clusterHeader: "X-C", prefixRewrite: "/" } }]));
    const d = routes.decide("h", "/app/x?q", new Map([["x-c", ["one", "two"]]]));
    assert.equal(d.kind, "forward");
    if (d.kind !== "forward") return;
    assert.equal(d.cluster, "one");
    assert.equal(d.forward.timeoutMs, 15_000, "Envoy's default route timeout");
    const absent = routes.decide("h", "/app/", new Map());
    assert.equal(absent.kind === "forward" ? absent.cluster : "?", "");
  });

  it("refuses what it cannot follow, naming the field: weighted clusters, redirects, bad regexes, duplicate domains", () => {
    const errors = (config: RouteConfiguration): string => {
      const compiled = compileRouteConfiguration(config);
      return compiled.ok ? "" : compiled.errors.join("; ");
    };
    assert.match(errors(rc([{ name: "w", match: { prefix: "/" }, route: { weightedClusters: { clusters: [] } } }])), /routes\[0\]\.route\.weighted_clusters: not supported/);
    assert.match(errors(rc([{ name: "red", match: { prefix: "/" }, redirect: {} }])), /only route and direct_response/);
    assert.match(errors(rc([{ name: "re", match: { safeRegex: { regex: "(" } }, directResponse: { status: 200 } }])), /safe_regex\.regex: "\(" does not compile/);
    const dup = RouteConfiguration.fromPartial({ name: "r", virtualHosts: [{ name: "a", domains: ["A.com"] }, { name: "b", domains: ["a.com"] }] });
    assert.match(errors(dup), /duplicate virtual host domain "a\.com"/);
    const perFilter = (name: string, typeUrl: string, value: Uint8Array): RouteConfiguration => rc([{ name: "p", match: { prefix: "/" }, directResponse: { status: 200 }, typedPerFilterConfig: { [name]: { typeUrl, value: Buffer.from(value) } } }]);
    const perRoute = (p: { disabled?: boolean; checkSettings?: { disableRequestBodyBuffering: boolean } }): Uint8Array => ExtAuthzPerRoute.encode(ExtAuthzPerRoute.fromPartial(p)).finish();
    assert.match(errors(perFilter("envoy.filters.http.cors", EXT_AUTHZ_PER_ROUTE, perRoute({ disabled: true }))), /typed_per_filter_config\["envoy\.filters\.http\.cors"\]: only envoy\.filters\.http\.ext_authz with ExtAuthzPerRoute/);
    assert.match(errors(perFilter("envoy.filters.http.ext_authz", EXT_AUTHZ_PER_ROUTE, perRoute({ checkSettings: { disableRequestBodyBuffering: true } }))), /check_settings: not supported/);
    assert.match(errors(perFilter("envoy.filters.http.ext_authz", EXT_AUTHZ_PER_ROUTE, Buffer.from([0xff, 0xff]))), /does not decode/);
  });

  it("follows ext_authz's per-route `disabled` (the resolver's route in proxy mode), and only on that route", () => {
    const compiled = compileRouteConfiguration(buildRouteConfiguration(sampleModel()));
    assert.ok(compiled.ok);
    const atZero = compiled.value.decide("lab.example.com", "/notebook", new Map());
    assert.equal(atZero.kind === "forward" && atZero.cluster, RESOURCE_NAMES.resolverCluster);
    assert.equal(atZero.kind === "forward" && atZero.route.extAuthzDisabled, true);
    const serving = compiled.value.decide("x", "/shiny/", new Map());
    assert.equal(serving.kind !== "no_route" && serving.route.extAuthzDisabled, undefined);
  });
});
