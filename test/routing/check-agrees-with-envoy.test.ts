/**
 * Property test: for random apps (hosts exact, wildcard and none; nested
 * prefixes; several gateway groups; pod names shared across apps) and random
 * requests (ports, case changes, bare prefixes, queries, forged routing
 * headers, tickets issued earlier):
 *
 *  - the app Check matches is the app whose routes Envoy takes;
 *  - when Check lets the request through, the cluster Envoy sends it to,
 *    given the headers Check sets, is exactly the pod Check chose;
 *  - without a cluster header, or with one naming another app's pod or a
 *    shared cluster (as if Check had not run), Envoy takes the app's
 *    fallback route and reaches no cluster;
 *  - for an app whose route is in Proxy mode (at zero), every request
 *    reaches the resolver, whatever headers the client forged: either the
 *    route Envoy picks first turns ext_authz off (the fallback), or Check
 *    runs, allows it untouched (no ticket issued or queued, our headers
 *    removed), and the route picked again after Check is the resolver's.
 *
 * "Envoy" is test/support/envoy-route-match.ts evaluating the actual
 * RouteConfiguration each group's gateways get, decoded from the bytes the
 * builder produced, with the group's clusters; "Check" is decideCheck and
 * toCheckResponse over the AppIndex the Check service uses. Both sides are
 * built through the production paths (TicketCore → buildGatewayModels →
 * buildGatewayResources, and TicketCore → AppIndex → decideCheck).
 *
 * Deterministic: the seed is fixed (override with TICKETPLANE_ROUTING_SEED)
 * and printed with any failure.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { AppIndex } from "../../src/authz/app-index.js";
import { toCheckResponse } from "../../src/authz/check-response.js";
import { type DecideContext, DEFAULT_CHECK_LIMITS, decideCheck } from "../../src/authz/decide-check.js";
import { appKey, DEFAULTS, type AppKey, type AppSpec } from "../../src/config/app-spec.js";
import { GATEWAY_DEFAULTS } from "../../src/config/config-file.js";
import { fallbackRouteName, podClusterName, podsRouteName, RESOURCE_NAMES, ROUTING_HEADERS } from "../../src/routing/index.js";
import { buildGatewayModels } from "../../src/runtime/gateway-models.js";
import { TicketCore } from "../../src/tickets/index.js";
import { buildGatewayResources } from "../../src/xds/resources/build.js";
import { TYPE_URLS } from "../../src/xds/resources/type-urls.js";
import { type EnvoyTarget, extAuthzDisabled, selectRoute, selectTarget } from "../support/envoy-route-match.js";
import { FakeClock } from "../support/fake-clock.js";
import { prng } from "../support/prng.js";

const SEED = Number(process.env["TICKETPLANE_ROUTING_SEED"] ?? 20_250_611);
const APP_SETS = 250;
const REQUESTS_PER_SET = 16;

const GROUPS = ["default", "blue", "green"];
const APP_HOSTS = [undefined, undefined, undefined, "foo.com", "Foo.com", "a.foo.com", "*.foo.com", "*.a.foo.com", "bar.org", "*.org", "[::1]"];
const PREFIXES = ["/", "/a/", "/a/b/", "/a/b/c/", "/b/", "/ab/", "/A/"];
const POD_NAMES = ["p0", "p1", "p2"];
const REQUEST_HOSTS = ["foo.com", "a.foo.com", "b.a.foo.com", "x.foo.com", ".foo.com", ".a.foo.com", "foo.com.", "bar.org", "sub.bar.org", "org", "unknown.net", "", "[::1]", "::1", "127.0.0.1"];
const PORTS = ["", "", ":8080", ":443", ":abc", ":"];

type Rng = () => number;
const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)];

function randomCase(r: Rng, s: string): string {
  return r() < 0.3 ? [...s].map((c) => (r() < 0.5 ? c.toUpperCase() : c)).join("") : s;
}

interface World {
  readonly specs: readonly AppSpec[];
  readonly pods: ReadonlyMap<AppKey, readonly string[]>;
  /** Apps whose route is in Proxy mode (at zero, or coming back: pods may be listed already). */
  readonly proxied: ReadonlySet<AppKey>;
}

