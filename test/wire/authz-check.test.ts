/**
 * Wire test: the real authz server on port 0, called by an Authorization
 * client built from Envoy's own .proto files (snake_case, independent of our
 * generated code). Time is a FakeClock; nothing here waits on the wall clock.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { createAuthzMetrics, createAuthzServer, type AuthzServer } from "../../src/authz/index.js";
import { systemClock } from "../../src/common/clock.js";
import { silentLogger } from "../../src/common/logger.js";
import { DEFAULTS, type AppSpec } from "../../src/config/app-spec.js";
import { TicketCore } from "../../src/tickets/index.js";
import { authorizationClient } from "../support/envoy-protos.js";
import { FakeClock } from "../support/fake-clock.js";

interface WireHeader {
  header?: { key?: string; value?: string };
  append?: { value?: boolean } | null;
}
interface WireResponse {
  status?: { code?: number; message?: string };
  ok_response?: { headers?: WireHeader[]; response_headers_to_add?: WireHeader[] };
  denied_response?: { status?: { code?: string }; headers?: WireHeader[]; body?: string };
}

function spec(name: string, over: { secure?: boolean; maxQueue?: number; slots?: number; gateway?: string } = {}): AppSpec {
  return {
    ...DEFAULTS,
    source: "file",
    namespace: "ns",
    name,
    pathPrefix: `/${name}/`,
    ticketsPerPod: over.slots ?? 1,
    ticket: { ...DEFAULTS.ticket, cookieSecure: over.secure ?? false, idleTimeoutMs: 60_000, maxLifetimeMs: 3_600_000 },
    queue: { ...DEFAULTS.queue, maxLength: over.maxQueue ?? 2, retryAfterMs: 4_000, reservationMs: 30_000 },
    maxPods: 2,
    gateway: over.gateway ?? DEFAULTS.gateway,
  };
}

/** Calls Check as a gateway does: the request, and the call metadata its ext_authz filter adds (none by default). */
function check(client: grpc.Client, http: Record<string, unknown> | undefined, metadata = new grpc.Metadata()): Promise<WireResponse> {
  const request = http === undefined ? { attributes: { request: {} } } : { attributes: { request: { http: { id: "req", method: "GET", host: "example.org", ...http } } } };
  return new Promise((resolve, reject) => {
    (client as unknown as { Check: (r: unknown, m: grpc.Metadata, cb: (e: Error | null, v: WireResponse) => void) => void }).Check(request, metadata, (err, value) =>
      err === null ? resolve(value) : reject(err),
    );
  });
}

function get(path: string, headers: Record<string, string> = {}): Record<string, unknown> {
  return { path, headers };
}

function okHeaders(res: WireResponse): Map<string, WireHeader> {
  assert.ok(res.ok_response !== undefined, `expected OK, got ${JSON.stringify(res)}`);
  assert.ok((res.status?.code ?? 0) === 0);
  return new Map((res.ok_response.headers ?? []).map((h) => [h.header?.key ?? "", h]));
}

function cookies(res: WireResponse): string[] {
  const list = res.ok_response?.response_headers_to_add ?? res.denied_response?.headers ?? [];
  return list.filter((h) => h.header?.key === "set-cookie").map((h) => h.header?.value ?? "");
}

function deniedHeader(res: WireResponse, key: string): string | undefined {
  return res.denied_response?.headers?.find((h) => h.header?.key === key)?.header?.value;
}

/** The token value from `name=token; …`. */
function tokenOf(setCookie: string | undefined): string {
  const m = /^[^=]+=([^;]*);/.exec(setCookie ?? "");
  assert.ok(m?.[1] !== undefined && m[1].length > 0, `no token in ${String(setCookie)}`);
  return m[1];
}

