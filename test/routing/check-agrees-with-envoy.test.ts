/**
 * Property test: for random apps (hosts exact, wildcard and none; nested
 * prefixes; several gateway groups) and random requests (ports, case changes,
 * bare prefixes, queries), the app Check matches is the app whose route Envoy
 * takes. "Envoy" is test/support/envoy-route-match.ts evaluating the actual
 * RouteConfiguration each group's gateways get, decoded from the bytes the
 * builder produced; "Check" is the AppIndex the Check service uses. Both sides
 * are built through the production paths (TicketCore → buildGatewayModels →
 * buildGatewayResources, and TicketCore → AppIndex).
 *
 * Deterministic: the seed is fixed (override with TICKETPLANE_ROUTING_SEED)
 * and printed with any failure.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { AppIndex } from "../../src/authz/app-index.js";
import { appKey, DEFAULTS, type AppKey, type AppSpec } from "../../src/config/app-spec.js";
import { GATEWAY_DEFAULTS } from "../../src/config/config-file.js";
import { fallbackRouteName, podClusterName, ROUTING_HEADERS } from "../../src/routing/index.js";
import { buildGatewayModels } from "../../src/runtime/gateway-models.js";
import { TicketCore } from "../../src/tickets/index.js";
import { buildGatewayResources } from "../../src/xds/resources/build.js";
import { TYPE_URLS } from "../../src/xds/resources/type-urls.js";
import { selectRoute } from "../support/envoy-route-match.js";
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
}

function randomWorld(r: Rng): World {
  const specs: AppSpec[] = [];
  const pods = new Map<AppKey, string[]>();
  const count = 1 + Math.floor(r() * 6);
  for (let i = 0; i < count; i++) {
    const host = pick(r, APP_HOSTS);
    const spec: AppSpec = { ...DEFAULTS, source: "file", namespace: pick(r, ["ns", "ns-b"]), name: `app${i}`, pathPrefix: pick(r, PREFIXES), gateway: pick(r, GROUPS), ...(host === undefined ? {} : { host }) };
    specs.push(spec);
    // Pod names repeat across apps on purpose: a pod header must only ever select its own app's pod.
    pods.set(appKey(spec.namespace, spec.name), POD_NAMES.filter(() => r() < 0.5));
  }
  return { specs, pods };
}

interface Request {
  readonly group: string;
  readonly authority: string;
  readonly path: string;
}

/** Mostly aimed at one of the world's apps (its group, a host its domain covers, around its prefix), sometimes anywhere. */
function randomRequest(r: Rng, world: World): Request {
  const target = r() < 0.75 ? pick(r, world.specs) : undefined;
  const prefix = target?.pathPrefix ?? pick(r, PREFIXES);
  const bare = prefix === "/" ? "/" : prefix.slice(0, -1);
  const path = pick(r, [prefix, `${prefix}x`, `${prefix}x/y`, bare, `${prefix}?q=1`, `${bare}?q=/a/`, prefix.toUpperCase(), "/zzz", `${prefix}b/`]);
  const domain = target?.host;
  const host = domain === undefined || r() < 0.2 ? pick(r, REQUEST_HOSTS) : domain.startsWith("*") ? pick(r, ["x", "a", ""]) + domain.slice(1) : domain;
  const group = target !== undefined && r() < 0.8 ? target.gateway : pick(r, [...GROUPS, "nope"]);
  return { group, authority: randomCase(r, host) + pick(r, PORTS), path };
}

interface Sides {
  readonly index: AppIndex;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  readonly appOfRoute: ReadonlyMap<string, AppKey>;
}