const RESOLVER = { host: "127.0.0.1", port: 9003 };

/** App names that are prefixes of one another ("a", "a-b", "ab"), so a cluster-name prefix check that forgot its "/" would show. */
const APP_NAMES = ["a", "a-b", "ab", "a-b-c", "b", "bb"];

function randomWorld(r: Rng): World {
  const specs: AppSpec[] = [];
  const pods = new Map<AppKey, string[]>();
  const proxied = new Set<AppKey>();
  const count = 1 + Math.floor(r() * APP_NAMES.length);
  for (let i = 0; i < count; i++) {
    const host = pick(r, APP_HOSTS);
    const spec: AppSpec = {
      ...DEFAULTS,
      source: "file",
      namespace: pick(r, ["ns", "ns-b"]),
      name: APP_NAMES[i] ?? `app${i}`,
      pathPrefix: pick(r, PREFIXES),
      gateway: pick(r, GROUPS),
      ticketsPerPod: 2,
      ...(host === undefined ? {} : { host }),
    };
    specs.push(spec);
    // Pod names repeat across apps on purpose: a cluster header must only ever select its own app's pod.
    pods.set(appKey(spec.namespace, spec.name), POD_NAMES.filter(() => r() < 0.5));
    if (r() < 0.25) proxied.add(appKey(spec.namespace, spec.name));
  }
  return { specs, pods, proxied };
}

interface Request {
  readonly group: string;
  readonly authority: string;
  readonly path: string;
  /** What the client sent: perhaps a ticket cookie, perhaps forged routing headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Cluster names a client might forge: any app's pod (existing or not), the shared clusters, near misses. */
function forgedCluster(r: Rng, world: World): string {
  const spec = pick(r, world.specs);
  const shared = [RESOURCE_NAMES.authzCluster, RESOURCE_NAMES.accessLogCluster, RESOURCE_NAMES.resolverCluster];
  const nearMiss = [`${spec.namespace}/${spec.name}`, `${spec.namespace}/${spec.name}/`, `${spec.namespace}/`, "", "/", `${spec.namespace}/${spec.name}-x/p0`];
  return r() < 0.5 ? podClusterName(spec.namespace, spec.name, pick(r, POD_NAMES)) : pick(r, r() < 0.5 ? shared : nearMiss);
}

/** Mostly aimed at one of the world's apps (its group, a host its domain covers, around its prefix), sometimes anywhere. */
function randomRequest(r: Rng, world: World, tickets: readonly string[]): Request {
  const target = r() < 0.75 ? pick(r, world.specs) : undefined;
  const prefix = target?.pathPrefix ?? pick(r, PREFIXES);
  const bare = prefix === "/" ? "/" : prefix.slice(0, -1);
  const path = pick(r, [prefix, `${prefix}x`, `${prefix}x/y`, bare, `${prefix}?q=1`, `${bare}?q=/a/`, prefix.toUpperCase(), "/zzz", `${prefix}b/`]);
  const domain = target?.host;
  const host = domain === undefined || r() < 0.2 ? pick(r, REQUEST_HOSTS) : domain.startsWith("*") ? pick(r, ["x", "a", ""]) + domain.slice(1) : domain;
  const group = target !== undefined && r() < 0.8 ? target.gateway : pick(r, [...GROUPS, "nope"]);
  const headers: Record<string, string> = {};
  if (tickets.length > 0 && r() < 0.4) headers["cookie"] = `${DEFAULTS.ticket.cookieName}=${pick(r, tickets)}`;
  if (r() < 0.6) headers[ROUTING_HEADERS.cluster] = forgedCluster(r, world);
  if (r() < 0.3) headers[ROUTING_HEADERS.pod] = pick(r, POD_NAMES);
  return { group, authority: randomCase(r, host) + pick(r, PORTS), path, headers };
}

interface Sides {
  readonly check: DecideContext;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  /** Per group, the names of the clusters its gateways have. */
  readonly clusters: ReadonlyMap<string, ReadonlySet<string>>;
}

/** What Check and the gateways of each group see for one world. */
function build(world: World): Sides {
  const core = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] }, routableByDefault: true });
  core.setApps(world.specs);
  for (const s of world.specs) {
    const key = appKey(s.namespace, s.name);
    const names = world.pods.get(key) ?? [];
    core.setPods(key, names.map((name, i) => ({ name, host: `10.0.0.${i + 1}`, port: 8080, ready: true })));
  }
  const modes = (app: AppKey): "serve" | "proxy" => (world.proxied.has(app) ? "proxy" : "serve");
  const models = buildGatewayModels({ views: core, gateway: GATEWAY_DEFAULTS, upstreams: { authz: { host: "127.0.0.1", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } }, modes, resolver: RESOLVER });
  const routes = new Map<string, RouteConfiguration>();
  const clusters = new Map<string, ReadonlySet<string>>();
  for (const model of models) {
    const resources = buildGatewayResources(model);
    const encoded = resources.find((res) => res.typeUrl === TYPE_URLS.routes)?.encoded;
    assert.ok(encoded !== undefined, `group ${model.group} has no RouteConfiguration`);
    routes.set(model.group, RouteConfiguration.decode(encoded));
    clusters.set(model.group, new Set(resources.filter((res) => res.typeUrl === TYPE_URLS.cluster).map((res) => Cluster.decode(res.encoded).name)));
  }
  return { check: { tickets: core, apps: new AppIndex(core), limits: DEFAULT_CHECK_LIMITS, routeMode: modes }, routes, clusters };
}