describe("authz Check over the wire", () => {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(7) }] }, routableByDefault: true });
  const registry = new Registry();
  let server: AuthzServer;
  let client: grpc.Client;

  before(async () => {
    core.setApps([spec("shiny", { slots: 8 }), spec("legacy"), spec("other", { secure: true, slots: 10 }), spec("solo", { maxQueue: 2 }), spec("teal", { gateway: "blue" })]);
    for (const app of ["ns/shiny", "ns/legacy"]) {
      core.setPods(app, [
        { name: "pod-a", host: "10.0.0.1", port: 3838, ready: true },
        { name: "pod-b", host: "10.0.0.2", port: 3838, ready: true },
      ]);
    }
    core.setPods("ns/other", [{ name: "o-1", host: "10.0.1.1", port: 80, ready: true }]);
    core.setPods("ns/solo", [{ name: "s-1", host: "10.0.2.1", port: 80, ready: true }]);
    core.setPods("ns/teal", [{ name: "t-1", host: "10.0.3.1", port: 80, ready: true }]);
    server = createAuthzServer({ tickets: core, logger: silentLogger, clock: systemClock, registry: new Registry(), metrics: createAuthzMetrics(registry, core), listen: { authz: "127.0.0.1:0" } });
    await server.start();
    client = authorizationClient(server.addresses.authz);
  });

  after(async () => {
    client.close();
    await server.stop();
  });

  it("issues a ticket: OK, exact cookie attributes, routing headers that replace the client's", async () => {
    const res = await check(client, get("/shiny/", { "x-ticketplane-pod": "pod-i-want", "x-ticketplane-cluster": "ticketplane-authz" }));
    const headers = okHeaders(res);
    const pod = headers.get("x-ticketplane-pod");
    assert.ok(pod?.header?.value === "pod-a" || pod?.header?.value === "pod-b");
    assert.equal(headers.get("x-ticketplane-cluster")?.header?.value, `ns/shiny/${pod.header.value}`, "the cluster the gateway routes to is the pod's");
    for (const key of ["x-ticketplane-cluster", "x-ticketplane-pod", "x-ticketplane-pod-address", "x-ticketplane-ticket", "x-ticketplane-app"]) {
      const h = headers.get(key);
      assert.ok(h !== undefined, key);
      // append is a BoolValue: present (explicit) and false, so Envoy replaces the client's header.
      assert.ok(h.append !== undefined && h.append !== null, `${key} must carry an explicit append`);
      assert.notEqual(h.append.value, true);
    }
    assert.equal(headers.get("x-ticketplane-app")?.header?.value, "ns/shiny");
    assert.match(headers.get("x-ticketplane-pod-address")?.header?.value ?? "", /^10\.0\.0\.[12]:3838$/);
    const [setCookie, ...rest] = cookies(res);
    assert.deepEqual(rest, []);
    assert.match(setCookie ?? "", /^ticketplane=[A-Za-z0-9._~-]+; Path=\/shiny\/; HttpOnly; SameSite=Lax; Max-Age=3600$/);
    const cookieHeader = res.ok_response?.response_headers_to_add?.[0];
    assert.equal(cookieHeader?.append?.value, true);
  });

  it("routes a presented ticket to the same pod, without a new cookie, even if the client names another pod", async () => {
    const first = await check(client, get("/shiny/"));
    const pod = okHeaders(first).get("x-ticketplane-pod")?.header?.value;
    const ticket = okHeaders(first).get("x-ticketplane-ticket")?.header?.value;
    const token = tokenOf(cookies(first)[0]);
    for (let i = 0; i < 3; i++) {
      const again = await check(
        client,
        get("/shiny/page?x=1", { cookie: `a=b; ticketplane=${token}`, "x-ticketplane-pod": "evil", "x-ticketplane-cluster": "ns/teal/t-1", "x-ticketplane-ticket": "forged" }),
      );
      const h = okHeaders(again);
      assert.equal(h.get("x-ticketplane-pod")?.header?.value, pod);
      assert.equal(h.get("x-ticketplane-cluster")?.header?.value, `ns/shiny/${String(pod)}`);
      assert.equal(h.get("x-ticketplane-ticket")?.header?.value, ticket);
      assert.deepEqual(cookies(again), []);
    }
  });

  it("adds Secure unless the app turns it off", async () => {
    const res = await check(client, get("/other/"));
    assert.match(cookies(res)[0] ?? "", /; Secure$/);
  });

  it("replaces forged and wrong-app tickets with new ones", async () => {
    // Forged: a valid token with one character changed.
    const first = await check(client, get("/shiny/"));
    const token = tokenOf(cookies(first)[0]);
    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    assert.equal(cookies(await check(client, get("/shiny/", { cookie: `ticketplane=${forged}` }))).length, 1);
    // Wrong app: a token of ns/other presented to ns/shiny (same cookie name).
    const otherToken = tokenOf(cookies(await check(client, get("/other/")))[0]);
    const wrong = await check(client, get("/shiny/", { cookie: `ticketplane=${otherToken}` }));
    assert.equal(okHeaders(wrong).get("x-ticketplane-app")?.header?.value, "ns/shiny");
    assert.equal(cookies(wrong).length, 1);
  });

  it("expired and gone-pod tickets get a new ticket", async () => {
    const issued = await check(client, get("/legacy/"));
    const token = tokenOf(cookies(issued)[0]);
    const pod = okHeaders(issued).get("x-ticketplane-pod")?.header?.value;
    clock.advance(3_600_001);
    const expired = await check(client, get("/legacy/", { cookie: `ticketplane=${token}` }));
    const fresh = tokenOf(cookies(expired)[0]);
    assert.notEqual(fresh, token);
    const freshPod = okHeaders(expired).get("x-ticketplane-pod")?.header?.value;
    const survivor = freshPod === "pod-a" ? "pod-b" : "pod-a";
    core.setPods("ns/legacy", [{ name: survivor, host: survivor === "pod-a" ? "10.0.0.1" : "10.0.0.2", port: 3838, ready: true }]);
    const gone = await check(client, get("/legacy/", { cookie: `ticketplane=${fresh}` }));
    assert.equal(okHeaders(gone).get("x-ticketplane-pod")?.header?.value, survivor);
    assert.equal(cookies(gone).length, 1);
    assert.ok(pod !== undefined);
  });

  it("queues when full: 503 waiting room with position and Retry-After, position kept across reloads, head gets the freed slot", async () => {
    const holder = await check(client, get("/solo/"));
    okHeaders(holder);
    const second = await check(client, get("/solo/", { accept: "text/html" }));
    assert.equal(second.denied_response?.status?.code, "ServiceUnavailable");
    assert.equal(deniedHeader(second, "retry-after"), "4");
    assert.equal(deniedHeader(second, "cache-control"), "no-store");
    assert.match(deniedHeader(second, "content-type") ?? "", /^text\/html/);
    assert.match(second.denied_response?.body ?? "", /<meta http-equiv="refresh" content="4">/);
    assert.match(second.denied_response?.body ?? "", /number <strong id="tp-position">1<\/strong> of <span id="tp-length">1<\/span>/);
    const queueCookie = cookies(second)[0] ?? "";
    assert.match(queueCookie, /^ticketplane-queue=[^;]+; Path=\/solo\/; HttpOnly; SameSite=Lax$/);
    const q2 = tokenOf(queueCookie);
    // Coming back with the cookie takes the place in line (turned away, the client held none).
    const back = await check(client, get("/solo/", { accept: "application/json", cookie: `ticketplane-queue=${q2}` }));
    assert.deepEqual(JSON.parse(back.denied_response?.body ?? ""), { status: "queued", position: 1, length: 1, retryAfterSeconds: 4, estimatedWaitSeconds: null, pollPath: "/solo/.ticketplane/wait" });

    const third = await check(client, get("/solo/", { accept: "application/json" }));
    assert.match(deniedHeader(third, "content-type") ?? "", /^application\/json/);
    assert.deepEqual(JSON.parse(third.denied_response?.body ?? ""), { status: "queued", position: 2, length: 2, retryAfterSeconds: 4, estimatedWaitSeconds: null, pollPath: "/solo/.ticketplane/wait" });
    const q3 = tokenOf(cookies(third)[0]);
    await check(client, get("/solo/", { cookie: `ticketplane-queue=${q3}` }));

    const reload = await check(client, get("/solo/", { accept: "application/json", cookie: `ticketplane-queue=${q2}` }));
    assert.equal((JSON.parse(reload.denied_response?.body ?? "{}") as { position?: number }).position, 1);

    // Queue full: 503, no position, no queue cookie.
    const full = await check(client, get("/solo/", { accept: "application/json" }));
    assert.deepEqual(JSON.parse(full.denied_response?.body ?? ""), { status: "full", retryAfterSeconds: 4 });
    assert.deepEqual(cookies(full), []);
    const fullHtml = await check(client, get("/solo/"));
    assert.match(fullHtml.denied_response?.body ?? "", /queue is full/);

    // The holder never comes back: its ticket is released after its probation (10 s) while the waiting
    // users keep reloading every Retry-After; the head of the queue (not the third user, not a newcomer) gets the slot.
    for (let i = 0; i < 3; i++) {
      clock.advance(4_000);
      await check(client, get("/solo/", { cookie: `ticketplane-queue=${q2}` }));
      await check(client, get("/solo/", { cookie: `ticketplane-queue=${q3}` }));
    }
    core.sweep();
    const newcomer = await check(client, get("/solo/"));
    assert.ok(newcomer.denied_response !== undefined);
    const stillWaiting = await check(client, get("/solo/", { accept: "application/json", cookie: `ticketplane-queue=${q3}` }));
    assert.equal((JSON.parse(stillWaiting.denied_response?.body ?? "{}") as { status?: string }).status, "queued");
    const head = await check(client, get("/solo/", { cookie: `ticketplane-queue=${q2}` }));
    assert.equal(okHeaders(head).get("x-ticketplane-pod")?.header?.value, "s-1");
    const set = cookies(head);
    assert.match(set[0] ?? "", /^ticketplane=/);
    assert.equal(set[1], "ticketplane-queue=; Path=/solo/; HttpOnly; SameSite=Lax; Max-Age=0");
  });

  it("denies an unknown app with 404 and a reason", async () => {
    const res = await check(client, get("/nowhere/"));
    assert.equal(res.denied_response?.status?.code, "NotFound");
    assert.match(res.denied_response?.body ?? "", /no app/);
  });

  it("matches only the apps of the gateway group named in the x-ticketplane-gateway metadata (none: default)", async () => {
    const group = (name: string): grpc.Metadata => {
      const m = new grpc.Metadata();
      m.set("x-ticketplane-gateway", name);
      return m;
    };
    assert.equal((await check(client, get("/teal/"))).denied_response?.status?.code, "NotFound");
    assert.equal((await check(client, get("/teal/"), group("default"))).denied_response?.status?.code, "NotFound");
    assert.equal(okHeaders(await check(client, get("/teal/"), group("blue"))).get("x-ticketplane-app")?.header?.value, "ns/teal");
    assert.equal((await check(client, get("/other/"), group("blue"))).denied_response?.status?.code, "NotFound");
    assert.equal((await check(client, get("/other/"), group("green"))).denied_response?.status?.code, "NotFound");
    assert.equal(okHeaders(await check(client, get("/other/"), group("default"))).get("x-ticketplane-app")?.header?.value, "ns/other");
  });

  it("denies malformed requests with 400 and a reason", async () => {
    const cases: [Record<string, unknown> | undefined, RegExp][] = [
      [undefined, /missing attributes/],
      [{ path: "" }, /missing path/],
      [{ path: "/shiny/" + "a".repeat(10_000) }, /path too long/],
      [{ path: "/shiny/", headers: { cookie: "x=" + "y".repeat(20_000) } }, /cookie/],
    ];
    for (const [http, reason] of cases) {
      const res = await check(client, http);
      assert.equal(res.denied_response?.status?.code, "BadRequest", JSON.stringify(res).slice(0, 200));
      assert.match(res.denied_response?.body ?? "", reason);
    }
  });

  it("answers garbage bytes with a 400 denial and keeps serving", async () => {
    const raw = new grpc.Client(server.addresses.authz, grpc.credentials.createInsecure());
    const reply = await new Promise<Buffer>((resolve, reject) =>
      raw.makeUnaryRequest(
        "/envoy.service.auth.v3.Authorization/Check",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        (err, value) => (err === null && value !== undefined ? resolve(value) : reject(err ?? new Error("no reply"))),
      ),
    );
    raw.close();
    assert.ok(reply.length > 0);
    assert.ok(reply.includes(Buffer.from("undecodable")));
    okHeaders(await check(client, get("/other/")));
  });

  it("opens no connection for a WebSocket upgrade: a refused upgrade must not hold a slot (the access log opens it on 101)", async () => {
    const res = await check(client, get("/other/", { upgrade: "websocket", connection: "upgrade", "x-request-id": "ws-42" }));
    const ticketId = okHeaders(res).get("x-ticketplane-ticket")?.header?.value;
    const t = core.tickets("ns/other").find((x) => x.id === ticketId);
    assert.equal(t?.openConnections, 0);
  });

  it("exports check metrics by outcome", async () => {
    const text = await registry.metrics();
    for (const outcome of ["valid", "issued", "queued", "full", "not_found", "bad_request"]) {
      assert.match(text, new RegExp(`ticketplane_check_duration_seconds_count\\{outcome="${outcome}"\\} [1-9]`), outcome);
    }
    assert.match(text, /k8sticket_users_total\{app="ns\/shiny"\} [1-9]/);
  });
});

