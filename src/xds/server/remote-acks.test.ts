import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { TYPE_URLS } from "../resources/type-urls.js";
import { node } from "./ads-client.fixture.js";
import { ackDelta, startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";
import { waitFor } from "../../../test/support/wait-for.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;
const RDS = TYPE_URLS.routes;

const acked = ackDelta;

/** Two replicas' ADS servers: a gateway connects to the follower only; the owner learns its ACKs through reports. */
describe("make before use across replicas (remote ACK reports)", () => {
  let owner: AdsTestEnv;
  let follower: AdsTestEnv;
  const report = (): void => owner.ads.applyAckReport("follower-1", follower.ads.localAckState());

  beforeEach(async () => {
    owner = await startAdsEnv({ ackTimeoutMs: 5_000, remoteAckExpireMs: 3_000 });
    follower = await startAdsEnv({ ackTimeoutMs: 5_000 });
  });
  afterEach(async () => {
    await Promise.all([owner.close(), follower.close()]);
  });

  it("a pod is routable on the owner only once the follower's gateway ACKed it; gone gateways and silent replicas stop holding pods back", async () => {
    for (const env of [owner, follower]) env.setPods(["ns/a/p1"]);
    // A real ADS client on the follower: the gateway subscribes and ACKs cluster, route table and endpoints of p1.
    const s = follower.peer.delta();
    s.send({ node: node("gw-1"), type_url: CDS });
    await acked(follower, s, await s.next());
    s.send({ type_url: RDS, resource_names_subscribe: ["ticketplane-routes"] });
    await acked(follower, s, await s.next());
    s.send({ type_url: EDS, resource_names_subscribe: ["ns/a/p1"] });
    await acked(follower, s, await s.next());
    assert.deepEqual(follower.ads.localAckState(), [{ group: "default", gateways: ["gw-1"], ackedPods: ["ns/a/p1"] }]);
    report();

    // p2 arrives on both replicas. The owner has no gateway of its own, but the follower's holds p2 back.
    for (const env of [owner, follower]) env.setPods(["ns/a/p1", "ns/a/p2"]);
    assert.equal(owner.ads.isRoutable("default", "ns/a/p2"), false);
    const cds = await s.next();
    const rds = await s.next();
    await acked(follower, s, cds);
    await acked(follower, s, rds);
    report();
    assert.equal(owner.ads.isRoutable("default", "ns/a/p2"), false, "cluster and route ACKed, endpoints not yet");
    s.send({ type_url: EDS, resource_names_subscribe: ["ns/a/p2"] });
    await acked(follower, s, await s.next());
    report();
    assert.equal(owner.ads.isRoutable("default", "ns/a/p2"), true);

    // The gateway leaves the follower: its next report lists no gateway, and p3 is routable at once.
    for (const env of [owner, follower]) env.setPods(["ns/a/p1", "ns/a/p2", "ns/a/p3"]);
    assert.equal(owner.ads.isRoutable("default", "ns/a/p3"), false);
    await s.close();
    await waitFor(() => follower.ads.localAckState().length === 0);
    report();
    assert.equal(owner.ads.isRoutable("default", "ns/a/p3"), true);

    // A replica that reports gateways and then falls silent is forgotten after the expiry, before the 5 s ACK wait.
    owner.ads.applyAckReport("follower-2", [{ group: "default", gateways: ["gw-9"], ackedPods: [] }]);
    owner.setPods(["ns/a/p1", "ns/a/p2", "ns/a/p3", "ns/a/p4"]);
    assert.equal(owner.ads.isRoutable("default", "ns/a/p4"), false);
    owner.clock.advance(2_999);
    assert.equal(owner.ads.isRoutable("default", "ns/a/p4"), false);
    owner.clock.advance(1);
    assert.equal(owner.ads.isRoutable("default", "ns/a/p4"), true);
  });
});
