import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { AppSpec } from "../config/app-spec.js";
import type { Admission, Credentials, OfficeChange, PodView, TicketDesk, TicketView } from "../tickets/types.js";
import { AppIndex } from "./app-index.js";
import { toCheckResponse } from "./check-response.js";
import { type CheckInput, DEFAULT_CHECK_LIMITS, decideCheck } from "./decide-check.js";

const app = {
  namespace: "ns",
  name: "shiny",
  pathPrefix: "/shiny/",
  gateway: "default",
  ticket: { cookieName: "tp", queueCookieName: "tpq", cookieSecure: false, idleTimeoutMs: 60_000, maxLifetimeMs: 7_200_000 },
} as unknown as AppSpec;
const pod: PodView = { name: "pod-a", host: "10.0.0.7", port: 3838, ready: true, draining: false, canary: false, routable: true, slots: 1, used: 1 };
const ticket: TicketView = { id: "t1", app: "ns/shiny", pod: "pod-a", slot: 0, issuedAt: 0, expiresAt: 7_200_000, lastActiveAt: 0, openConnections: 0 };

/** A desk that answers `admit` from a script and records what it was asked. */
function fakeDesk(answer: (c: Credentials) => Admission) {
  const calls: { admitted: Credentials[]; opened: [string, string, string][] } = { admitted: [], opened: [] };
  let listener: ((c: OfficeChange) => void) | undefined;
  let apps: readonly AppSpec[] = [app];
  const desk = {
    apps: () => apps,
    admit: (_key: string, c: Credentials) => {
      calls.admitted.push(c);
      return answer(c);
    },
    openConnection: (a: string, t: string, id: string) => calls.opened.push([a, t, id]),
    subscribe: (l: (c: OfficeChange) => void) => {
      listener = l;
      return () => (listener = undefined);
    },
  } as unknown as TicketDesk;
  const setApps = (next: readonly AppSpec[]): void => {
    apps = next;
    listener?.({ kind: "apps" });
  };
  return { desk, calls, setApps };
}

function input(path: string, headers: Record<string, string> = {}): CheckInput {
  return { gateway: "default", host: "example.org", path, headers, requestId: "req-1" };
}

describe("decideCheck", () => {
  it("passes both cookies to the desk and routes a valid ticket", () => {
    const { desk, calls } = fakeDesk(() => ({ kind: "valid", ticket, pod }));
    const out = decideCheck(input("/shiny/x", { cookie: "other=1; tp=tok; tpq=q1" }), { desk, apps: new AppIndex(desk), limits: DEFAULT_CHECK_LIMITS });
    assert.equal(out.kind, "valid");
    assert.deepEqual(calls.admitted, [{ ticketToken: "tok", queueToken: "q1" }]);
    assert.deepEqual(calls.opened, []);
  });

  it("opens a connection for a WebSocket upgrade, keyed by x-request-id", () => {
    const { desk, calls } = fakeDesk(() => ({ kind: "issued", ticket, pod, token: "new" }));
    const out = decideCheck(input("/shiny/ws", { upgrade: "WebSocket", "x-request-id": "rid-9" }), { desk, apps: new AppIndex(desk), limits: DEFAULT_CHECK_LIMITS });
    assert.equal(out.kind, "issued");
    assert.deepEqual(calls.opened, [["ns/shiny", "t1", "rid-9"]]);
  });

  it("asks to clear a queue cookie once a ticket is issued", () => {
    const { desk } = fakeDesk(() => ({ kind: "issued", ticket, pod, token: "new" }));
    const out = decideCheck(input("/shiny/", { cookie: "tpq=q1" }), { desk, apps: new AppIndex(desk), limits: DEFAULT_CHECK_LIMITS });
    assert.ok(out.kind === "issued" && out.clearQueueCookie);
  });

  it("queues with JSON when asked, refuses when full", () => {
    const queued = fakeDesk(() => ({ kind: "queued", position: 2, length: 3, queueToken: "q", retryAfterMs: 5000 }));
    const q = decideCheck(input("/shiny/", { accept: "application/json" }), { desk: queued.desk, apps: new AppIndex(queued.desk), limits: DEFAULT_CHECK_LIMITS });
    assert.ok(q.kind === "queued" && q.json && q.position === 2);
    const full = fakeDesk(() => ({ kind: "refused", reason: "queue_full", retryAfterMs: 5000 }));
    const f = decideCheck(input("/shiny/"), { desk: full.desk, apps: new AppIndex(full.desk), limits: DEFAULT_CHECK_LIMITS });
    assert.ok(f.kind === "full" && !f.json);
  });

  const bad: readonly [CheckInput, string][] = [
    [input(""), "bad_request"],
    [input("/" + "a".repeat(9000)), "bad_request"],
    [{ ...input("/shiny/"), host: "h".repeat(2000) }, "bad_request"],
    [input("/shiny/", { cookie: "c=" + "x".repeat(20_000) }), "bad_request"],
    [input("/other/"), "not_found"],
    [{ ...input("/shiny/"), gateway: "edge" }, "not_found"],
  ];
  for (const [req, kind] of bad) {
    it(`${kind} for ${req.path.slice(0, 20)} without calling the desk`, () => {
      const { desk, calls } = fakeDesk(() => assert.fail("admit must not be called"));
      assert.equal(decideCheck(req, { desk, apps: new AppIndex(desk), limits: DEFAULT_CHECK_LIMITS }).kind, kind);
      assert.equal(calls.admitted.length, 0);
    });
  }

  it("follows app changes from the desk", () => {
    const { desk, setApps } = fakeDesk(() => ({ kind: "valid", ticket, pod }));
    const apps = new AppIndex(desk);
    assert.equal(apps.match("default", "h", "/shiny/")?.key, "ns/shiny");
    setApps([]);
    assert.equal(apps.match("default", "h", "/shiny/"), undefined);
    apps.close();
  });
});

