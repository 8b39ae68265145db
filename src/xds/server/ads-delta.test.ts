import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { TYPE_URLS } from "../resources/type-urls.js";
import { node, type DeltaWireResponse, type TestAdsStream } from "./ads-client.fixture.js";
import { startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";
import { waitFor } from "../../../test/support/wait-for.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;
const LDS = TYPE_URLS.listener;
const RDS = TYPE_URLS.routes;

type Stream = TestAdsStream<DeltaWireResponse>;

async function acked(env: AdsTestEnv, s: Stream, r: DeltaWireResponse): Promise<void> {
  s.send({ type_url: r.type_url, response_nonce: r.nonce });
  await waitFor(() => env.ads.status().streams.some((st) => st.types.some((t) => t.typeUrl === r.type_url && t.ackedVersion === r.system_version_info && t.lastSentNonce === r.nonce)));
}

function names(r: DeltaWireResponse): string[] {
  return (r.resources ?? []).map((x) => x.name ?? "").sort();
}

/** Subscribes like Envoy: wildcard CDS and LDS, EDS and RDS by name; ACKs everything. */
async function subscribeAll(env: AdsTestEnv, s: Stream, id: string, pods: string[]): Promise<Map<string, Map<string, string>>> {
  const versions = new Map<string, Map<string, string>>();
  const take = async (): Promise<void> => {
    const r = await s.next();
    const m = versions.get(r.type_url ?? "") ?? new Map<string, string>();
    for (const x of r.resources ?? []) m.set(x.name ?? "", x.version ?? "");
    versions.set(r.type_url ?? "", m);
    await acked(env, s, r);
  };
  s.send({ node: node(id), type_url: CDS });
  await take();
  s.send({ type_url: EDS, resource_names_subscribe: pods });
  await take();
  s.send({ type_url: LDS });
  await take();
  s.send({ type_url: RDS, resource_names_subscribe: ["ticketplane-routes"] });
  await take();
  return versions;
}

describe("ADS delta", () => {
  let env: AdsTestEnv;
  beforeEach(async () => {
    env = await startAdsEnv();
  });
  afterEach(async () => {
    await env.close();
  });

  it("sends per-resource versions, then only what a one-pod change touches, in push order", async () => {
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    const s = env.peer.delta();
    const v = await subscribeAll(env, s, "gw-1", ["ns/a/p1", "ns/a/p2"]);
    assert.equal(v.get(CDS)?.size, 2);
    assert.ok(v.get(CDS)?.get("ns/a/p1"));
    // The cluster on the wire decodes as a Cluster named after the pod.
    env.setPods(["ns/a/p1", "ns/a/p2", "ns/a/p3"]);
    const r1 = await s.next();
    assert.equal(r1.type_url, CDS);
    assert.deepEqual(names(r1), ["ns/a/p3"]);
    assert.equal(Cluster.decode(r1.resources?.[0]?.resource?.value ?? new Uint8Array()).name, "ns/a/p3");
    const r2 = await s.next();
    assert.equal(r2.type_url, RDS);
    assert.deepEqual(names(r2), ["ticketplane-routes"]);
    await acked(env, s, r1);
    await acked(env, s, r2);
    // Changing p2's IP touches only p2's endpoints.
    env.setPods(["ns/a/p1", "ns/a/p2", "ns/a/p3"], { "ns/a/p2": "10.2.2.2" });
    const r3 = await s.next();
    assert.equal(r3.type_url, EDS);
    assert.deepEqual(names(r3), ["ns/a/p2"]);
    assert.equal(r3.removed_resources, undefined);
    await s.close();
  });

  it("removes the route before the cluster and endpoints, with removed_resources", async () => {
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    const s = env.peer.delta();
    await subscribeAll(env, s, "gw-1", ["ns/a/p1", "ns/a/p2"]);
    env.setPods(["ns/a/p2"]);
    const got = [await s.next(), await s.next(), await s.next()];
    assert.deepEqual(
      got.map((r) => r.type_url),
      [RDS, EDS, CDS],
    );
    assert.deepEqual(got[1]?.removed_resources, ["ns/a/p1"]);
    assert.deepEqual(got[2]?.removed_resources, ["ns/a/p1"]);
    await s.close();
  });

  it("a reconnecting client with initial_resource_versions gets only what changed", async () => {
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    const s1 = env.peer.delta();
    const v = await subscribeAll(env, s1, "gw-1", ["ns/a/p1", "ns/a/p2"]);
    await s1.close();
    env.setPods(["ns/a/p2", "ns/a/p3"]);
    const s2 = env.peer.delta();
    s2.send({ node: node("gw-1"), type_url: CDS, initial_resource_versions: Object.fromEntries(v.get(CDS) ?? []) });
    const r = await s2.next();
    assert.deepEqual(names(r), ["ns/a/p3"]);
    assert.deepEqual(r.removed_resources, ["ns/a/p1"]);
    await s2.close();
  });

  it("honours explicit subscribe and unsubscribe, and '*' as wildcard", async () => {
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    const s = env.peer.delta();
    s.send({ node: node("gw-1"), type_url: EDS, resource_names_subscribe: ["ns/a/p1"] });
    const r1 = await s.next();
    assert.deepEqual(names(r1), ["ns/a/p1"]);
    await acked(env, s, r1);
    s.send({ type_url: EDS, resource_names_unsubscribe: ["ns/a/p1"], resource_names_subscribe: ["ns/a/p2"] });
    const r2 = await s.next();
    assert.deepEqual(names(r2), ["ns/a/p2"]);
    await acked(env, s, r2);
    // p1 changes but this client no longer wants it.
    env.setPods(["ns/a/p1", "ns/a/p2"], { "ns/a/p1": "10.1.1.1" });
    s.send({ type_url: CDS, resource_names_subscribe: ["*"] });
    const r3 = await s.next();
    assert.equal(r3.type_url, CDS);
    assert.deepEqual(names(r3), ["ns/a/p1", "ns/a/p2"]);
    await s.close();
  });

  it("a NACK keeps the last good version, is counted, and is not re-sent; subscriptions on stale nonces still count", async () => {
    env.setPods(["ns/a/p1"]);
    const s = env.peer.delta();
    s.send({ node: node("gw-1"), type_url: CDS });
    const good = await s.next();
    await acked(env, s, good);
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    const bad = await s.next();
    s.send({ type_url: CDS, response_nonce: bad.nonce, error_detail: { code: 3, message: "bad cluster" } });
    s.send({ type_url: LDS });
    assert.equal((await s.next()).type_url, LDS);
    assert.equal(s.queued.length, 0);
    const cds = env.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS);
    assert.equal(cds?.ackedVersion, good.system_version_info);
    assert.equal(cds?.lastNack?.message, "bad cluster");
    assert.equal(await env.metric("ticketplane_xds_nack_total", { type_url: CDS }), 1);
    // A stale nonce: not an ACK, but its subscription still applies.
    s.send({ type_url: CDS, response_nonce: good.nonce });
    s.send({ type_url: EDS, response_nonce: "999999", resource_names_subscribe: ["ns/a/p2"] });
    const eds = await s.next();
    assert.deepEqual(names(eds), ["ns/a/p2"]);
    assert.equal(env.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS)?.ackedVersion, good.system_version_info);
    await s.close();
  });
});
