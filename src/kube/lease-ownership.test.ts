/**
 * leaseOwnership against the test API server: the Lease holder writes its
 * peer address on the Lease; a follower reads it and forwards there; with
 * no holder (released), or an expired claim, the owner is unknown.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { silentLogger } from "../common/logger.js";
import { apiClients } from "./kube-api.fixture.js";
import { LeaseLeadership, PEER_ADDRESS_ANNOTATION } from "./lease-leadership.js";
import { leaseOwnership } from "./lease-ownership.js";

const k = useKubeApi();

describe("leaseOwnership: the Lease holder owns every app, found by the address it wrote", () => {
  it("self while leading; the holder's peer address on a follower; unknown once the holder's claim expires or is released", async () => {
    const clock = new FakeClock();
    const { coordination } = apiClients(k.server);
    const elector = (identity: string, address: string | undefined): LeaseLeadership =>
      new LeaseLeadership({ coordination, namespace: "default", lease: "owners", identity, clock, logger: silentLogger, registry: new Registry(), random: () => 0, peerAddress: () => address });
    const a = elector("a", "10.0.0.1:9005");
    const b = elector("b", "10.0.0.2:9005");
    const step = async (ms: number): Promise<void> => {
      await clock.advanceAsync(ms);
      await Promise.all([a.settled(), b.settled()]);
    };
    assert.deepEqual(leaseOwnership(b).ownerOf("ns/app"), { kind: "unknown", reason: "no replica holds the leader Lease with a peer address (yet)" });
    await a.start();
    await a.settled();
    assert.equal(a.isLeader(), true);
    await b.start();
    for (let i = 0; i < 20 && b.holderPeer() === undefined; i++) await step(500);
    const lease = await coordination.readNamespacedLease({ name: "owners", namespace: "default" });
    assert.equal(lease.metadata?.annotations?.[PEER_ADDRESS_ANNOTATION], "10.0.0.1:9005");
    assert.deepEqual(leaseOwnership(a).ownerOf("ns/app"), { kind: "self" });
    assert.deepEqual(leaseOwnership(b).ownerOf("ns/app"), { kind: "peer", identity: "a", address: "10.0.0.1:9005" });

    // The holder stops and releases the Lease: the follower no longer names it (and takes the Lease over at its next attempt).
    await a.stop();
    for (let i = 0; i < 20 && !b.isLeader(); i++) await step(500);
    assert.equal(b.isLeader(), true);
    assert.deepEqual(leaseOwnership(b).ownerOf("ns/app"), { kind: "self" });
    const taken = await coordination.readNamespacedLease({ name: "owners", namespace: "default" });
    assert.equal(taken.metadata?.annotations?.[PEER_ADDRESS_ANNOTATION], "10.0.0.2:9005", "the new holder wrote its own address");
    await b.stop();
  });

  it("a holder whose peer port is bound after it took the Lease writes the address at once (announcePeer), not a retry period later", async () => {
    const clock = new FakeClock();
    const { coordination } = apiClients(k.server);
    let address: string | undefined;
    /** Set: the next read of the address (inside an attempt's write) learns a new one and announces it, while that attempt is in flight. */
    let learnDuringWrite: string | undefined;
    const holder: LeaseLeadership = new LeaseLeadership({
      ...{ coordination, namespace: "default", lease: "late-peer", identity: "h", clock, logger: silentLogger, registry: new Registry(), random: () => 0 },
      peerAddress: () => {
        const now = address;
        if (learnDuringWrite !== undefined) {
          address = learnDuringWrite;
          learnDuringWrite = undefined;
          holder.announcePeer();
        }
        return now;
      },
    });
    const annotation = async (): Promise<string | undefined> => (await coordination.readNamespacedLease({ name: "late-peer", namespace: "default" })).metadata?.annotations?.[PEER_ADDRESS_ANNOTATION];
    await holder.start();
    await holder.settled();
    assert.equal(holder.isLeader(), true);
    assert.equal(await annotation(), undefined, "taken before the peer port was bound");
    address = "10.0.0.7:9005";
    holder.announcePeer();
    await holder.settled();
    assert.equal(await annotation(), "10.0.0.7:9005", "written with no time passing");
    // Learnt while a renewal is writing the old address: the attempt after it runs at once, not a retry period later.
    learnDuringWrite = "10.0.0.8:9005";
    await clock.advanceAsync(2_000);
    await holder.settled();
    assert.equal(await annotation(), "10.0.0.7:9005");
    await clock.advanceAsync(0);
    await holder.settled();
    assert.equal(await annotation(), "10.0.0.8:9005");
    await holder.stop();
  });

  it("a holder's claim that expired, as the follower measures it, is no owner", async () => {
    const clock = new FakeClock();
    const { coordination } = apiClients(k.server);
    const holder = new LeaseLeadership({ coordination, namespace: "default", lease: "expiring", identity: "h", clock, logger: silentLogger, registry: new Registry(), random: () => 0, peerAddress: () => "10.0.0.9:9005" });
    await holder.start();
    await holder.settled();
    // A follower that reads the Lease once, and then never again (its attempts are what refresh its view).
    const follower = new LeaseLeadership({ coordination, namespace: "default", lease: "expiring", identity: "f", clock, logger: silentLogger, registry: new Registry(), random: () => 0 });
    await follower.start();
    await follower.settled();
    assert.equal(follower.holderPeer()?.address, "10.0.0.9:9005");
    await follower.stop();
    clock.advance(15_001);
    assert.equal(follower.holderPeer(), undefined);
    assert.equal(leaseOwnership(follower).ownerOf("ns/app").kind, "unknown");
    await holder.stop();
  });
});
