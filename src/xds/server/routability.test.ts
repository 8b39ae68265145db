import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { appGatewayResources } from "../cache/resources.fixture.js";
import { Snapshot } from "../cache/snapshot.js";
import { TYPE_URLS } from "../resources/type-urls.js";
import { node, type DeltaWireResponse, type TestAdsStream } from "./ads-client.fixture.js";
import { ackDelta, startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";
import { waitFor } from "../../../test/support/wait-for.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;
const RDS = TYPE_URLS.routes;

const acked = ackDelta;

describe("make before use (routability)", () => {
  let env: AdsTestEnv;
  beforeEach(async () => {
    env = await startAdsEnv({ ackTimeoutMs: 5_000 });
  });
  afterEach(async () => {
    await env.close();
  });

  it("with no gateway connected, a pod is routable at once", () => {
    const events: string[] = [];
    env.ads.onRoutable((g, p, r) => events.push(`${g} ${p} ${r}`));
    env.setPods(["ns/a/p1"]);
    assert.equal(env.ads.isRoutable("default", "ns/a/p1"), true);
    assert.deepEqual(events, ["default ns/a/p1 true"]);
    env.setPods([]);
    assert.equal(env.ads.isRoutable("default", "ns/a/p1"), false);
    assert.deepEqual(events, ["default ns/a/p1 true", "default ns/a/p1 false"]);
  });

  it("reports a pod routable only after the gateway ACKed its cluster, endpoints and route", async () => {
    env.setPods(["ns/a/p1"]);
    const s = env.peer.delta();
    s.send({ node: node("gw-1"), type_url: CDS });
    await acked(env, s, await s.next());
    s.send({ type_url: RDS, resource_names_subscribe: ["ticketplane-routes"] });
    await acked(env, s, await s.next());
    s.send({ type_url: EDS, resource_names_subscribe: ["ns/a/p1"] });
    await acked(env, s, await s.next());

    const events: string[] = [];
    env.ads.onRoutable((_g, p, r) => events.push(`${p} ${r}`));
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    const cds = await s.next();
    const rds = await s.next();
    assert.deepEqual([cds.type_url, rds.type_url], [CDS, RDS]);
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), false);
    await acked(env, s, cds);
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), false);
    await acked(env, s, rds);
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), false);
    s.send({ type_url: EDS, resource_names_subscribe: ["ns/a/p2"] });
    const eds = await s.next();
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), false);
    assert.deepEqual(events, []);
    await acked(env, s, eds);
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), true);
    assert.deepEqual(events, ["ns/a/p2 true"]);
    await s.close();
  });

  it("a NACKed route does not make the pod routable", async () => {
    env.setPods(["ns/a/p1"]);
    const s = env.peer.delta();
    s.send({ node: node("gw-1"), type_url: CDS });
    await acked(env, s, await s.next());
    s.send({ type_url: RDS, resource_names_subscribe: ["ticketplane-routes"] });
    await acked(env, s, await s.next());
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    await acked(env, s, await s.next()); // CDS
    const rds = await s.next();
    s.send({ type_url: RDS, response_nonce: rds.nonce, error_detail: { code: 3, message: "no" } });
    s.send({ type_url: EDS, resource_names_subscribe: ["ns/a/p2"] });
    await acked(env, s, await s.next());
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), false);
    await s.close();
  });

  it("a gateway that never ACKs delays only its own group, and only for the bounded wait", async () => {
    env.setPods(["ns/a/p1"], {}, "slow");
    const s = env.peer.delta();
    s.send({ node: node("gw-slow", "", "slow"), type_url: CDS });
    await s.next(); // never ACKed
    env.setPods(["ns/a/p1", "ns/a/p2"], {}, "slow");
    env.setPods(["ns/b/q1"], {}, "fast");
    assert.equal(env.ads.isRoutable("fast", "ns/b/q1"), true);
    assert.equal(env.ads.isRoutable("slow", "ns/a/p2"), false);
    // The tracker's timer runs on the clock it was given: advancing it is all the test does.
    env.clock.advance(4_999);
    assert.equal(env.ads.isRoutable("slow", "ns/a/p2"), false);
    env.clock.advance(1);
    assert.equal(env.ads.isRoutable("slow", "ns/a/p2"), true);
    assert.equal(await env.metric("ticketplane_xds_ack_timeout_total", { group: "slow" }), 1);
    assert.equal(await env.metric("ticketplane_xds_ack_timeout_total", { group: "fast" }), 0);
    await s.close();
  });

  describe("a new app: its pods wait for the route table that routes it", () => {
    /** Today's route table (one route per app, naming no pod) with these pods. */
    const setApps = (pods: string[]): void => {
      env.cache.setSnapshot("default", Snapshot.build(appGatewayResources(pods), env.cache.getSnapshot("default")));
    };

    /** A gateway in step with app a, then app b appears: it has ACKed b's cluster and endpoints, and holds the new route table un-ACKed. */
    async function newAppWithRoutesUnacked(): Promise<{ s: TestAdsStream<DeltaWireResponse>; rds: DeltaWireResponse }> {
      setApps(["ns/a/p1"]);
      const s = env.peer.delta();
      s.send({ node: node("gw-1"), type_url: CDS });
      await acked(env, s, await s.next());
      s.send({ type_url: RDS, resource_names_subscribe: ["ticketplane-routes"] });
      await acked(env, s, await s.next());
      s.send({ type_url: EDS, resource_names_subscribe: ["ns/a/p1"] });
      await acked(env, s, await s.next());
      assert.equal(env.ads.isRoutable("default", "ns/a/p1"), true);
      setApps(["ns/a/p1", "ns/b/q1"]);
      const cds = await s.next();
      const rds = await s.next();
      assert.deepEqual([cds.type_url, rds.type_url], [CDS, RDS]);
      await acked(env, s, cds);
      s.send({ type_url: EDS, resource_names_subscribe: ["ns/b/q1"] });
      await acked(env, s, await s.next());
      return { s, rds };
    }

    it("withheld: ACKed cluster and endpoints are not enough; the route table's ACK makes the pod routable", async () => {
      const { s, rds } = await newAppWithRoutesUnacked();
      assert.equal(env.ads.isRoutable("default", "ns/b/q1"), false, "no route to app b on the gateway yet");
      assert.deepEqual(env.ads.status().groups.find((g) => g.group === "default")?.pendingPods, ["ns/b/q1"]);
      assert.equal(env.ads.isRoutable("default", "ns/a/p1"), true, "app a's pods are not held back");
      await acked(env, s, rds);
      assert.equal(env.ads.isRoutable("default", "ns/b/q1"), true);
      await s.close();
    });

    it("NACKed: the pod stays unroutable; a later route table the gateway ACKs makes it routable", async () => {
      const { s, rds } = await newAppWithRoutesUnacked();
      s.send({ type_url: RDS, response_nonce: rds.nonce, error_detail: { code: 3, message: "bad route" } });
      await waitFor(() => env.ads.status().streams[0]?.types.find((t) => t.typeUrl === RDS)?.lastNack !== undefined);
      assert.equal(env.ads.isRoutable("default", "ns/b/q1"), false);
      // Another app appears: a new route table version, which the gateway takes.
      setApps(["ns/a/p1", "ns/b/q1", "ns/c/r1"]);
      await acked(env, s, await s.next()); // CDS: c's cluster
      const rds2 = await s.next();
      assert.equal(rds2.type_url, RDS);
      assert.equal(env.ads.isRoutable("default", "ns/b/q1"), false);
      await acked(env, s, rds2);
      assert.equal(env.ads.isRoutable("default", "ns/b/q1"), true);
      assert.equal(env.ads.isRoutable("default", "ns/c/r1"), false, "c's endpoints are not ACKed yet");
      await s.close();
    });
  });

  it("a gateway that disconnects no longer holds pods back", async () => {
    env.setPods(["ns/a/p1"]);
    const s = env.peer.delta();
    s.send({ node: node("gw-1"), type_url: CDS });
    await s.next();
    env.setPods(["ns/a/p1", "ns/a/p2"]);
    assert.equal(env.ads.isRoutable("default", "ns/a/p2"), false);
    s.cancel();
    await s.status;
    await waitFor(() => env.ads.isRoutable("default", "ns/a/p2"));
    assert.equal(env.cache.watchCount(), 0);
  });
});
