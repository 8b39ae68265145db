import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { waitFor } from "../../../test/support/wait-for.js";
import { TYPE_URLS } from "../resources/type-urls.js";
import { connectAds, node, type DeltaWireResponse, type TestAdsStream } from "./ads-client.fixture.js";
import { startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";
import { RawDeltaStream } from "./raw-ads-client.fixture.js";
import { WriteBudget } from "./write-budget.js";

describe("WriteBudget", () => {
  it("lets writes start below the limit, queues the rest once each, and wakes them in order while there is room", () => {
    const budget = new WriteBudget(100);
    const woken: string[] = [];
    const a = (): void => void woken.push("a");
    const b = (): void => void woken.push("b");
    const c = (): void => void woken.push("c");
    assert.equal(budget.hasRoom(a), true);
    budget.take(150); // one write may cross the limit
    assert.equal(budget.hasRoom(b), false);
    assert.equal(budget.hasRoom(b), false);
    assert.equal(budget.hasRoom(c), false);
    assert.equal(budget.waiting, 2);
    budget.release(10);
    assert.deepEqual(woken, [], "still at the limit");
    budget.release(41);
    assert.deepEqual(woken, ["b", "c"]);
    assert.equal(budget.waiting, 0);
    assert.equal(budget.inFlight, 99);
  });

  it("stops waking once a woken stream fills the budget again; the rest wait for the next release", () => {
    const budget = new WriteBudget(100);
    const woken: string[] = [];
    budget.take(100);
    const fill = (): void => {
      woken.push("fill");
      budget.take(100);
    };
    const next = (): void => void woken.push("next");
    budget.hasRoom(fill);
    budget.hasRoom(next);
    budget.release(100);
    assert.deepEqual(woken, ["fill"]);
    budget.release(100);
    assert.deepEqual(woken, ["fill", "next"]);
  });

  it("forgets the wake-up of a stream that closed", () => {
    const budget = new WriteBudget(1);
    const woken: string[] = [];
    const a = (): void => void woken.push("a");
    budget.take(1);
    budget.hasRoom(a);
    budget.forget(a);
    budget.release(1);
    assert.deepEqual(woken, []);
  });
});

/** Pods enough that the cluster list is far larger than HTTP/2's initial window (64 KB): a gateway that does not read stalls the write. */
const PODS = Array.from({ length: 1_500 }, (_, i) => `ns/app/pod-with-a-long-name-${String(i).padStart(5, "0")}`);

describe("the server-wide write budget, over real streams", () => {
  let env: AdsTestEnv;
  const clients: ReturnType<typeof connectAds>[] = [];
  beforeEach(async () => {
    // One byte each: a stream, and the whole server, start a write only with nothing in flight.
    env = await startAdsEnv({ limits: { maxBytesInFlight: 1, maxBytesInFlightTotal: 1 } });
    env.setPods(PODS);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.client.close();
    await env.close();
  });

  /** A delta stream on a connection of its own (so one that stops reading does not stall the others' connection). */
  function gateway(i: number): TestAdsStream<DeltaWireResponse> {
    const c = connectAds(env.harness.address, { "test.connection": i });
    clients.push(c);
    return c.delta();
  }

  const inFlight = (): number[] => env.ads.status().streams.map((s) => s.bytesInFlight);

  it("a first sync of several gateways goes one write at a time; a gateway that does not read holds only its own write, and gives it back when it goes", async () => {
    const stalled = new RawDeltaStream(env.harness.address, true);
    stalled.send({ nodeId: "gw-stalled", typeUrl: TYPE_URLS.cluster });
    await waitFor(() => env.ads.status().writes.bytesInFlight > 0);
    const others = [1, 2, 3].map((i) => gateway(i));
    others.forEach((s, i) => s.send({ node: node(`gw-${i}`), type_url: TYPE_URLS.cluster }));
    await waitFor(() => env.ads.status().streams.length === 4 && env.ads.status().writes.streamsWaiting === 3);
    // Only the stalled gateway's cluster list is in memory; the others wait for room rather than each holding theirs.
    assert.equal(inFlight().filter((b) => b > 0).length, 1);
    assert.equal(others.every((s) => s.queued.length === 0), true);

    // It goes away: its bytes are given back and the others sync, one after another.
    stalled.cancel();
    const firsts = await Promise.all(others.map((s) => s.next()));
    for (const r of firsts) assert.equal(r.resources?.length, PODS.length);
    await waitFor(() => env.ads.status().writes.bytesInFlight === 0 && env.ads.status().writes.streamsWaiting === 0);
    await Promise.all(others.map((s) => s.close()));
  });

  it("a gateway that reads again gets its response, and the next one waiting goes", async () => {
    const slow = new RawDeltaStream(env.harness.address, true);
    slow.send({ nodeId: "gw-slow", typeUrl: TYPE_URLS.cluster });
    await waitFor(() => env.ads.status().writes.bytesInFlight > 0);
    const next = gateway(11);
    next.send({ node: node("gw-next"), type_url: TYPE_URLS.cluster });
    await waitFor(() => env.ads.status().writes.streamsWaiting === 1);
    slow.resume();
    assert.equal((await slow.next()).resources.length, PODS.length);
    assert.equal((await next.next()).resources?.length, PODS.length);
    slow.cancel();
    await next.close();
    await waitFor(() => env.ads.status().writes.bytesInFlight === 0);
  });
});