/** Every cluster name that is not the app's: any pod name of every other app, and the shared clusters. */
function foreignClusters(world: World, app: AppKey | undefined): Set<string> {
  const names = new Set<string>([RESOURCE_NAMES.authzCluster, RESOURCE_NAMES.accessLogCluster, RESOURCE_NAMES.resolverCluster]);
  for (const s of world.specs) if (appKey(s.namespace, s.name) !== app) for (const pod of POD_NAMES) names.add(podClusterName(s.namespace, s.name, pod));
  return names;
}

/** What one request exercised, for the counts that show the generator reaches every case. */
type Exercised = "no_app" | "denied" | "routed" | "routed_valid" | "proxied_unchecked" | "proxied_checked";

interface Verdict {
  readonly exercised: Exercised;
  /** The client's cluster header named another app's pod or a shared cluster. */
  readonly forgedForeign: boolean;
  /** A ticket Check issued, for later requests to present. */
  readonly issued?: string;
  readonly problem?: string;
}

const show = (t: EnvoyTarget | undefined): string => (t === undefined ? "no route" : `route ${t.route.name} → ${t.kind === "cluster" ? `cluster ${t.cluster}` : `local reply ${t.status}`}`);

/** What the request's group's gateways do with it, given its headers. */
type Envoy = (headers: Readonly<Record<string, string>>) => EnvoyTarget | undefined;

/**
 * The routes on their own (as if Check had not run): Envoy takes a route of
 * Check's app (none when Check has none); without a cluster header, the
 * app's fallback; with the client's header, no cluster unless it names one
 * of this app's pods, and the fallback when it names another app's pod or a
 * shared cluster.
 */
function routesProblem(world: World, req: Request, app: AppKey | undefined, envoy: Envoy, forgedForeign: boolean): string | undefined {
  const plain = envoy({});
  const envoyApp = plain === undefined ? undefined : appOfRoute(world, plain.route.name);
  if (app !== envoyApp) return `Check picks ${String(app)}, Envoy routes to ${String(envoyApp)} (${show(plain)})`;
  if (app === undefined || world.proxied.has(app)) return undefined;
  const fallback = fallbackRouteName(...splitKey(app));
  if (plain?.route.name !== fallback || plain.kind === "cluster") return `without a cluster header Envoy takes ${show(plain)}, not ${fallback}`;
  return req.headers[ROUTING_HEADERS.cluster] === undefined ? undefined : clientHeaderProblem(world, req, app, envoy, forgedForeign);
}