/** What Check and the gateways of each group see for one world. */
function build(world: World): Sides {
  const core = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] }, routableByDefault: true });
  core.setApps(world.specs);
  const appOfRoute = new Map<string, AppKey>();
  for (const s of world.specs) {
    const key = appKey(s.namespace, s.name);
    const names = world.pods.get(key) ?? [];
    core.setPods(key, names.map((name, i) => ({ name, host: `10.0.0.${i + 1}`, port: 8080, ready: true })));
    appOfRoute.set(fallbackRouteName(s.namespace, s.name), key);
    for (const pod of names) appOfRoute.set(podClusterName(s.namespace, s.name, pod), key);
  }
  const models = buildGatewayModels({ views: core, gateway: GATEWAY_DEFAULTS, upstreams: { authz: { host: "127.0.0.1", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } } });
  const routes = new Map<string, RouteConfiguration>();
  for (const model of models) {
    const encoded = buildGatewayResources(model).find((res) => res.typeUrl === TYPE_URLS.routes)?.encoded;
    assert.ok(encoded !== undefined, `group ${model.group} has no RouteConfiguration`);
    routes.set(model.group, RouteConfiguration.decode(encoded));
  }
  return { index: new AppIndex(core), routes, appOfRoute };
}

/**
 * The disagreement between Check and Envoy for one request, if any: without a
 * pod header Envoy must take a route of Check's app (none when Check has no
 * app); with a pod header, that pod's route when it is one of the app's pods,
 * else the app's fallback. Returns Check's app as well.
 */
function compare(world: World, sides: Sides, req: Request): { readonly app: AppKey | undefined; readonly problem?: string } {
  const app = sides.index.match(req.group, req.authority, req.path)?.key;
  const rc = sides.routes.get(req.group);
  const envoy = (headers: Record<string, string>) => (rc === undefined ? undefined : selectRoute(rc, { authority: req.authority, path: req.path, headers }));
  const plain = envoy({});
  const envoyApp = plain === undefined ? undefined : sides.appOfRoute.get(plain.name);
  if (app !== envoyApp) return { app, problem: `Check picks ${String(app)}, Envoy routes to ${String(envoyApp)} (route ${String(plain?.name)})` };
  if (app === undefined) return { app };
  const [namespace = "", name = ""] = app.split("/");
  for (const pod of POD_NAMES) {
    const own = world.pods.get(app)?.includes(pod) === true;
    const want = own ? podClusterName(namespace, name, pod) : fallbackRouteName(namespace, name);
    const got = envoy({ [ROUTING_HEADERS.pod]: pod })?.name;
    if (got !== want) return { app, problem: `with pod header ${pod} Envoy takes route ${String(got)}, not ${want}` };
  }
  return { app };
}

function describeCase(world: World, set: number, n: number, req: Request): string {
  const apps = world.specs.map((s) => {
    const pods = world.pods.get(appKey(s.namespace, s.name)) ?? [];
    return `  ${s.namespace}/${s.name} gateway=${s.gateway} host=${s.host ?? "-"} prefix=${s.pathPrefix} pods=[${pods.join(",")}]`;
  });
  return `seed ${SEED}, app set ${set}, request ${n}: group ${req.group}, authority ${JSON.stringify(req.authority)}, path ${JSON.stringify(req.path)}\napps:\n${apps.join("\n")}`;
}

describe("Check and Envoy agree on a request's app", () => {
  it(`for ${APP_SETS * REQUESTS_PER_SET} random requests over ${APP_SETS} random app sets (seed ${SEED})`, () => {
    const r = prng(SEED);
    let matched = 0;
    for (let set = 0; set < APP_SETS; set++) {
      const world = randomWorld(r);
      const sides = build(world);
      for (let n = 0; n < REQUESTS_PER_SET; n++) {
        const req = randomRequest(r, world);
        const { app, problem } = compare(world, sides, req);
        if (problem !== undefined) assert.fail(`${problem}\n${describeCase(world, set, n, req)}`);
        if (app !== undefined) matched++;
      }
    }
    // The generator must exercise both outcomes, or the agreement says little.
    const total = APP_SETS * REQUESTS_PER_SET;
    assert.ok(matched > total * 0.2 && matched < total * 0.9, `only ${matched} of ${total} requests matched an app (seed ${SEED})`);
  });
});
