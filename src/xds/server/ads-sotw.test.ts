import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { TYPE_URLS } from "../resources/type-urls.js";
import { node, type SotwWireResponse, type TestAdsStream } from "./ads-client.fixture.js";
import { startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";
import { waitFor } from "../../../test/support/wait-for.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;
const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routes;

function ack(s: TestAdsStream<SotwWireResponse>, r: SotwWireResponse, names: string[] = []): void {
  s.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names });
}

/** The cluster_name of each ClusterLoadAssignment in a response, sorted. */
function endpointNames(r: SotwWireResponse): string[] {
  return (r.resources ?? []).map((a) => ClusterLoadAssignment.decode(a.value).clusterName).sort();
}

/** Sends an ACK and waits until the server has recorded it (so a following push is not racing it). */
async function acked(env: AdsTestEnv, s: TestAdsStream<SotwWireResponse>, r: SotwWireResponse, names: string[] = []): Promise<void> {
  ack(s, r, names);
  await waitFor(() => env.ads.status().streams.some((st) => st.types.some((t) => t.typeUrl === r.type_url && t.ackedVersion === r.version_info)));
}

describe("ADS state of the world", () => {
  let env: AdsTestEnv;
  beforeEach(async () => {
    env = await startAdsEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  it("answers a wildcard CDS request with every cluster, a version and a fresh nonce; an ACK is recorded", async () => {
    env.setPods(["ns/app/p1", "ns/app/p2"]);
    const s = env.peer.sotw();
    s.send({ node: node("gw-1"), type_url: CDS });
    const r1 = await s.next();
    assert.equal(r1.type_url, CDS);
    assert.equal(r1.resources?.length, 2);
    assert.ok(r1.version_info);
    assert.ok(r1.nonce);
    ack(s, r1);
    s.send({ type_url: EDS, resource_names: ["ns/app/p1"] });
    const r2 = await s.next();
    assert.equal(r2.type_url, EDS);
    assert.equal(r2.resources?.length, 1);
    assert.ok(Number(r2.nonce) > Number(r1.nonce));
    const cds = env.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS);
    assert.equal(cds?.ackedVersion, r1.version_info);
    assert.equal(cds?.ackedResources, 2);
    assert.equal(env.ads.status().streams[0]?.nodeId, "gw-1");
    assert.equal(env.ads.status().streams[0]?.group, "default");
    await s.close();
  });

  it("keeps the last good version on NACK, counts it, and does not re-send the rejected version", async () => {
    env.setPods(["ns/app/p1"]);
    const s = env.peer.sotw();
    s.send({ node: node("gw-1"), type_url: CDS });
    const good = await s.next();
    await acked(env, s, good);
    env.setPods(["ns/app/p1", "ns/app/p2"]);
    const bad = await s.next();
    assert.notEqual(bad.version_info, good.version_info);
    s.send({ type_url: CDS, version_info: good.version_info, response_nonce: bad.nonce, error_detail: { code: 3, message: "no thanks" } });
    // Barrier: a later request's response is written after anything the NACK could have caused.
    s.send({ type_url: LDS });
    const barrier = await s.next();
    assert.equal(barrier.type_url, LDS);
    assert.equal(s.queued.length, 0);
    const cds = env.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS);
    assert.equal(cds?.ackedVersion, good.version_info);
    assert.equal(cds?.lastNack?.version, bad.version_info);
    assert.equal(cds?.lastNack?.message, "no thanks");
    assert.equal(await env.metric("ticketplane_xds_nack_total", { type_url: CDS }), 1);
    // A new snapshot is sent again.
    env.setPods(["ns/app/p1", "ns/app/p3"]);
    const next = await s.next();
    assert.equal(next.type_url, CDS);
    assert.ok(Number(next.nonce) > Number(barrier.nonce));
    await s.close();
  });

  it("ignores a request whose nonce is stale", async () => {
    env.setPods(["ns/app/p1", "ns/app/p2"]);
    const s = env.peer.sotw();
    s.send({ node: node("gw-1"), type_url: EDS, resource_names: ["ns/app/p1"] });
    const r1 = await s.next();
    await acked(env, s, r1, ["ns/app/p1"]);
    env.setPods(["ns/app/p1", "ns/app/p2"], { "ns/app/p1": "10.9.9.9" });
    const r2 = await s.next();
    // Stale: the old nonce with a new name list must not be answered.
    s.send({ type_url: EDS, version_info: r1.version_info, response_nonce: r1.nonce, resource_names: ["ns/app/p1", "ns/app/p2"] });
    s.send({ type_url: LDS });
    assert.equal((await s.next()).type_url, LDS);
    assert.equal(s.queued.length, 0);
    // The same change with the latest nonce is answered, with what the list newly names (p1 is held at its current version).
    ack(s, r2, ["ns/app/p1", "ns/app/p2"]);
    const r3 = await s.next();
    assert.equal(r3.type_url, EDS);
    assert.deepEqual(endpointNames(r3), ["ns/app/p2"]);
    await s.close();
  });

  it("EDS and RDS are named subscriptions: a change sends only the named resources that changed, a longer list only what it adds", async () => {
    env.setPods(["ns/app/p1", "ns/app/p2", "ns/app/p3"]);
    const s = env.peer.sotw();
    s.send({ node: node("gw-1"), type_url: EDS, resource_names: ["ns/app/p1", "ns/app/p2"] });
    const r1 = await s.next();
    assert.deepEqual(endpointNames(r1), ["ns/app/p1", "ns/app/p2"]);
    await acked(env, s, r1, ["ns/app/p1", "ns/app/p2"]);
    env.setPods(["ns/app/p1", "ns/app/p2", "ns/app/p3"], { "ns/app/p2": "10.2.2.2" });
    const r2 = await s.next();
    assert.deepEqual(endpointNames(r2), ["ns/app/p2"]);
    await acked(env, s, r2, ["ns/app/p1", "ns/app/p2"]);
    s.send({ type_url: EDS, version_info: r2.version_info, response_nonce: r2.nonce, resource_names: ["ns/app/p1", "ns/app/p2", "ns/app/p3"] });
    const r3 = await s.next();
    assert.deepEqual(endpointNames(r3), ["ns/app/p3"]);
    // What the client holds, for make before use, is every name it was sent (r3 has r2's version: one snapshot).
    ack(s, r3, ["ns/app/p1", "ns/app/p2", "ns/app/p3"]);
    await waitFor(() => env.ads.status().streams[0]?.types.find((t) => t.typeUrl === EDS)?.ackedResources === 3);
    // A change to a name the client dropped is not sent; one it still lists is.
    s.send({ type_url: EDS, version_info: r3.version_info, response_nonce: r3.nonce, resource_names: ["ns/app/p1", "ns/app/p3"] });
    await waitFor(() => env.ads.status().streams[0]?.types.find((t) => t.typeUrl === EDS)?.subscription === 2);
    env.setPods(["ns/app/p1", "ns/app/p2", "ns/app/p3"], { "ns/app/p2": "10.2.2.3", "ns/app/p3": "10.3.3.3" });
    const r4 = await s.next();
    assert.deepEqual(endpointNames(r4), ["ns/app/p3"]);
    await s.close();
  });

  it("a client reconnecting with the current version is not re-sent anything", async () => {
    env.setPods(["ns/app/p1"]);
    const s1 = env.peer.sotw();
    s1.send({ node: node("gw-1"), type_url: CDS });
    const r1 = await s1.next();
    await s1.close();
    const s2 = env.peer.sotw();
    s2.send({ node: node("gw-1"), type_url: CDS, version_info: r1.version_info });
    s2.send({ type_url: LDS });
    assert.equal((await s2.next()).type_url, LDS);
    await s2.close();
  });

  it("pushes clusters and endpoints before listener and routes, and removes a route before its cluster", async () => {
    env.setPods(["ns/app/p1"]);
    const s = env.peer.sotw();
    s.send({ node: node("gw-1"), type_url: CDS });
    await acked(env, s, await s.next());
    s.send({ type_url: EDS, resource_names: ["ns/app/p1"] });
    await acked(env, s, await s.next(), ["ns/app/p1"]);
    s.send({ type_url: LDS });
    await acked(env, s, await s.next());
    s.send({ type_url: RDS, resource_names: ["ticketplane-routes"] });
    await acked(env, s, await s.next(), ["ticketplane-routes"]);

    env.setPods(["ns/app/p1", "ns/app/p2"]);
    const add = [await s.next(), await s.next()];
    assert.deepEqual(
      add.map((r) => r.type_url),
      [CDS, RDS],
    );
    for (const r of add) await acked(env, s, r, r.type_url === RDS ? ["ticketplane-routes"] : []);

    // p1 goes: its route first, then its endpoints (this stream asked for them by name), then its cluster.
    env.setPods(["ns/app/p2"]);
    const remove = [await s.next(), await s.next(), await s.next()];
    assert.deepEqual(
      remove.map((r) => r.type_url),
      [RDS, EDS, CDS],
    );
    assert.equal(remove[1]?.resources, undefined);
    await s.close();
  });

  it("isolates garbage: a stream without node is refused, unknown types are ignored, others keep working", async () => {
    env.setPods(["ns/app/p1"]);
    const good = env.peer.sotw();
    good.send({ node: node("gw-good"), type_url: CDS });
    const r1 = await good.next();
    const bad = env.peer.sotw();
    bad.send({ type_url: CDS });
    const status = await bad.status;
    assert.equal(status.code, 3); // INVALID_ARGUMENT
    const odd = env.peer.sotw();
    odd.send({ node: node("gw-odd"), type_url: "type.googleapis.com/nonsense" });
    odd.send({ type_url: LDS });
    assert.equal((await odd.next()).type_url, LDS);
    await acked(env, good, r1);
    env.setPods(["ns/app/p1", "ns/app/p2"]);
    assert.equal((await good.next()).type_url, CDS);
    assert.equal(await env.metric("ticketplane_xds_bad_request_total", { reason: "unknown_type" }), 1);
    await odd.close();
    await good.close();
  });

  it("cancels every watch when streams end or are cancelled", async () => {
    env.setPods(["ns/app/p1"]);
    const a = env.peer.sotw();
    a.send({ node: node("a"), type_url: CDS });
    await a.next();
    const b = env.peer.sotw();
    b.send({ node: node("b"), type_url: CDS });
    await b.next();
    assert.equal(env.cache.watchCount(), 2);
    await a.close();
    b.cancel();
    await b.status;
    while (env.ads.status().streams.length > 0) await new Promise((r) => setImmediate(r));
    assert.equal(env.cache.watchCount(), 0);
  });
});
