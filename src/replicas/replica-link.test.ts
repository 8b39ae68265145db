import assert from "node:assert/strict";
import { connect } from "node:net";
import { afterEach, beforeEach, describe, it } from "node:test";
import { REJECTED_CONNECTIONS_METRIC } from "../common/grpc-listener.js";
import { admit } from "../tickets/admit.js";
import { keyRing } from "../tickets/tickets.fixture.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { eventually } from "../../test/support/wait-for.js";
import { PeerClients } from "./peer-clients.js";
import { peerBearer } from "./peer-credential.js";
import { APP, metricValue, ownedBy, startReplica, type TestReplica } from "./replicas.fixture.js";
import { OWNER_UNAVAILABLE_RETRY_MS } from "./forwarding-allocator.js";

describe("ReplicaLink: replicas in one process, real gRPC between them", () => {
  let clock: FakeClock;
  let owner: TestReplica;
  let follower: TestReplica;
  let third: TestReplica;

  beforeEach(async () => {
    clock = new FakeClock();
    owner = await startReplica("owner", clock);
    follower = await startReplica("follower", clock);
    third = await startReplica("third", clock);
    ownedBy(owner, follower, third);
    // The first reports connect the followers' channels to the owner.
    await Promise.all([follower.link.flush(), third.link.flush()]);
  });
  afterEach(async () => {
    await Promise.all([owner.link.stop(), follower.link.stop(), third.link.stop()]);
  });

  it("a follower forwards an issue to the owner: the user gets the owner's ticket, and nothing is allocated on the follower", async () => {
    const answer = await admit(follower.link.checkPorts, APP, { client: "10.1.1.1" });
    assert.equal(answer.kind, "issued");
    assert.ok(answer.kind === "issued");
    // The owner holds it; its token verifies there; the follower's own ledger is untouched.
    assert.equal(owner.core.tickets(APP).length, 1);
    assert.equal(owner.core.tickets(APP)[0]?.id, answer.ticket.id);
    assert.equal(owner.core.verify(APP, answer.token).ok, true);
    assert.equal(follower.core.tickets(APP).length, 0);
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_forwarded_total", { result: "answered" }), 1);
    // Coming back through another follower that has not seen the ticket: the owner says it holds a slot (no second ticket).
    const again = await admit(third.link.checkPorts, APP, { ticketTokens: [answer.token] });
    assert.equal(again.kind, "held");
    assert.equal(owner.core.tickets(APP).length, 1);
    assert.equal(owner.core.tickets(APP)[0]?.confirmed, true, "the return ended the ticket's probation on the owner");
  });

  it("queues through the owner when it has no free slot, and the place token works from any replica", async () => {
    for (let i = 0; i < 4; i++) assert.equal((await admit(follower.link.checkPorts, APP, { client: `c${i}` })).kind, "issued");
    const turned = await admit(third.link.checkPorts, APP, { client: "late" });
    assert.equal(turned.kind, "queued");
    assert.ok(turned.kind === "queued");
    const inLine = await admit(follower.link.checkPorts, APP, { client: "late", queueTokens: [turned.queueToken] });
    assert.equal(inLine.kind, "queued");
    assert.equal(owner.core.queue(APP).length, 1);
  });

  it("owner down, or unknown: the waiting room with Retry-After, never a local slot", async () => {
    await owner.link.stop();
    const down = await admit(follower.link.checkPorts, APP, {});
    assert.deepEqual(down, { kind: "refused", reason: "owner_unavailable", retryAfterMs: OWNER_UNAVAILABLE_RETRY_MS });
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_forwarded_total", { result: "unreachable" }), 1);
    follower.ownership.owner = { kind: "unknown", reason: "no holder" };
    assert.equal((await admit(follower.link.checkPorts, APP, {})).kind, "refused");
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_forwarded_total", { result: "owner_unknown" }), 1);
    assert.equal(follower.core.tickets(APP).length, 0, "no slot was taken on the follower");
  });

  it("an owner that no longer owns the app refuses the forwarded call (FAILED_PRECONDITION): the follower fails closed", async () => {
    owner.ownership.owner = { kind: "unknown", reason: "lost the Lease" };
    const answer = await admit(follower.link.checkPorts, APP, {});
    assert.equal(answer.kind, "refused");
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_forwarded_total", { result: "refused_by_owner" }), 1);
    assert.equal(owner.core.tickets(APP).length, 0);
  });

  it("refuses callers without the shared credential (UNAUTHENTICATED) and counts them", async () => {
    const strangers = [new PeerClients({ bearer: () => peerBearer(keyRing("other")) }), new PeerClients({ bearer: () => "" }), new PeerClients({ bearer: () => "Bearer k1.AAAA" })];
    try {
      for (const client of strangers) {
        await assert.rejects(client.admit(owner.link.address(), { app: APP, ticketTokens: [], queueTokens: [], client: "" }, 1_000), (err: { code?: number }) => err.code === 16);
      }
      await assert.rejects(strangers[0].activity(owner.link.address(), { replica: "x", entries: [], dropped: 0 }), (err: { code?: number }) => err.code === 16);
    } finally {
      for (const client of strangers) client.close();
    }
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_auth_failures_total", { reason: "unknown_key" }), 2);
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_auth_failures_total", { reason: "missing" }), 1);
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_auth_failures_total", { reason: "mismatch" }), 1);
    assert.equal(owner.core.tickets(APP).length, 0);
  });

  it("garbage bytes on the peer port are counted and closed; the port keeps serving", async () => {
    const [host, port] = [owner.link.address().split(":")[0], Number(owner.link.address().split(":")[1])];
    const socket = connect({ host, port });
    socket.on("error", () => undefined);
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await eventually(async () => (await metricValue(owner.registry, REJECTED_CONNECTIONS_METRIC, { server: "peer", reason: "not_http2" })) === 1);
    socket.destroy();
    assert.equal((await admit(follower.link.checkPorts, APP, {})).kind, "issued");
  });

  it("activity on a follower keeps the owner's ticket alive; a ticket without it goes idle", async () => {
    const kept = await admit(follower.link.checkPorts, APP, { client: "a" });
    const idle = await admit(follower.link.checkPorts, APP, { client: "b" });
    assert.ok(kept.kind === "issued" && idle.kind === "issued");
    // Both holders come back (ends probation), through the owner.
    admit(owner.core, APP, { ticketTokens: [kept.token] });
    admit(owner.core, APP, { ticketTokens: [idle.token] });
    clock.advance(50_000);
    // The follower sees requests (Check's touch) and a WebSocket that opens and closes, on `kept` only.
    follower.link.checkPorts.touch(APP, kept.ticket.id);
    follower.link.checkPorts.openConnection(APP, kept.ticket.id, "ws-1");
    await follower.link.flush();
    assert.equal(owner.core.tickets(APP).find((t) => t.id === kept.ticket.id)?.openConnections, 1);
    follower.link.checkPorts.closeConnection("ws-1");
    await follower.link.flush();
    assert.equal(owner.core.tickets(APP).find((t) => t.id === kept.ticket.id)?.openConnections, 0);
    clock.advance(20_000);
    owner.core.sweep();
    assert.deepEqual(
      owner.core.tickets(APP).map((t) => t.id),
      [kept.ticket.id],
    );
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_batches_sent_total", { kind: "activity" }), 2);
  });

  it("activity for an unreachable owner is dropped and counted, never piled up", async () => {
    await owner.link.stop();
    follower.link.checkPorts.touch(APP, "t-1");
    follower.link.checkPorts.touch(APP, "t-1");
    follower.link.checkPorts.touch(APP, "t-2");
    await follower.link.flush();
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_activity_dropped_total"), 2, "one touch per ticket per batch");
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_batches_failed_total", { kind: "activity" }), 1);
  });

  it("a follower reports its gateways' ACK state to the owner, again on change and as a heartbeat", async () => {
    follower.acks.local = [{ group: "default", gateways: ["gw-1"], ackedPods: ["ns/app/p1"] }];
    await follower.link.flush();
    assert.deepEqual(owner.acks.reports.at(-1), { replica: "follower", groups: [{ group: "default", gateways: ["gw-1"], ackedPods: ["ns/app/p1"] }] });
    const fromFollower = (): number => owner.acks.reports.filter((r) => r.replica === "follower").length;
    const count = fromFollower();
    await follower.link.flush();
    assert.equal(fromFollower(), count, "unchanged within the heartbeat: not sent again");
    // The reporter's own timer (every 250 ms) sends the heartbeat once a second has passed.
    clock.advance(1_000);
    await eventually(() => fromFollower() === count + 1);
    follower.acks.local = [];
    // (The heartbeat's answer may still be on its way: the change goes out at the first check after it.)
    await eventually(async () => {
      await follower.link.flush();
      return owner.acks.reports.filter((r) => r.replica === "follower").at(-1)?.groups.length === 0;
    });
  });
});