/** With the client's own cluster header: no cluster but one of the app's pods; another app's pod or a shared cluster gets the fallback. */
function clientHeaderProblem(world: World, req: Request, app: AppKey, envoy: Envoy, forgedForeign: boolean): string | undefined {
  const raw = envoy(req.headers);
  const ownPods = (world.pods.get(app) ?? []).map((p) => podClusterName(...splitKey(app), p));
  if (raw?.kind === "cluster" && !ownPods.includes(raw.cluster)) return `the client's own header reaches ${show(raw)}, not one of ${app}'s pods`;
  const fallback = fallbackRouteName(...splitKey(app));
  if (forgedForeign && (raw?.route.name !== fallback || raw.kind === "cluster")) return `a forged header naming ${JSON.stringify(req.headers[ROUTING_HEADERS.cluster])} takes ${show(raw)}, not ${fallback}`;
  return undefined;
}

/**
 * An app in Proxy mode, as Envoy's ext_authz filter runs: the route picked
 * with the client's headers either turns Check off (then the request goes on
 * along it), or Check runs and its answer's header changes are applied and
 * the route picked again (clear_route_cache). Either way the request must
 * reach the resolver, and Check must neither issue nor queue.
 */
function proxiedProblem(sides: Sides, req: Request, rc: RouteConfiguration, envoy: Envoy): { readonly exercised: Exercised; readonly problem?: string } {
  const resolverReached = (t: EnvoyTarget | undefined): string | undefined => (t?.kind === "cluster" && t.cluster === RESOURCE_NAMES.resolverCluster ? undefined : `an app in Proxy mode: Envoy takes ${show(t)}, not the resolver`);
  const first = selectRoute(rc, { authority: req.authority, path: req.path, headers: req.headers });
  if (first !== undefined && extAuthzDisabled(first)) {
    const problem = resolverReached(envoy(req.headers));
    return { exercised: "proxied_unchecked", ...(problem === undefined ? {} : { problem }) };
  }
  const outcome = decideCheck({ gateway: req.group, host: req.authority, path: req.path, headers: req.headers, requestId: "r" }, sides.check);
  if (outcome.kind !== "proxied") return { exercised: "proxied_checked", problem: `an app in Proxy mode: Check answered ${outcome.kind}, not proxied (allowed untouched)` };
  const ok = toCheckResponse(outcome).okResponse;
  assert.deepEqual(ok?.headers, [], "proxied sets no header");
  const checked: Record<string, string> = { ...req.headers };
  for (const name of ok?.headersToRemove ?? []) delete checked[name];
  const problem = resolverReached(envoy(checked));
  return { exercised: "proxied_checked", ...(problem === undefined ? {} : { problem }) };
}

/** Check itself: when it lets the request through, Envoy, given the headers Check sets, reaches exactly the pod Check chose. */
function checkProblem(sides: Sides, req: Request, envoy: Envoy): { readonly exercised: Exercised; readonly problem?: string; readonly issued?: string } {
  const outcome = decideCheck({ gateway: req.group, host: req.authority, path: req.path, headers: req.headers, requestId: "r" }, sides.check);
  if (outcome.kind !== "valid" && outcome.kind !== "issued") return { exercised: "denied" };
  // What Envoy's ext_authz filter does with OkHttpResponse.headers: append false replaces the client's value.
  const checked: Record<string, string> = { ...req.headers };
  for (const h of toCheckResponse(outcome).okResponse?.headers ?? []) {
    assert.equal(h.append, false, `Check sets ${String(h.header?.key)} with append: false`);
    if (h.header !== undefined) checked[h.header.key] = h.header.value;
  }
  const routed = envoy(checked);
  const want = podClusterName(...splitKey(outcome.key), outcome.pod.name);
  return {
    exercised: outcome.kind === "valid" ? "routed_valid" : "routed",
    ...(outcome.kind === "issued" ? { issued: outcome.token } : {}),
    ...(routed?.kind === "cluster" && routed.cluster === want ? {} : { problem: `Check chose ${want}; with its headers Envoy takes ${show(routed)}` }),
  };
}

function splitKey(key: AppKey): [string, string] {
  const [namespace = "", name = ""] = key.split("/");
  return [namespace, name];
}

