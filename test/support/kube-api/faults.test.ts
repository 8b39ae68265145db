/**
 * The test API server's fault injection, seen by a plain fetch client:
 * injected 500/429 answers, dropped and stalled watches, a restart that
 * forgets the history (410), and a paused server (connection refused).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useKubeApi } from "./harness.ts";
import { configMap, CONFIGMAPS } from "./objects.ts";

const k = useKubeApi();

describe("kube-api: fault injection", () => {
  it("failNext answers the next N requests to a path with 500, then serves again; other paths are untouched", async () => {
    k.server.failNext(2, { status: 500, path: CONFIGMAPS });
    assert.equal((await k.api.get("/api/v1/namespaces/default/pods")).status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await k.api.get(CONFIGMAPS);
      assert.equal(r.status, 500);
      assert.deepEqual({ kind: r.body.kind, reason: r.body.reason, code: r.body.code }, { kind: "Status", reason: "InternalError", code: 500 });
    }
    assert.equal((await k.api.get(CONFIGMAPS)).status, 200);
  });

  it("partition makes the server unreachable for one client (by bearer token) while others are served; heal ends it; requests record their client", async () => {
    const as = (token: string) => fetch(`${k.server.url}${CONFIGMAPS}`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    // A watch of the partitioned client is cut too.
    const watching = fetch(`${k.server.url}${CONFIGMAPS}?watch=true`, { headers: { Authorization: "Bearer replica-a" }, signal: AbortSignal.timeout(5_000) });
    const watch = await watching;
    const reading = watch.body?.getReader().read();
    k.server.partition("replica-a");
    await assert.rejects(async () => reading, "the open watch is reset");
    await assert.rejects(as("replica-a"), "a new request is reset");
    assert.equal((await as("replica-b")).status, 200);
    k.server.heal("replica-a");
    assert.equal((await as("replica-a")).status, 200);
    assert.deepEqual(k.server.requests.filter((r) => r.path === CONFIGMAPS && r.query === "").map((r) => r.client), ["replica-b", "replica-a"]);
  });

  it("clearFailures forgets the failures not yet served", async () => {
    k.server.failNext(5, { status: 500, path: CONFIGMAPS });
    assert.equal((await k.api.get(CONFIGMAPS)).status, 500);
    k.server.clearFailures();
    assert.equal((await k.api.get(CONFIGMAPS)).status, 200);
  });

  it("failNext with 429 sends TooManyRequests with Retry-After, for one method only if asked", async () => {
    k.server.failNext(1, { status: 429, method: "POST", retryAfterSeconds: 7 });
    assert.equal((await k.api.get(CONFIGMAPS)).status, 200);
    const r = await k.api.post(CONFIGMAPS, configMap("a"));
    assert.equal(r.status, 429);
    assert.equal(r.headers.get("retry-after"), "7");
    assert.equal(r.body.reason, "TooManyRequests");
    assert.equal((r.body.details as { retryAfterSeconds: number }).retryAfterSeconds, 7);
    assert.equal((await k.api.post(CONFIGMAPS, configMap("a"))).status, 201);
  });

  it("dropWatches ends every open watch (cleanly, or by resetting the connection when abrupt)", async () => {
    const rv = k.server.store.resourceVersion;
    const clean = await k.watch(`${CONFIGMAPS}?resourceVersion=${rv}`);
    assert.equal(k.server.openWatches, 1);
    assert.equal(k.server.dropWatches(), 1);
    await clean.waitEnded();
    assert.equal(clean.error, undefined);
    const cut = await k.watch(`${CONFIGMAPS}?resourceVersion=${rv}`);
    k.server.dropWatches({ abrupt: true });
    await cut.waitEnded();
    assert.ok(cut.error !== undefined, "an abrupt drop breaks the response");
    assert.equal(k.server.openWatches, 0);
  });

  it("stallWatches keeps a watch open but silent (no events, no bookmarks) until it is dropped; new watches are served", async () => {
    await k.restartWith({ bookmarkIntervalMs: 20 });
    const stalled = await k.watch(`${CONFIGMAPS}?resourceVersion=${k.server.store.resourceVersion}&allowWatchBookmarks=true`);
    k.server.stallWatches();
    await k.api.post(CONFIGMAPS, configMap("a"));
    assert.equal(await stalled.nextOrUndefined(200), undefined);
    assert.equal(stalled.ended, false);
    const fresh = await k.watch(CONFIGMAPS);
    assert.equal((await fresh.next()).type, "ADDED");
    k.server.dropWatches();
    await stalled.waitEnded();
  });

  it("restart cuts the watches and forgets the history: an old resourceVersion is 410, the current one and the objects are fine", async () => {
    const old = (await k.api.post(CONFIGMAPS, configMap("a"))).body.metadata?.resourceVersion ?? "";
    await k.api.post(CONFIGMAPS, configMap("b"));
    const open = await k.watch(`${CONFIGMAPS}?resourceVersion=${old}`);
    assert.equal((await open.next()).type, "ADDED");
    k.server.restart();
    await open.waitEnded();
    const expired = await k.watch(`${CONFIGMAPS}?resourceVersion=${old}`);
    const e = await expired.next();
    assert.deepEqual([e.type, e.object.code], ["ERROR", 410]);
    assert.equal((await k.api.get(`${CONFIGMAPS}?resourceVersion=${old}&resourceVersionMatch=Exact`)).status, 410);
    const current = await k.watch(`${CONFIGMAPS}?resourceVersion=${k.server.store.resourceVersion}`);
    await k.api.post(CONFIGMAPS, configMap("c"));
    assert.equal((await current.next()).type, "ADDED");
    assert.equal(((await k.api.get(CONFIGMAPS)).body.items as unknown[]).length, 3);
  });

  it("pause refuses connections until resume, on the same port", async () => {
    const port = k.server.port;
    await k.server.pause();
    await assert.rejects(fetch(`${k.server.url}${CONFIGMAPS}`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === "ECONNREFUSED");
    await k.server.resume();
    assert.equal(k.server.port, port);
    assert.equal((await k.api.get(CONFIGMAPS)).status, 200);
  });

  it("onRequest sees every request as it arrives, failed ones included, until removed; status is set once answered", async () => {
    const seen: { method: string; path: string; status: () => number }[] = [];
    const remove = k.server.onRequest((r) => seen.push({ method: r.method, path: r.path, status: () => r.status }));
    k.server.failNext(1, { status: 500, path: CONFIGMAPS });
    await k.api.get(CONFIGMAPS);
    await k.api.post(CONFIGMAPS, configMap("seen"));
    remove();
    await k.api.get(CONFIGMAPS);
    assert.deepEqual(seen.map((r) => [r.method, r.path, r.status()]), [["GET", CONFIGMAPS, 500], ["POST", CONFIGMAPS, 201]]);
  });
});
