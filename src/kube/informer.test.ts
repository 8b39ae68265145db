/**
 * The informer against the test API server (real HTTP, real client-node
 * Watch) under every fault the issue names; timers on the fake clock, so
 * "no tight loop" is counted in requests between clock steps, not timed.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Watch } from "@kubernetes/client-node";
import { ERROR_CODES } from "../common/errors.js";
import { FakeClock, flushPromises } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { PODS, pod } from "../../test/support/kube-api/objects.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { eventually, waitFor } from "../../test/support/wait-for.js";
import { loadConnection } from "./client.js";
import { Informer } from "./informer.js";
import type { Change, ResourceSource } from "./informer.js";
import { kubeApis, podsIn, ticketedAppsIn } from "./resources.js";
import { stripPod } from "./strip.js";
import type { CachedPod } from "./strip.js";

const WATCH_TIMEOUT_S = 60;
const GRACE_MS = 5_000;

describe("Informer (list+watch against the test API server)", () => {
  const kube = useKubeApi();
  let clock: FakeClock;
  let logger: RecordingLogger;
  let informer: Informer<CachedPod> | undefined;
  let changes: Change<CachedPod>[];

  beforeEach(() => {
    clock = new FakeClock();
    logger = new RecordingLogger();
    changes = [];
  });
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
  });

  const connect = async (): Promise<{ source: ResourceSource; watch: Watch }> => {
    const connection = loadConnection({ kubeconfig: await kube.server.writeKubeconfig(), env: {} });
    return { source: podsIn(kubeApis(connection.kubeConfig), "default"), watch: new Watch(connection.kubeConfig) };
  };
  const start = async (overrides: { source?: ResourceSource } = {}): Promise<Informer<CachedPod>> => {
    const { source, watch } = await connect();
    informer = new Informer({
      source: overrides.source ?? source,
      strip: stripPod,
      keyOf: (p) => `${p.namespace}/${p.name}`,
      watch,
      clock,
      logger,
      onChange: (c) => changes.push(...c),
      backoff: { baseMs: 1_000, maxMs: 16_000, random: () => 0 },
      watchTimeoutSeconds: WATCH_TIMEOUT_S,
      stallGraceMs: GRACE_MS,
      relistIntervalMs: 3_600_000,
    });
    await informer.start(new AbortController().signal);
    return informer;
  };
  const names = (): string => [...(informer?.items().keys() ?? [])].sort().join(",");
  const lists = (): number => kube.server.requests.filter((r) => r.method === "GET" && r.path === PODS && !r.query.includes("watch=true")).length;
  const watches = (): number => kube.server.requests.filter((r) => r.path === PODS && r.query.includes("watch=true")).length;
  const watching = (n: number): Promise<void> => waitFor(() => watches() >= n && kube.server.openWatches > 0, { what: () => `watch #${n} open (have ${watches()}, open ${kube.server.openWatches})` });
  const retriesScheduled = (): number => logger.lines.filter((l) => /failed; retrying with backoff/.test(l.message)).length;
  const create = async (name: string): Promise<void> => {
    assert.equal((await kube.api.post(PODS, pod(name, { app: "shiny" }))).status, 201);
  };
  /** Steps the fake clock until `cond` holds: each step lets at most one backoff timer fire. */
  const advanceUntil = (cond: () => boolean, stepMs: number, what: string): Promise<boolean> =>
    eventually(async () => {
      if (cond()) return true;
      await clock.advanceAsync(stepMs);
      return cond();
    }, { what });

  it("lists what exists, then follows additions, updates and deletions over one watch with bookmarks and a bounded timeout", async () => {
    await create("a");
    await start();
    assert.equal(names(), "default/a");
    assert.equal(informer?.synced(), true);
    assert.equal(informer?.readinessReason(), undefined);
    await watching(1);
    const query = kube.server.requests.find((r) => r.path === PODS && r.query.includes("watch=true"))?.query ?? "";
    assert.match(query, /allowWatchBookmarks=true/);
    assert.match(query, new RegExp(`timeoutSeconds=${WATCH_TIMEOUT_S}`));
    assert.match(query, /resourceVersion=\d+/);

    await create("b");
    await waitFor(() => names() === "default/a,default/b", { what: "pod b" });
    await kube.api.patch(`${PODS}/b`, { metadata: { deletionTimestamp: null, annotations: { "controller.kubernetes.io/pod-deletion-cost": "5" } } }, "application/merge-patch+json");
    await waitFor(() => informer?.get("default/b")?.deletionCost === "5", { what: "deletion cost" });
    await kube.api.delete(`${PODS}/a`);
    await waitFor(() => names() === "default/b", { what: "pod a gone" });
    assert.deepEqual(changes.map((c) => `${c.key}:${c.before === undefined ? "+" : c.after === undefined ? "-" : "~"}`), ["default/a:+", "default/b:+", "default/b:~", "default/a:-"]);
    assert.equal(lists(), 1, "one list; everything else came over the watch");
  });

  it("an update to fields it does not keep is no change", async () => {
    await create("a");
    await start();
    await watching(1);
    const before = changes.length;
    await kube.api.patch(`${PODS}/a`, { spec: { activeDeadlineSeconds: 30 }, metadata: { annotations: { unrelated: "x" } } }, "application/merge-patch+json");
    await create("marker");
    await waitFor(() => informer?.get("default/marker") !== undefined, { what: "marker" });
    assert.deepEqual(changes.slice(before).map((c) => c.key), ["default/marker"]);
  });

  it("a watch the server ends cleanly is resumed from its resourceVersion, without a relist", async () => {
    await start();
    await watching(1);
    // The watch lasted (a server timeout after minutes), so it is resumed at once.
    await clock.advanceAsync(2_000);
    assert.equal(kube.server.dropWatches(), 1);
    await watching(2);
    await create("after-drop");
    await waitFor(() => names() === "default/after-drop", { what: "the pod created after the drop" });
    assert.equal(lists(), 1);
    assert.equal(informer?.readinessReason(), undefined);
  });

  it("a server that ends every watch at once is retried with backoff, not in a loop", async () => {
    await start();
    await watching(1);
    kube.server.dropWatches();
    // Delivered nothing and lasted no time: a failure, so the next watch waits for the backoff.
    await waitFor(() => /failing/.test(informer?.readinessReason() ?? ""), { what: "the failure recorded" });
    for (let i = 0; i < 20; i++) await flushPromises();
    assert.equal(watches(), 1, "no new watch until the clock moves");
    assert.match(informer?.readinessReason() ?? "", /^watch of pods in namespace default failing since .*: the watch ended at once/);
    // The first wait: half of the 1 s base (jitter pinned at its low end).
    await clock.advanceAsync(499);
    assert.equal(watches(), 1);
    await clock.advanceAsync(1);
    await watching(2);
  });

  it("410 Gone after an API server restart (new history): relists and converges", async () => {
    await create("a");
    await start();
    await watching(1);
    kube.server.restart();
    kube.server.store.create(kube.server.store.kinds.find((k) => k.plural === "pods")!, "default", pod("born-after-restart"));
    await kube.api.delete(`${PODS}/a`);
    // The new history does not reach back to the informer's resourceVersion.
    kube.server.store.compact();
    await advanceUntil(() => names() === "default/born-after-restart", 1_000, "the relist after 410");
    assert.ok(lists() >= 2, "relisted");
    assert.ok(logger.lines.some((l) => /410 Gone/.test(l.message)), "the 410 was logged");
    await waitFor(() => informer?.readinessReason() === undefined, { what: "healthy again" });
  });

  it("a stalled watch (open, silent) is abandoned past its timeout and the collection relisted", async () => {
    await start();
    await watching(1);
    kube.server.stallWatches();
    await create("missed");
    for (let i = 0; i < 20; i++) await flushPromises();
    assert.equal(names(), "", "the stalled watch delivered nothing");
    await clock.advanceAsync(WATCH_TIMEOUT_S * 1000 + GRACE_MS - 1);
    assert.equal(lists(), 1);
    await clock.advanceAsync(1);
    await waitFor(() => names() === "default/missed", { what: "the relist after the stall" });
    assert.equal(lists(), 2);
    assert.ok(logger.lines.some((l) => l.level === "warn" && /watch stalled/.test(l.message)));
  });

  it("500 on the list: start waits, readiness names the failure, retries back off exponentially, then converges", async () => {
    await create("a");
    kube.server.failNext(3, { status: 500, path: PODS });
    const { source, watch } = await connect();
    informer = new Informer({ source, strip: stripPod, keyOf: (p) => p.name, watch, clock, logger, backoff: { baseMs: 1_000, maxMs: 16_000, random: () => 0 } });
    let started = false;
    const starting = informer.start(new AbortController().signal).then(() => (started = true));
    await waitFor(() => lists() === 1 && informer?.readinessReason()?.startsWith("list of pods in namespace default failing since") === true, { what: "first failure" });
    assert.match(informer.readinessReason() ?? "", /: 500 InternalError: /);
    assert.equal(informer.lastError()?.code, ERROR_CODES.UNAVAILABLE);
    // Waits: 500 ms, 1 s, 2 s (half of 1, 2, 4 s with the jitter pinned at its low end).
    for (const [wait, expected] of [[500, 2], [1_000, 3], [2_000, 4]] as const) {
      await waitFor(() => retriesScheduled() === expected - 1, { what: `failure #${expected - 1} handled` });
      await clock.advanceAsync(wait - 1);
      assert.equal(lists(), expected - 1, `no retry before ${wait} ms`);
      await clock.advanceAsync(1);
      await waitFor(() => lists() === expected, { what: `list #${expected}` });
    }
    await starting;
    assert.ok(started);
    assert.equal(names(), "a");
    assert.equal(informer.readinessReason(), undefined);
  });

  it("429 with Retry-After: waits at least what the server asked", async () => {
    kube.server.failNext(1, { status: 429, path: PODS, retryAfterSeconds: 7 });
    const { source, watch } = await connect();
    informer = new Informer({ source, strip: stripPod, keyOf: (p) => p.name, watch, clock, logger, backoff: { baseMs: 1_000, random: () => 0 } });
    const starting = informer.start(new AbortController().signal);
    await waitFor(() => /failing/.test(informer?.readinessReason() ?? ""), { what: "the 429 recorded" });
    assert.match(informer.readinessReason() ?? "", /429 TooManyRequests/);
    await clock.advanceAsync(6_999);
    assert.equal(lists(), 1);
    await clock.advanceAsync(1);
    await starting;
    assert.equal(lists(), 2);
  });

  it("the server goes away and comes back: readiness says so meanwhile, then it reconnects and catches up", async () => {
    await create("a");
    await start();
    await watching(1);
    await kube.server.pause();
    await waitFor(() => /failing/.test(informer?.readinessReason() ?? ""), { what: "the watch failure" });
    // Changes while it is away (straight into the store: the server is not listening).
    const pods = kube.server.store.kinds.find((k) => k.plural === "pods")!;
    kube.server.store.create(pods, "default", pod("while-away"));
    kube.server.store.delete(pods, "default", "a");
    // Retries back off: 1, 2, 4, 8, 16, 16 s … (failures counted, not timed).
    await clock.advanceAsync(60_000);
    // At most one try per backoff step (0.5, 1, 2, 4, 8, 8 … s with the jitter pinned low): no loop.
    assert.ok(retriesScheduled() <= 11, `${retriesScheduled()} retries in a minute`);
    assert.match(informer?.readinessReason() ?? "", /^watch of pods in namespace default failing since .*connect|fetch failed|ECONNREFUSED|terminated|other side closed/);
    await kube.server.resume();
    await advanceUntil(() => names() === "default/while-away", 4_000, "caught up after the server came back");
    await waitFor(() => informer?.readinessReason() === undefined, { what: "healthy again" });
  });

  it("refusals that retrying cannot fix stop the start with a typed error: 404 for a kind the server does not serve", async () => {
    const { source, watch } = await connect();
    const missing: ResourceSource = { ...source, description: "widgets in namespace default", list: () => Promise.reject(Object.assign(new Error("HTTP-Code: 404"), { code: 404, body: { kind: "Status", code: 404, reason: "NotFound", message: "the server could not find the requested resource" } })) };
    const inf = new Informer({ source: missing, strip: stripPod, keyOf: (p) => p.name, watch, clock, logger });
    await assert.rejects(inf.start(new AbortController().signal), (err: Error & { code?: string }) => err.code === ERROR_CODES.NOT_FOUND && /cannot list widgets in namespace default: the API server does not serve this kind \(is its CustomResourceDefinition installed\?\)/.test(err.message));
    await inf.stop();
  });

  it("objects it cannot read are skipped; a change handler that throws is logged, and the cache carries on", async () => {
    const { source, watch } = await connect();
    const odd: ResourceSource = { ...source, list: async (p) => ({ ...(await source.list(p)), items: [{ metadata: {} }, "junk", pod("ok")] }) };
    let calls = 0;
    informer = new Informer({ source: odd, strip: stripPod, keyOf: (p) => `${p.namespace}/${p.name}`, watch, clock, logger, onChange: () => { calls++; throw new Error("consumer bug"); } });
    await informer.start(new AbortController().signal);
    assert.equal(names(), "default/ok");
    await watching(1);
    await create("next");
    await waitFor(() => informer?.get("default/next") !== undefined, { what: "next" });
    assert.equal(calls, 2);
    assert.ok(logger.lines.some((l) => l.level === "error" && /change handler threw/.test(l.message)));
  });

  it("lists in pages and watches TicketedApps in every namespace", async () => {
    const connection = loadConnection({ kubeconfig: await kube.server.writeKubeconfig(), env: {} });
    for (const ns of ["a", "b"]) await kube.api.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    for (let i = 0; i < 5; i++) await kube.api.post(`/apis/ticketplane.dev/v1alpha1/namespaces/${i % 2 === 0 ? "a" : "b"}/ticketedapps`, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: `t${i}` }, spec: {} });
    const apps = new Informer({ source: ticketedAppsIn(kubeApis(connection.kubeConfig), undefined), strip: (o) => o as { metadata: { namespace: string; name: string } }, keyOf: (o) => `${o.metadata.namespace}/${o.metadata.name}`, watch: new Watch(connection.kubeConfig), clock, logger, pageSize: 2 });
    try {
      await apps.start(new AbortController().signal);
      assert.deepEqual([...apps.items().keys()].sort(), ["a/t0", "a/t2", "a/t4", "b/t1", "b/t3"]);
      assert.equal(kube.server.requests.filter((r) => r.path === "/apis/ticketplane.dev/v1alpha1/ticketedapps" && !r.query.includes("watch")).length, 3, "three pages of two");
    } finally {
      await apps.stop();
    }
  });
});