/** The app a route of the world belongs to, by the route names the builder gives. */
function appOfRoute(world: World, route: string): AppKey | undefined {
  const spec = world.specs.find((s) => route === podsRouteName(s.namespace, s.name) || route === fallbackRouteName(s.namespace, s.name));
  return spec === undefined ? undefined : appKey(spec.namespace, spec.name);
}

/** Checks one request on both sides: the routes on their own, then with the headers Check sets. */
function compare(world: World, sides: Sides, req: Request): Verdict {
  const rc = sides.routes.get(req.group);
  const clusters = sides.clusters.get(req.group) ?? new Set<string>();
  const envoy: Envoy = (headers) => (rc === undefined ? undefined : selectTarget(rc, { authority: req.authority, path: req.path, headers }, clusters));
  const app = sides.check.apps.match(req.group, req.authority, req.path)?.key;
  const forged = req.headers[ROUTING_HEADERS.cluster];
  const forgedForeign = forged !== undefined && foreignClusters(world, app).has(forged);
  const problem = routesProblem(world, req, app, envoy, forgedForeign);
  if (problem !== undefined || app === undefined) return { exercised: "no_app", forgedForeign, ...(problem === undefined ? {} : { problem }) };
  if (rc !== undefined && world.proxied.has(app)) return { ...proxiedProblem(sides, req, rc, envoy), forgedForeign };
  return { ...checkProblem(sides, req, envoy), forgedForeign };
}

function describeCase(world: World, set: number, n: number, req: Request): string {
  const apps = world.specs.map((s) => {
    const pods = world.pods.get(appKey(s.namespace, s.name)) ?? [];
    return `  ${s.namespace}/${s.name} gateway=${s.gateway} host=${s.host ?? "-"} prefix=${s.pathPrefix} pods=[${pods.join(",")}]${world.proxied.has(appKey(s.namespace, s.name)) ? " mode=proxy" : ""}`;
  });
  return `seed ${SEED}, app set ${set}, request ${n}: group ${req.group}, authority ${JSON.stringify(req.authority)}, path ${JSON.stringify(req.path)}, headers ${JSON.stringify(req.headers)}\napps:\n${apps.join("\n")}`;
}

describe("Check and Envoy agree on every request", () => {
  it(`for ${APP_SETS * REQUESTS_PER_SET} random requests over ${APP_SETS} random app sets (seed ${SEED})`, () => {
    const r = prng(SEED);
    const counts: Record<Exercised | "matched" | "forged_foreign", number> = { no_app: 0, denied: 0, routed: 0, routed_valid: 0, proxied_unchecked: 0, proxied_checked: 0, matched: 0, forged_foreign: 0 };
    for (let set = 0; set < APP_SETS; set++) {
      const world = randomWorld(r);
      const sides = build(world);
      const tickets: string[] = [];
      for (let n = 0; n < REQUESTS_PER_SET; n++) {
        const req = randomRequest(r, world, tickets);
        const v = compare(world, sides, req);
        if (v.problem !== undefined) assert.fail(`${v.problem}\n${describeCase(world, set, n, req)}`);
        if (v.issued !== undefined) tickets.push(v.issued);
        counts[v.exercised]++;
        if (v.exercised !== "no_app") {
          counts.matched++;
          if (v.forgedForeign) counts.forged_foreign++;
        }
      }
    }
    // The generator must exercise every outcome, or the agreement says little.
    const total = APP_SETS * REQUESTS_PER_SET;
    const summary = `${JSON.stringify(counts)} of ${total} (seed ${SEED})`;
    if (process.env["TICKETPLANE_ROUTING_COUNTS"] !== undefined) console.log(summary);
    assert.ok(counts.matched > total * 0.2 && counts.matched < total * 0.9, `matched an app: ${summary}`);
    for (const key of ["denied", "routed", "routed_valid", "forged_foreign", "proxied_unchecked"] as const) assert.ok(counts[key] > total * 0.03, `too few ${key}: ${summary}`);
    // Check runs for a Proxy-mode app only when the client forged a header naming one of its own pods: rarer by design.
    assert.ok(counts.proxied_checked > total * 0.005, `too few proxied_checked: ${summary}`);
  });
});
