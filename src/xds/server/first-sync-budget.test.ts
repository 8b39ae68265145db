import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { waitFor } from "../../../test/support/wait-for.js";
import { TYPE_URLS } from "../resources/type-urls.js";
import { connectAds, node, type DeltaWireResponse, type TestAdsStream } from "./ads-client.fixture.js";
import { ackDelta, startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";

const PODS = Array.from({ length: 300 }, (_, i) => `ns/app/pod-${String(i).padStart(4, "0")}`);
const ANSWER_WAIT_MS = 5_000;

describe("the server-wide first-sync budget, over real streams", () => {
  let env: AdsTestEnv;
  const clients: ReturnType<typeof connectAds>[] = [];
  const streams: TestAdsStream<DeltaWireResponse>[] = [];
  beforeEach(async () => {
    // One byte: one first sync at a time, held until its gateway answers it.
    env = await startAdsEnv({ limits: { maxFirstSyncBytes: 1, firstSyncAnswerWaitMs: ANSWER_WAIT_MS } });
    env.setPods(PODS);
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.cancel();
    for (const c of clients.splice(0)) c.client.close();
    await env.close();
  });

  function gateway(name: string): TestAdsStream<DeltaWireResponse> {
    const c = connectAds(env.harness.address, { "test.connection": name });
    clients.push(c);
    const s = c.delta();
    s.send({ node: node(name), type_url: TYPE_URLS.cluster });
    streams.push(s);
    return s;
  }

  const firstSyncs = (): { bytes: number; streamsWaiting: number } => env.ads.status().firstSyncs;

  it("writes the next gateway's first sync only once the previous one was ACKed, in arrival order, with nothing lost; a change after it is not held", async () => {
    const a = gateway("gw-a");
    const ra = await a.next();
    assert.equal(ra.resources?.length, PODS.length);
    const b = gateway("gw-b");
    await waitFor(() => firstSyncs().streamsWaiting === 1);
    const c = gateway("gw-c");
    await waitFor(() => firstSyncs().streamsWaiting === 2);
    assert.equal(b.queued.length + c.queued.length, 0, "both wait while the first sync of gw-a is not answered");
    assert.ok(firstSyncs().bytes > 0);

    await ackDelta(env, a, ra);
    const rb = await b.next();
    assert.equal(rb.resources?.length, PODS.length, "the whole list, not a part");
    await waitFor(() => firstSyncs().streamsWaiting === 1);
    assert.equal(c.queued.length, 0, "gw-c is still behind gw-b");
    // A NACK answers too.
    b.send({ type_url: TYPE_URLS.cluster, response_nonce: rb.nonce, error_detail: { code: 3, message: "rejected" } });
    const rc = await c.next();
    assert.equal(rc.resources?.length, PODS.length);
    await ackDelta(env, c, rc);
    await waitFor(() => firstSyncs().bytes === 0 && firstSyncs().streamsWaiting === 0);

    // A later change goes to every gateway at once: only first syncs wait for the budget.
    env.setPods([...PODS, "ns/app/pod-new"]);
    const changes = await Promise.all([a.next(), c.next()]);
    for (const r of changes) assert.deepEqual(r.resources?.map((x) => x.name), ["ns/app/pod-new"]);
    assert.equal(firstSyncs().bytes, 0);
  });

  it("a gateway that disconnects while waiting gives up its place, and one that never answers holds its place only for the answer wait", async () => {
    const silent = gateway("gw-silent");
    await silent.next();
    const leaving = gateway("gw-leaving");
    await waitFor(() => firstSyncs().streamsWaiting === 1);
    const next = gateway("gw-next");
    await waitFor(() => firstSyncs().streamsWaiting === 2);
    leaving.cancel();
    await waitFor(() => env.ads.status().streams.length === 2);
    assert.equal(firstSyncs().streamsWaiting, 1);

    // gw-silent never ACKs: after the answer wait (fake clock) its bytes go back and gw-next, the first still waiting, goes.
    env.clock.advance(ANSWER_WAIT_MS - 1);
    assert.equal(next.queued.length, 0);
    env.clock.advance(1);
    const r = await next.next();
    assert.equal(r.resources?.length, PODS.length);
    await ackDelta(env, next, r);
    await waitFor(() => firstSyncs().bytes === 0 && firstSyncs().streamsWaiting === 0);
  });

  it("a gateway in its turn gets its endpoints' first sync before it answers its clusters', while the next one still waits", async () => {
    const a = gateway("gw-a");
    const clusters = await a.next();
    const b = gateway("gw-b");
    await waitFor(() => firstSyncs().streamsWaiting === 1);
    a.send({ type_url: TYPE_URLS.endpoints, resource_names_subscribe: PODS });
    const endpoints = await a.next();
    assert.equal(endpoints.type_url, TYPE_URLS.endpoints);
    assert.equal(endpoints.resources?.length, PODS.length);
    assert.equal(firstSyncs().streamsWaiting, 1);
    await ackDelta(env, a, clusters);
    assert.equal(firstSyncs().streamsWaiting, 1, "gw-a still holds its endpoints' first sync");
    await ackDelta(env, a, endpoints);
    assert.equal((await b.next()).resources?.length, PODS.length);
  });

  it("a gateway that disconnects before answering gives its bytes back and the next goes", async () => {
    const first = gateway("gw-first");
    await first.next();
    const second = gateway("gw-second");
    await waitFor(() => firstSyncs().streamsWaiting === 1);
    first.cancel();
    const r = await second.next();
    assert.equal(r.resources?.length, PODS.length);
    await ackDelta(env, second, r);
    await waitFor(() => firstSyncs().bytes === 0);
  });
});