describe("authz Check over the wire: starting, and per-client limits", () => {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(9) }] }, routableByDefault: true });
  let starting: string | undefined = "the ledger is not restored yet";
  let server: ReturnType<typeof createAuthzServer>;
  let client: grpc.Client;
  const registry = new Registry();

  before(async () => {
    core.setApps([{ ...spec("solo", { slots: 5 }), limits: { ticketsPerClient: 1, queuePerClient: 1 } }]);
    core.setPods("ns/solo", [{ name: "s-1", host: "10.0.2.1", port: 80, ready: true }]);
    server = createAuthzServer({ tickets: core, logger: silentLogger, clock: systemClock, registry: new Registry(), metrics: createAuthzMetrics(registry, core), listen: { authz: "127.0.0.1:0" }, trustedHops: 1, notReady: () => starting });
    await server.start();
    client = authorizationClient(server.addresses.authz);
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  /** A request from `source`, through one trusted proxy that appended `forwarded`. */
  const from = (source: string, forwarded?: string): Promise<WireResponse> => {
    const request = { attributes: { source: { address: { socket_address: { address: source, port_value: 40000 } } }, request: { http: { id: "req", method: "GET", host: "example.org", path: "/solo/", headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } } } } };
    return new Promise((resolve, reject) => {
      (client as unknown as { Check: (r: unknown, cb: (e: Error | null, v: WireResponse) => void) => void }).Check(request, (err, value) => (err === null ? resolve(value) : reject(err)));
    });
  };

  it("answers 503 with Retry-After 1 and allocates nothing while it cannot decide", async () => {
    const res = await from("10.9.0.1");
    assert.equal(res.denied_response?.status?.code, "ServiceUnavailable");
    assert.equal(deniedHeader(res, "retry-after"), "1");
    assert.deepEqual(cookies(res), []);
    assert.deepEqual([core.tickets("ns/solo"), core.queue("ns/solo")], [[], []]);
    starting = undefined;
  });

  it("bounds tickets per client address, taken from X-Forwarded-For behind one trusted hop: 429 with Retry-After", async () => {
    okHeaders(await from("10.9.0.1", "6.6.6.6, 198.51.100.7"));
    const over = await from("10.9.0.2", "7.7.7.7, 198.51.100.7");
    assert.equal(over.denied_response?.status?.code, "TooManyRequests");
    assert.equal(deniedHeader(over, "retry-after"), "4");
    assert.match(over.denied_response?.body ?? "", /too many tickets or queue places from your address/);
    okHeaders(await from("10.9.0.1", "198.51.100.8"));
    assert.deepEqual(core.tickets("ns/solo").map((t) => t.client).sort(), ["198.51.100.7", "198.51.100.8"]);
    const text = await registry.metrics();
    assert.match(text, /ticketplane_check_duration_seconds_count\{outcome="limited"\} 1/);
    assert.match(text, /ticketplane_check_duration_seconds_count\{outcome="starting"\} 1/);
  });
});
