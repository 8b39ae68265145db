import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import type { AppSpec } from "../config/app-spec.js";
import type { CheckPorts, TicketViews } from "../tickets/ports.js";
import type { AllocationRequest, Allocation, PodView, TicketCoreEvent, TicketView, Verification } from "../tickets/types.js";
import { AppIndex } from "./app-index.js";
import { toCheckResponse } from "./check-response.js";
import { type CheckInput, type DecideContext, DEFAULT_CHECK_LIMITS, decideCheck } from "./decide-check.js";

const app = makeSpec({ name: "shiny", ticket: { cookieName: "tp", queueCookieName: "tpq", cookieSecure: false, idleTimeoutMs: 60_000, maxLifetimeMs: 7_200_000 } });
const pod: PodView = { name: "pod-a", host: "10.0.0.7", port: 3838, ready: true, draining: false, canary: false, routable: true, slots: 1, used: 1 };
const ticket: TicketView = { id: "t1", app: "ns/shiny", pod: "pod-a", slot: 0, issuedAt: 0, expiresAt: 7_200_000, lastActiveAt: 0, openConnections: 0 };
const VALID: Verification = { ok: true, kind: "valid", ticket, pod };

/** The ticket core's Check faces, answering from a script and recording what they were asked. */
class ScriptedTickets implements CheckPorts, Pick<TicketViews, "apps" | "subscribe"> {
  readonly verified: (string | undefined)[] = [];
  readonly allocated: AllocationRequest[] = [];
  readonly touched: string[] = [];
  readonly opened: [string, string, string][] = [];
  #apps: readonly AppSpec[] = [app];
  #listener: ((e: TicketCoreEvent) => void) | undefined;

  constructor(
    readonly verdict: (token: string | undefined) => Verification,
    readonly allocation: (r: AllocationRequest) => Allocation = () => assert.fail("allocate must not be called"),
  ) {}