describe("toCheckResponse", () => {
  it("sets the routing headers with append:false and the cookie with append:true", () => {
    const res = toCheckResponse({ kind: "issued", app, key: "ns/shiny", ticket, pod, token: "tok", clearQueueCookie: true });
    const ok = res.okResponse;
    assert.ok(ok !== undefined);
    assert.deepEqual(
      ok.headers.map((h) => [h.header?.key, h.header?.value, h.append]),
      [
        ["x-ticketplane-pod", "pod-a", false],
        ["x-ticketplane-pod-address", "10.0.0.7:3838", false],
        ["x-ticketplane-ticket", "t1", false],
        ["x-ticketplane-app", "ns/shiny", false],
      ],
    );
    assert.deepEqual(
      ok.responseHeadersToAdd.map((h) => [h.header?.value, h.append]),
      [
        ["tp=tok; Path=/shiny/; HttpOnly; SameSite=Lax; Max-Age=7200", true],
        ["tpq=; Path=/shiny/; HttpOnly; SameSite=Lax; Max-Age=0", true],
      ],
    );
    assert.equal(res.status?.code, 0);
  });

  it("denies with status codes and reasons", () => {
    assert.equal(toCheckResponse({ kind: "not_found", reason: "nope" }).deniedResponse?.status?.code, 404);
    const bad = toCheckResponse({ kind: "bad_request", reason: "missing path" });
    assert.equal(bad.deniedResponse?.status?.code, 400);
    assert.match(bad.deniedResponse?.body ?? "", /missing path/);
    const wait = toCheckResponse({ kind: "queued", app, key: "ns/shiny", position: 1, length: 1, queueToken: "q", retryAfterMs: 4500, json: false });
    const h = Object.fromEntries((wait.deniedResponse?.headers ?? []).map((x): [string, string] => [x.header?.key ?? "", x.header?.value ?? ""]));
    assert.equal(wait.deniedResponse?.status?.code, 503);
    assert.equal(h["retry-after"], "5");
    assert.equal(h["cache-control"], "no-store");
    assert.equal(h["set-cookie"], "tpq=q; Path=/shiny/; HttpOnly; SameSite=Lax");
  });
});

describe("the decision stays I/O-free", () => {
  it("imports nothing that can do I/O, transitively", () => {
    const forbidden = /^(node:)?(net|http|https|http2|dns|tls|dgram|fs|child_process|worker_threads)$|grpc|kubernetes|express|winston/;
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(new URL(file, import.meta.url), "utf8");
      for (const m of src.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?[^;]*?from\s+"([^"]+)"/gm)) {
        const spec = m[1] ?? "";
        if (/^(?:import|export)\s+type\s/.test(m[0].trim())) continue;
        assert.doesNotMatch(spec, forbidden, `${file} imports ${spec}`);
        if (spec.startsWith(".")) visit(new URL(spec.replace(/\.js$/, ".ts"), new URL(file, import.meta.url)).href);
      }
    };
    visit(new URL("./decide-check.ts", import.meta.url).href);
    visit(new URL("./check-response.ts", import.meta.url).href);
    assert.ok(seen.size >= 4);
  });
});
