/**
 * The resolver against real upstreams on 127.0.0.1 (HTTP, streaming bodies,
 * WebSocket) and honest fake ports; hold timeouts, the waiting page's delay
 * and probe retries run on the fake clock.
 */
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { afterEach, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { AppKey } from "../config/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { freePort, startUpstream, type Upstream } from "../../test/support/upstream-server.js";
import { eventually } from "../../test/support/wait-for.js";
import type { Destination, ProbeTarget, Progress, ResolverApp, ResolverPorts, ResolverRequest, TicketRef } from "./ports.js";
import { ResolverServer } from "./resolver-server.js";
import { PROGRESS_HEADER } from "./waiting-page.js";

const KEY: AppKey = "ns/app";
const APP: ResolverApp = { key: KEY, holdTimeoutMs: 30_000, waitingPageAfterMs: 3_000 };

/** Ports as a test drives them: it says when the pod is Ready, where it is, and sees every wake. */
class TestPorts implements ResolverPorts {
  target: ProbeTarget | undefined;
  state: Progress = "asleep";
  /** Where released requests go; default: the probe target, the path rewritten from /app/ to /. */
  routeTo: number | undefined;
  readonly wakes: AppKey[] = [];
  readonly served: AppKey[] = [];
  readonly routed: ResolverRequest[] = [];
  /** Connection activity reported: "open <ticket> <id>" / "close <ticket> <id>". */
  readonly connections: string[] = [];
  readonly #listeners = new Set<(app: AppKey) => void>();

  match(_host: string, path: string): ResolverApp | undefined {
    return path.startsWith("/app/") ? APP : undefined;
  }
  progress(): Progress {
    return this.state;
  }
  probeTarget(): ProbeTarget | undefined {
    return this.target;
  }
  wake(app: AppKey): void {
    this.wakes.push(app);
    if (this.state === "asleep") this.state = "waking";
  }
  /** Set: route answers later, when the test resolves each (a ticket from the app's owner on another replica). */
  later: (() => void)[] | undefined;
  route(_app: AppKey, request: ResolverRequest): Destination | Promise<Destination> {
    this.routed.push(request);
    const port = this.routeTo ?? this.target?.port ?? 1;
    const dest: Destination = { kind: "forward", ticket: { app: KEY, id: "t1" }, host: "127.0.0.1", port, path: "/" + request.path.slice("/app/".length), setHeaders: [["x-ticketplane-pod", "pod-1"]], responseHeaders: [["set-cookie", "tp=t1; Path=/app/"]] };
    const later = this.later;
    return later === undefined ? dest : new Promise<Destination>((resolve) => later.push(() => resolve(dest)));
  }
  serving(app: AppKey): void {
    this.served.push(app);
  }
  opened(ticket: TicketRef, id: string): void {
    this.connections.push(`open ${ticket.id} ${id}`);
  }
  closed(ticket: TicketRef, id: string): void {
    this.connections.push(`close ${ticket.id} ${id}`);
  }
  subscribe(listener: (app: AppKey) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** The pod is Ready (as a watch would say) at `port`. */
  ready(port: number): void {
    this.state = "ready";
    this.target = { host: "127.0.0.1", port, path: "/" };
    for (const l of this.#listeners) l(KEY);
  }
  asleep(): void {
    this.state = "asleep";
    this.target = undefined;
    for (const l of this.#listeners) l(KEY);
  }
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: { maxHeldPerApp?: number } = {}) {
  const clock = new FakeClock();
  const ports = new TestPorts();
  const registry = new Registry();
  const resolver = new ResolverServer({ ports, listen: { host: "127.0.0.1", port: 0 }, clock, logger: new RecordingLogger(), registry, probeIntervalMs: 100, retryDelayMs: 100, ...options });
  await resolver.start();
  cleanups.push(() => resolver.stop());
  const { port } = resolver.address();
  const send = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: init.headers ?? {}, agent: false });
    const answer = new Promise<Answer>((resolve, reject) => {
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
    });
    req.end(init.body);
    return { req, answer };
  };
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const base = name.replace(/_count$/, "");
    const m = (await registry.getSingleMetric(base)?.get())?.values ?? [];
    return m.filter((v) => ((v as { metricName?: string }).metricName ?? base) === name && Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((n, v) => n + v.value, 0);
  };
  const upstream = async (name: string, port?: number): Promise<Upstream> => {
    const u = await startUpstream(name, port);
    cleanups.push(() => u.close());
    return u;
  };
  return { clock, ports, resolver, send, metric, upstream, port };
}

/** Advances the fake clock a step at a time until `done` says so (probe retries, the retry of a refused request). */
async function advanceUntil(clock: FakeClock, done: () => boolean, stepMs = 100): Promise<void> {
  await eventually(async () => {
    if (done()) return true;
    await clock.advanceAsync(stepMs);
    return done();
  }, { what: "the resolver to move on", intervalMs: 10 });
}

/** A request held, then released to a pod that refuses its first connection and listens by the retry: its answer. */
async function refusedFirst(t: Awaited<ReturnType<typeof setup>>, path: string, init?: Parameters<Awaited<ReturnType<typeof setup>>["send"]>[1]): Promise<Answer> {
  const probed = await t.upstream("probe-target");
  const port = await freePort();
  t.ports.routeTo = port; // the probe answers, the pod the ticket names refuses at first
  const { answer } = t.send(path, init);
  await eventually(() => t.resolver.heldCount(KEY) === 1);
  t.ports.ready(probed.port);
  await eventually(() => t.ports.routed.length === 1 || undefined, { what: "the release" });
  await eventually(() => t.clock.pendingTimers >= 1 || undefined, { what: "the retry to be scheduled" });
  await t.upstream("second-try", port);
  let done = false;
  void answer.then(() => (done = true));
  await advanceUntil(t.clock, () => done);
  return answer;
}

describe("ResolverServer", () => {
  it("holds a request at zero, wakes the app, and forwards it with the ticket path's headers once the pod is Ready and answers", async () => {
    const t = await setup();
    const { answer } = t.send("/app/hello?x=1");
    await eventually(() => t.resolver.heldCount(KEY) === 1, { what: "the request to be held" });
    assert.deepEqual(t.ports.wakes, [KEY]);
    assert.equal(await t.metric("ticketplane_resolver_queue_length", { app: KEY }), 1);
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    const a = await answer;
    assert.equal(a.status, 200);
    assert.equal(a.body, "pod-1 GET /hello?x=1 pod=pod-1");
    assert.equal(a.headers["set-cookie"]?.[0], "tp=t1; Path=/app/");
    assert.deepEqual(t.ports.served, [KEY]);
    assert.equal(await t.metric("ticketplane_resolver_cold_start_ready_seconds_count"), 1);
    assert.equal(await t.metric("ticketplane_resolver_cold_start_first_byte_seconds_count"), 1);
    assert.equal(await t.metric("ticketplane_resolver_queue_length", { app: KEY }), 0);
    // Serving now: the next request passes straight through, without a wake.
    const b = await t.send("/app/again").answer;
    assert.equal(b.body, "pod-1 GET /again pod=pod-1");
    assert.equal(t.ports.wakes.length, 1);
  });

  it("forwards held requests in arrival order", async () => {
    const t = await setup();
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push(t.send(`/app/${String(i)}`).answer);
      await eventually(() => t.resolver.heldCount(KEY) === i + 1, { what: `request ${String(i)} held` });
    }
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    const bodies = (await Promise.all(answers)).map((a) => a.body);
    assert.deepEqual(bodies, [0, 1, 2, 3, 4].map((i) => `pod-1 GET /${String(i)} pod=pod-1`));
    assert.deepEqual(t.ports.routed.map((r) => r.path), ["/app/0", "/app/1", "/app/2", "/app/3", "/app/4"]);
  });

  it("a route that answers later (the ticket comes from the owner on another replica): each released request is forwarded once its answer is in", async () => {
    const t = await setup();
    t.ports.later = [];
    const first = t.send("/app/first").answer;
    const second = t.send("/app/second").answer;
    await eventually(() => t.resolver.heldCount(KEY) === 2, { what: "both held" });
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    await eventually(() => t.ports.later?.length === 2 || undefined, { what: "both released and asked for a destination" });
    const [answerFirst, answerSecond] = t.ports.later ?? [];
    let firstDone = false;
    void first.then(() => (firstDone = true));
    answerSecond?.();
    assert.equal((await second).body, "pod-1 GET /second pod=pod-1");
    assert.equal(firstDone, false, "the first waits for its own answer");
    answerFirst?.();
    assert.equal((await first).body, "pod-1 GET /first pod=pod-1");
    assert.deepEqual(t.ports.routed.map((r) => r.path), ["/app/first", "/app/second"], "asked in arrival order");
  });

  it("a pod Ready before it listens: keeps probing, and the held request still gets a 200", async () => {
    const t = await setup();
    const { answer } = t.send("/app/first");
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    const port = await freePort();
    t.ports.ready(port); // Ready as the watch sees it, but nothing listens yet
    await eventually(() => t.clock.pendingTimers >= 2 || undefined, { what: "a probe retry to be scheduled" });
    assert.equal(t.resolver.heldCount(KEY), 1, "not released on Ready alone");
    assert.deepEqual(t.ports.served, []);
    await t.upstream("late", port);
    let done = false;
    void answer.then(() => (done = true));
    await advanceUntil(t.clock, () => done);
    const a = await answer;
    assert.equal(a.status, 200);
    assert.equal(a.body, "late GET /first pod=pod-1");
  });

  it("retries a released request once when its connection is refused, to the same destination (routed once: no second ticket)", async () => {
    const t = await setup();
    assert.equal((await refusedFirst(t, "/app/x")).body, "second-try GET /x pod=pod-1");
    assert.equal(t.ports.routed.length, 1, "the retry reuses the first routing, so a request without a ticket is not issued a second");
  });

  it("a released upload whose connection is refused is retried with its whole body (nothing of it was read by the refused try)", async () => {
    const t = await setup();
    const body = "u".repeat(300 * 1024);
    const a = await refusedFirst(t, "/app/upload", { method: "POST", body });
    assert.equal(a.status, 200);
    assert.equal(a.body, body, "the upstream echoed every byte");
  });

  it("answers 502 when the retry is refused too, and probes again before the next release", async () => {
    const t = await setup();
    const probed = await t.upstream("probe-target");
    t.ports.routeTo = await freePort();
    const { answer } = t.send("/app/x");
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    t.ports.ready(probed.port);
    let done = false;
    void answer.then(() => (done = true));
    await advanceUntil(t.clock, () => done);
    const a = await answer;
    assert.equal(a.status, 502);
    assert.match(a.body, /refused/);
    assert.equal(await t.metric("ticketplane_resolver_dropped_total", { reason: "upstream_refused" }), 1);
  });

  it("streams a request body to the upstream and its answer back", async () => {
    const t = await setup();
    const up = await t.upstream("pod-1");
    const { answer } = t.send("/app/upload", { method: "POST", body: "x".repeat(256 * 1024) });
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    t.ports.ready(up.port);
    const a = await answer;
    assert.equal(a.status, 200);
    assert.equal(a.body.length, 256 * 1024);
  });

  it("answers 504 with a clear body when the hold timeout passes", async () => {
    const t = await setup();
    const { answer } = t.send("/app/slow");
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    t.clock.advance(APP.holdTimeoutMs);
    const a = await answer;
    assert.equal(a.status, 504);
    assert.match(a.body, /ns\/app did not start within 30 s/);
    assert.equal(t.resolver.heldCount(KEY), 0);
    assert.equal(await t.metric("ticketplane_resolver_dropped_total", { reason: "timeout" }), 1);
  });

  it("answers 503 with Retry-After when the app's queue is full", async () => {
    const t = await setup({ maxHeldPerApp: 2 });
    t.send("/app/1");
    t.send("/app/2");
    await eventually(() => t.resolver.heldCount(KEY) === 2);
    const a = await t.send("/app/3").answer;
    assert.equal(a.status, 503);
    assert.equal(a.headers["retry-after"], "5");
    assert.equal(await t.metric("ticketplane_resolver_dropped_total", { reason: "queue_full" }), 1);
  });

  it("drops and counts a client that disconnects while held; it is never forwarded", async () => {
    const t = await setup();
    const { req, answer } = t.send("/app/gone");
    answer.catch(() => undefined);
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    req.destroy();
    await eventually(() => t.resolver.heldCount(KEY) === 0, { what: "the held request to be dropped" });
    assert.equal(await t.metric("ticketplane_resolver_dropped_total", { reason: "client_gone" }), 1);
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    const b = await t.send("/app/next").answer;
    assert.equal(b.status, 200);
    assert.deepEqual(t.ports.routed.map((r) => r.path), ["/app/next"]);
  });

  it("gives a page navigation the waiting page after waitingPageAfter; API calls stay held", async () => {
    const t = await setup();
    const page = t.send("/app/", { headers: { accept: "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate" } });
    const api = t.send("/app/api", { headers: { accept: "application/json" } });
    await eventually(() => t.resolver.heldCount(KEY) === 2);
    t.clock.advance(APP.waitingPageAfterMs ?? 0);
    const a = await page.answer;
    assert.equal(a.status, 503);
    assert.match(String(a.headers["content-type"]), /text\/html/);
    assert.match(a.body, /Starting ns\/app/);
    assert.match(a.body, /data-progress="waking"/);
    assert.doesNotMatch(a.body, /<link|src=/, "no external assets");
    assert.equal(t.resolver.heldCount(KEY), 1, "the API call is still held");
    const progress = await t.send("/app/", { headers: { [PROGRESS_HEADER]: "progress" } }).answer;
    assert.deepEqual(JSON.parse(progress.body), { app: KEY, progress: "waking" });
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    assert.equal((await api.answer).status, 200);
    const after = await t.send("/app/", { headers: { [PROGRESS_HEADER]: "progress" } }).answer;
    assert.deepEqual(JSON.parse(after.body), { app: KEY, progress: "serving" });
  });

  it("a page navigation alone at zero: the waiting page, then the probe still runs and its poll reads serving", async () => {
    const t = await setup();
    const page = t.send("/app/", { headers: { accept: "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate" } });
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    t.clock.advance(APP.waitingPageAfterMs ?? 0);
    assert.equal((await page.answer).status, 503);
    assert.equal(t.resolver.heldCount(KEY), 0, "nothing else is held");
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    await advanceUntil(t.clock, () => t.ports.served.length === 1);
    const after = await t.send("/app/", { headers: { [PROGRESS_HEADER]: "progress" } }).answer;
    assert.deepEqual(JSON.parse(after.body), { app: KEY, progress: "serving" });
  });

  it("carries a WebSocket through: held at zero, upgraded once the pod serves", async () => {
    const t = await setup();
    const ws = new WebSocket(`ws://127.0.0.1:${String(t.port)}/app/ws`);
    const messages: string[] = [];
    ws.addEventListener("message", (e) => messages.push(String(e.data)));
    const opened = new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("websocket failed")));
    });
    await eventually(() => t.resolver.heldCount(KEY) === 1, { what: "the upgrade to be held" });
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    await opened;
    ws.send("hello");
    await eventually(() => messages.length === 1 || undefined, { what: "the echo" });
    assert.deepEqual(messages, ["pod-1: hello"]);
    assert.equal(t.ports.connections.length, 1, "the open is reported once the upstream answered 101");
    const [open] = t.ports.connections;
    assert.match(open ?? "", /^open t1 resolver-/);
    ws.close();
    await eventually(() => t.ports.connections.length === 2 || undefined, { what: "the close reported" });
    assert.equal(t.ports.connections[1], open?.replace("open", "close"), "the same ticket and connection id");
  });

  it("reports no connection for a plain request", async () => {
    const t = await setup();
    const up = await t.upstream("pod-1");
    t.ports.ready(up.port);
    assert.equal((await t.send("/app/x").answer).status, 200);
    assert.deepEqual(t.ports.connections, []);
  });

  it("holds again after the app went back to zero", async () => {
    const t = await setup();
    const up = await t.upstream("pod-1");
    t.send("/app/a");
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    t.ports.ready(up.port);
    await eventually(() => t.resolver.heldCount(KEY) === 0);
    t.ports.asleep();
    t.send("/app/b");
    await eventually(() => t.resolver.heldCount(KEY) === 1, { what: "the request to be held again" });
    assert.equal(t.ports.wakes.length, 2);
  });

  it("answers 404 for a path that belongs to no app", async () => {
    const t = await setup();
    const a = await t.send("/other/").answer;
    assert.equal(a.status, 404);
  });

  it("answers everything still held with 503 when it stops", async () => {
    const t = await setup();
    const { answer } = t.send("/app/x");
    await eventually(() => t.resolver.heldCount(KEY) === 1);
    await t.resolver.stop();
    const a = await answer;
    assert.equal(a.status, 503);
    assert.equal(await t.metric("ticketplane_resolver_dropped_total", { reason: "stopping" }), 1);
  });
});