  verify(_app: string, token: string | undefined): Verification {
    this.verified.push(token);
    return this.verdict(token);
  }
  allocate(_app: string, request: AllocationRequest): Allocation {
    this.allocated.push(request);
    return this.allocation(request);
  }
  sweep(): readonly TicketCoreEvent[] {
    return [];
  }
  touch(_app: string, ticketId: string): void {
    this.touched.push(ticketId);
  }
  openConnection(a: string, t: string, id: string): void {
    this.opened.push([a, t, id]);
  }
  closeConnection(): void {}
  apps(): readonly AppSpec[] {
    return this.#apps;
  }
  subscribe(listener: (e: TicketCoreEvent) => void): () => void {
    this.#listener = listener;
    return () => (this.#listener = undefined);
  }
  setApps(next: readonly AppSpec[]): void {
    this.#apps = next;
    this.#listener?.({ kind: "apps" });
  }
}

const absent = (): Verification => ({ ok: false, reason: "absent" });
const context = (tickets: ScriptedTickets): DecideContext => ({ tickets, apps: new AppIndex(tickets), limits: DEFAULT_CHECK_LIMITS });

function input(path: string, headers: Record<string, string> = {}): CheckInput {
  return { gateway: "default", host: "example.org", path, headers, requestId: "req-1" };
}

describe("decideCheck", () => {
  it("verifies the ticket cookie, routes a valid ticket and counts it as activity, without allocating", () => {
    const tickets = new ScriptedTickets(() => VALID);
    const out = decideCheck(input("/shiny/x", { cookie: "other=1; tp=tok; tpq=q1" }), context(tickets));
    assert.equal(out.kind, "valid");
    assert.deepEqual(tickets.verified, ["tok"]);
    assert.deepEqual(tickets.touched, ["t1"]);
    assert.deepEqual([tickets.allocated, tickets.opened], [[], []]);
  });

  it("asks the allocator with the queue cookie, the reason the ticket was not valid, and the tokens as presented (for the app's owner)", () => {
    const tickets = new ScriptedTickets(
      () => ({ ok: false, reason: "forged" }),
      () => ({ kind: "issued", ticket, pod, token: "new", replaced: "forged" }),
    );
    const out = decideCheck(input("/shiny/", { cookie: "tp=bad; tpq=q1" }), context(tickets));
    assert.equal(out.kind, "issued");
    assert.deepEqual(tickets.allocated, [{ queueTokens: ["q1"], rejected: { ok: false, reason: "forged" }, client: undefined, ticketTokens: ["bad"] }]);
  });

  it("opens no connection for a WebSocket upgrade: only the access log's report of the 101 does", () => {
    const tickets = new ScriptedTickets(absent, () => ({ kind: "issued", ticket, pod, token: "new" }));
    const out = decideCheck(input("/shiny/ws", { upgrade: "WebSocket", "x-request-id": "rid-9" }), context(tickets));
    assert.equal(out.kind, "issued");
    assert.deepEqual(tickets.opened, []);
  });

  it("tries every ticket cookie of the app's name, and passes the client on to the allocator", () => {
    const tickets = new ScriptedTickets(
      (token) => (token === "real" ? VALID : { ok: false, reason: "malformed" }),
      () => assert.fail("a junk cookie first must not cost the real ticket"),
    );
    assert.equal(decideCheck(input("/shiny/", { cookie: "tp=junk; tp=real" }), context(tickets)).kind, "valid");
    assert.deepEqual(tickets.verified, ["junk", "real"]);
    const fresh = new ScriptedTickets(absent, () => ({ kind: "refused", reason: "client_limit", retryAfterMs: 5000 }));
    const limited = decideCheck({ ...input("/shiny/"), client: "203.0.113.9" }, context(fresh));
    assert.equal(limited.kind, "limited");
    assert.equal(fresh.allocated[0]?.client, "203.0.113.9");
  });

  it("allocates nothing while Check cannot decide yet", () => {
    const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
    const out = decideCheck(input("/shiny/"), { ...context(tickets), notReady: () => "the ledger is not restored yet" });
    assert.deepEqual(out, { kind: "starting", reason: "the ledger is not restored yet" });
    assert.deepEqual(tickets.allocated, []);
  });

  it("asks to clear a queue cookie once a ticket is issued", () => {
    const tickets = new ScriptedTickets(absent, () => ({ kind: "issued", ticket, pod, token: "new" }));
    const out = decideCheck(input("/shiny/", { cookie: "tpq=q1" }), context(tickets));
    assert.ok(out.kind === "issued" && out.clearQueueCookie);
  });

  it("queues with JSON when asked, refuses when full", () => {
    const queued = new ScriptedTickets(absent, () => ({ kind: "queued", position: 2, length: 3, queueToken: "q", retryAfterMs: 5000 }));
    const q = decideCheck(input("/shiny/", { accept: "application/json" }), context(queued));
    assert.ok(q.kind === "queued" && q.json && q.position === 2);
    const full = new ScriptedTickets(absent, () => ({ kind: "refused", reason: "queue_full", retryAfterMs: 5000 }));
    const f = decideCheck(input("/shiny/"), context(full));
    assert.ok(f.kind === "full" && !f.json);
  });

  it("answers the waiting room's live endpoint itself: admitted (never routed) or queued, always JSON", () => {
    const valid = decideCheck(input("/shiny/.ticketplane/wait", { cookie: "tp=tok" }), context(new ScriptedTickets(() => VALID)));
    assert.ok(valid.kind === "valid" && valid.probe === true);
    const plainValid = decideCheck(input("/shiny/", { cookie: "tp=tok" }), context(new ScriptedTickets(() => VALID)));
    assert.ok(plainValid.kind === "valid" && plainValid.probe === undefined, "the app's own paths are routed as ever");
    const issuing = new ScriptedTickets(absent, () => ({ kind: "issued", ticket, pod, token: "new" }));
    const issued = decideCheck(input("/shiny/.ticketplane/wait?t=3", { cookie: "tpq=q1" }), context(issuing));
    assert.ok(issued.kind === "issued" && issued.probe === true && issued.clearQueueCookie);
    assert.deepEqual(issuing.allocated[0]?.queueTokens, ["q1"], "the poll presents the queue cookie: it keeps (and claims) the user's place");
    const queued = new ScriptedTickets(absent, () => ({ kind: "queued", position: 1, length: 2, queueToken: "q", retryAfterMs: 5000, estimatedWaitMs: 7000 }));
    const q = decideCheck(input("/shiny/.ticketplane/wait", { accept: "text/html" }), context(queued));
    assert.ok(q.kind === "queued" && q.json && q.estimatedWaitMs === 7000);
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
    it(`${kind} for ${req.path.slice(0, 20)} without asking the ticket core`, () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      assert.equal(decideCheck(req, context(tickets)).kind, kind);
      assert.deepEqual([tickets.verified, tickets.allocated], [[], []]);
    });
  }

  describe("a request of no ticketed app (check.unmatched)", () => {
    const sharing = (tickets: ScriptedTickets): DecideContext => ({ ...context(tickets), unmatched: "allow" });
    const spoofed = { "x-ticketplane-cluster": "ticketplane-xds", "x-ticketplane-pod": "pod-a", "x-ticketplane-whatever": "1", accept: "text/html" };

    it("allow: allowed as it is, every x-ticketplane-* header removed (ours and any other the client sent), no ticket asked for", () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      const outcome = decideCheck(input("/other/", spoofed), sharing(tickets));
      assert.deepEqual(outcome, {
        kind: "unmatched",
        strip: ["x-ticketplane-cluster", "x-ticketplane-pod", "x-ticketplane-pod-address", "x-ticketplane-ticket", "x-ticketplane-app", "x-ticketplane-whatever"],
      });
      const res = toCheckResponse(outcome);
      assert.equal(res.status?.code, 0);
      assert.equal(res.deniedResponse, undefined);
      assert.deepEqual(res.okResponse?.headers, [], "nothing added: the route stays the one the gateway chose");
      assert.deepEqual(res.okResponse?.headersToRemove, outcome.kind === "unmatched" ? outcome.strip : []);
      assert.deepEqual(res.okResponse?.responseHeadersToAdd, []);
      assert.deepEqual([tickets.verified, tickets.allocated], [[], []]);
    });

    it("allow: another gateway group's app is not this gateway's: allowed untouched too", () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      assert.equal(decideCheck({ ...input("/shiny/"), gateway: "edge" }, sharing(tickets)).kind, "unmatched");
    });

    it("allow changes nothing for a ticketed app: its requests still need a ticket", () => {
      const tickets = new ScriptedTickets(() => VALID);
      const outcome = decideCheck(input("/shiny/x", { cookie: "tp=good", "x-ticketplane-cluster": "ns/shiny/pod-b" }), sharing(tickets));
      assert.equal(outcome.kind, "valid");
      assert.equal(toCheckResponse(outcome).okResponse?.headers[0]?.header?.value, "ns/shiny/pod-a", "Check's pod replaces the client's");
    });

    it("allow does not bypass the input bounds or the start: 400 and 503 as before", () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      assert.equal(decideCheck(input("/" + "a".repeat(9000)), sharing(tickets)).kind, "bad_request");
      assert.equal(decideCheck(input("/other/"), { ...sharing(tickets), notReady: () => "the ledger is not restored yet" }).kind, "starting");
    });

    it("deny (the default, and when unset): 404", () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      assert.equal(decideCheck(input("/other/", spoofed), { ...context(tickets), unmatched: "deny" }).kind, "not_found");
      assert.equal(decideCheck(input("/other/", spoofed), context(tickets)).kind, "not_found");
    });
  });

  describe("an app whose route is in Proxy mode (at zero: the entry point sends it to the resolver)", () => {
    const atZero = (tickets: ScriptedTickets, modes: Record<string, "serve" | "proxy"> = { "ns/shiny": "proxy" }): DecideContext => ({ ...context(tickets), routeMode: (key) => modes[key] ?? "serve" });
    const forged = { cookie: "tp=tok; tpq=q1", "x-ticketplane-cluster": "ns/shiny/pod-a", "x-ticketplane-other": "1" };

    it("allowed untouched: every x-ticketplane-* header removed, no ticket verified, issued or queued", () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      const outcome = decideCheck(input("/shiny/x", forged), atZero(tickets));
      assert.equal(outcome.kind, "proxied");
      assert.equal(outcome.kind === "proxied" ? outcome.key : "", "ns/shiny");
      const strip = ["x-ticketplane-cluster", "x-ticketplane-pod", "x-ticketplane-pod-address", "x-ticketplane-ticket", "x-ticketplane-app", "x-ticketplane-other"];
      assert.deepEqual(outcome.kind === "proxied" ? outcome.strip : [], strip);
      const res = toCheckResponse(outcome);
      assert.equal(res.status?.code, 0);
      assert.equal(res.deniedResponse, undefined);
      assert.deepEqual(res.okResponse?.headers, [], "no cluster header: the route stays the entry point's (the resolver)");
      assert.deepEqual(res.okResponse?.headersToRemove, strip);
      assert.deepEqual(res.okResponse?.responseHeadersToAdd, [], "no Set-Cookie: nothing was issued");
      assert.deepEqual([tickets.verified, tickets.allocated, tickets.touched], [[], [], []]);
    });

    it("the waiting room's live endpoint goes to the resolver too (it holds it and decides there)", () => {
      const tickets = new ScriptedTickets(() => assert.fail("verify must not be called"));
      assert.equal(decideCheck(input("/shiny/.ticketplane/wait"), atZero(tickets)).kind, "proxied");
    });

    it("only that app: another app in Serve mode still needs a ticket, and the input bounds and the start come first", () => {
      const tickets = new ScriptedTickets(() => VALID);
      assert.equal(decideCheck(input("/shiny/x", { cookie: "tp=tok" }), atZero(tickets, { "ns/other": "proxy" })).kind, "valid");
      assert.equal(decideCheck(input("/" + "a".repeat(9000)), atZero(tickets)).kind, "bad_request");
      assert.equal(decideCheck(input("/shiny/x"), { ...atZero(tickets), notReady: () => "starting" }).kind, "starting");
    });

    it("back in Serve mode, a ticket the resolver issued is verified and routed as usual", () => {
      const tickets = new ScriptedTickets((token) => (token === "tok" ? VALID : absent()));
      const modes: Record<string, "serve" | "proxy"> = { "ns/shiny": "proxy" };
      const ctx = atZero(tickets, modes);
      assert.equal(decideCheck(input("/shiny/x", { cookie: "tp=tok" }), ctx).kind, "proxied");
      modes["ns/shiny"] = "serve";
      const outcome = decideCheck(input("/shiny/x", { cookie: "tp=tok" }), ctx);
      assert.equal(outcome.kind, "valid");
      assert.equal(toCheckResponse(outcome).okResponse?.headers[0]?.header?.value, "ns/shiny/pod-a");
    });
  });

  it("follows app changes from the ticket core", () => {
    const tickets = new ScriptedTickets(() => VALID);
    const apps = new AppIndex(tickets);
    assert.equal(apps.match("default", "h", "/shiny/")?.key, "ns/shiny");
    tickets.setApps([]);
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
        ["x-ticketplane-cluster", "ns/shiny/pod-a", false],
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

describe("toCheckResponse: the waiting room's live endpoint", () => {
  it("answers 200 admitted with the new ticket's cookie, and never names a pod", () => {
    const res = toCheckResponse({ kind: "issued", app, key: "ns/shiny", ticket, pod, token: "tok", clearQueueCookie: true, probe: true });
    assert.equal(res.okResponse, undefined);
    assert.notEqual(res.status?.code, 0, "a denial in gRPC terms: the gateway sends this body itself");
    assert.equal(res.deniedResponse?.status?.code, 200);
    assert.deepEqual(JSON.parse(res.deniedResponse?.body ?? ""), { status: "admitted" });
    const headers = (res.deniedResponse?.headers ?? []).map((h) => [h.header?.key, h.header?.value]);
    assert.deepEqual(
      headers.filter(([k]) => k === "set-cookie").map(([, v]) => v),
      ["tp=tok; Path=/shiny/; HttpOnly; SameSite=Lax; Max-Age=7200", "tpq=; Path=/shiny/; HttpOnly; SameSite=Lax; Max-Age=0"],
    );
    assert.ok(!headers.some(([k]) => k?.startsWith("x-ticketplane")));
    const valid = toCheckResponse({ kind: "valid", app, key: "ns/shiny", ticket, pod, probe: true });
    assert.equal(valid.deniedResponse?.status?.code, 200);
    assert.ok(!(valid.deniedResponse?.headers ?? []).some((h) => h.header?.key === "set-cookie"));
  });

  it("answers a waiting user with the page's fields: position, estimate and the endpoint to poll", () => {
    const res = toCheckResponse({ kind: "queued", app, key: "ns/shiny", position: 2, length: 3, queueToken: "q", retryAfterMs: 5000, estimatedWaitMs: 61_500, json: true });
    assert.equal(res.deniedResponse?.status?.code, 503);
    assert.deepEqual(JSON.parse(res.deniedResponse?.body ?? ""), { status: "queued", position: 2, length: 3, retryAfterSeconds: 5, estimatedWaitSeconds: 62, pollPath: "/shiny/.ticketplane/wait" });
    const page = toCheckResponse({ kind: "queued", app, key: "ns/shiny", position: 2, length: 3, queueToken: "q", retryAfterMs: 5000, json: false });
    assert.match(page.deniedResponse?.body ?? "", /data-poll="\/shiny\/\.ticketplane\/wait"/);
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
