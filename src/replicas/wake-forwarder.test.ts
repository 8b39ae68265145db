import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { keyRing } from "../tickets/tickets.fixture.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { eventually } from "../../test/support/wait-for.js";
import { PeerClients } from "./peer-clients.js";
import { peerBearer } from "./peer-credential.js";
import { APP, metricValue, ownedBy, SPEC, startReplica, type TestReplica } from "./replicas.fixture.js";
import { DEFAULT_WAKE_RESEND_MS } from "./wake-forwarder.js";

const WAKE = `wake ${APP}`;
const SERVING = `serving ${APP}`;

describe("WakeForwarder: a resolver on a replica that does not own the app wakes it through the owner (real gRPC)", () => {
  let clock: FakeClock;
  let owner: TestReplica;
  let follower: TestReplica;
  const extra: TestReplica[] = [];

  beforeEach(async () => {
    clock = new FakeClock();
    owner = await startReplica("owner", clock);
    follower = await startReplica("follower", clock);
    ownedBy(owner, follower);
    await follower.link.flush();
  });
  afterEach(async () => {
    await Promise.all([owner.link.stop(), follower.link.stop(), ...extra.splice(0).map((r) => r.link.stop())]);
  });

  const sent = (r: TestReplica, call: "wake" | "serving"): Promise<number> => metricValue(r.registry, "ticketplane_peer_wake_sent_total", { call });

  it("one Wake in flight per app however many requests are held, again every interval; Serving ends it", async () => {
    for (let i = 0; i < 100; i++) follower.link.resolverSignals.wake(APP);
    await follower.link.flush();
    assert.equal(owner.signals.count(WAKE), 1, "the owner's reconciler got the wake once");
    assert.equal(await sent(follower, "wake"), 1, "one RPC for 100 held requests");
    // The follower keeps its own note too (for the day it leads; KEDA's activity from its scaler).
    assert.equal(follower.signals.count(WAKE), 100);
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_wake_received_total", { call: "wake", result: "applied" }), 1);

    // Still held: sent again once per interval, not per look.
    await clock.advanceAsync(DEFAULT_WAKE_RESEND_MS / 2);
    await follower.link.flush();
    assert.equal(owner.signals.count(WAKE), 1);
    await clock.advanceAsync(DEFAULT_WAKE_RESEND_MS / 2);
    await follower.link.flush();
    assert.equal(owner.signals.count(WAKE), 2, "re-sent after the interval while requests are held");

    follower.link.resolverSignals.serving(APP);
    await follower.link.flush();
    assert.deepEqual(owner.signals.calls.at(-1), SERVING, "the owner's reconciler may flip the route back");
    assert.equal(follower.link.pendingSignals().size, 0, "a Serving the owner took is done, and the wake with it");
    await clock.advanceAsync(5 * DEFAULT_WAKE_RESEND_MS);
    await follower.link.flush();
    assert.deepEqual(owner.signals.calls, [WAKE, WAKE, SERVING], "nothing more once the app serves");
  });

  it("serving while the wake is still on its way: sent right after it, in that order, without waiting for the next look", async () => {
    const start = clock.now();
    follower.link.resolverSignals.wake(APP);
    follower.link.resolverSignals.serving(APP);
    await eventually(() => owner.signals.calls.length === 2, { what: "both signals on the owner" });
    assert.deepEqual(owner.signals.calls, [WAKE, SERVING]);
    assert.equal(clock.now(), start, "no timer was needed");
    await eventually(() => follower.link.pendingSignals().size === 0, { what: "nothing left to send" });
  });

  it("a wake lasts the app's hold timeout from the last held request, then stops being sent", async () => {
    follower.link.resolverSignals.wake(APP);
    await follower.link.flush();
    await clock.advanceAsync(SPEC.resolverHoldTimeoutMs - 1);
    follower.link.resolverSignals.wake(APP); // a later request: the wake lasts from here
    await clock.advanceAsync(SPEC.resolverHoldTimeoutMs - 1);
    await follower.link.flush();
    assert.deepEqual([...follower.link.pendingSignals()], [[APP, "wake"]]);
    await clock.advanceAsync(2);
    await follower.link.flush();
    assert.equal(follower.link.pendingSignals().size, 0);
    const count = owner.signals.count(WAKE);
    assert.ok(count >= 2 && count <= Math.ceil((2 * SPEC.resolverHoldTimeoutMs) / DEFAULT_WAKE_RESEND_MS) + 1, `bounded by the interval: ${String(count)}`);
    await clock.advanceAsync(10 * DEFAULT_WAKE_RESEND_MS);
    assert.equal(owner.signals.count(WAKE), count);
  });

  it("on the owner, wake and serving stay in-process: no RPC", async () => {
    owner.link.resolverSignals.wake(APP);
    owner.link.resolverSignals.serving(APP);
    await owner.link.flush();
    assert.deepEqual(owner.signals.calls, [WAKE, SERVING]);
    assert.equal(await sent(owner, "wake"), 0);
    assert.equal(await sent(owner, "serving"), 0);
    assert.deepEqual(follower.signals.calls, []);
  });

  it("owner unreachable: counted, kept, and sent to the owner that comes back at the next look; the follower never throws", async () => {
    await owner.link.stop();
    follower.link.resolverSignals.wake(APP);
    await follower.link.flush();
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_wake_failed_total", { call: "wake", reason: "unreachable" }), 1);
    assert.deepEqual([...follower.link.pendingSignals()], [[APP, "wake"]], "kept while requests are held");
    // Retried on the interval while the owner stays away.
    await clock.advanceAsync(DEFAULT_WAKE_RESEND_MS);
    await follower.link.flush();
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_wake_failed_total", { call: "wake", reason: "unreachable" }), 2);

    // The Lease names no holder for a while, then a new owner: it gets the wake at the next look, not an interval later.
    follower.ownership.owner = { kind: "unknown", reason: "no holder" };
    await clock.advanceAsync(DEFAULT_WAKE_RESEND_MS);
    await follower.link.flush();
    assert.ok((await metricValue(follower.registry, "ticketplane_peer_wake_failed_total", { call: "wake", reason: "owner_unknown" })) >= 1);
    const next = await startReplica("next", clock);
    extra.push(next);
    ownedBy(next, follower);
    await follower.link.flush();
    assert.deepEqual(next.signals.calls, [WAKE]);

    // Serving that meets an owner gone is kept too, and delivered once one is back.
    await next.link.stop();
    follower.link.resolverSignals.serving(APP);
    await follower.link.flush();
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_wake_failed_total", { call: "serving", reason: "unreachable" }), 1);
    const third = await startReplica("third", clock);
    extra.push(third);
    ownedBy(third, follower);
    await follower.link.flush();
    assert.deepEqual(third.signals.calls, [SERVING]);
    assert.equal(follower.link.pendingSignals().size, 0);
  });

  it("this replica took the app over since the wake: its own reconciler gets it, no RPC", async () => {
    follower.ownership.owner = { kind: "unknown", reason: "no holder" };
    follower.link.resolverSignals.wake(APP);
    await follower.link.flush();
    follower.ownership.owner = { kind: "self" };
    await follower.link.flush();
    assert.equal(follower.signals.count(WAKE), 2, "the in-process note, then the wake once it owns the app");
    assert.equal(follower.link.pendingSignals().size, 0);
    assert.equal(await sent(follower, "wake"), 0);
  });

  it("an owner that no longer owns the app, or does not know it, refuses; the follower keeps it for the next try", async () => {
    owner.ownership.owner = { kind: "unknown", reason: "lost the Lease" };
    follower.link.resolverSignals.wake(APP);
    await follower.link.flush();
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_wake_received_total", { call: "wake", result: "not_owner" }), 1);
    assert.equal(await metricValue(follower.registry, "ticketplane_peer_wake_failed_total", { call: "wake", reason: "refused_by_owner" }), 1);
    assert.deepEqual(owner.signals.calls, []);
    // Owner again, but its inventory has not seen the app yet.
    owner.ownership.owner = { kind: "self" };
    owner.core.setApps([]);
    await clock.advanceAsync(DEFAULT_WAKE_RESEND_MS);
    await follower.link.flush();
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_wake_received_total", { call: "wake", result: "unknown_app" }), 1);
    assert.deepEqual(owner.signals.calls, []);
    owner.core.setApps([SPEC]);
    await clock.advanceAsync(DEFAULT_WAKE_RESEND_MS);
    await follower.link.flush();
    assert.deepEqual(owner.signals.calls, [WAKE], "the next try lands");
  });

  it("refuses Wake and Serving without the shared credential (UNAUTHENTICATED), and bytes that do not decode (INVALID_ARGUMENT); a good call still lands", async () => {
    const strangers = [new PeerClients({ bearer: () => peerBearer(keyRing("other")) }), new PeerClients({ bearer: () => "" }), new PeerClients({ bearer: () => "Bearer k1.AAAA" })];
    try {
      for (const client of strangers) {
        for (const call of ["wake", "serving"] as const) {
          await assert.rejects(client.signal(owner.link.address(), call, { replica: "x", app: APP }, 5_000), (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED);
        }
      }
    } finally {
      for (const client of strangers) client.close();
    }
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_auth_failures_total", { reason: "unknown_key" }), 2);
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_auth_failures_total", { reason: "missing" }), 2);
    assert.equal(await metricValue(owner.registry, "ticketplane_peer_auth_failures_total", { reason: "mismatch" }), 2);

    const raw = new grpc.Client(owner.link.address(), grpc.credentials.createInsecure());
    try {
      for (const method of ["Wake", "Serving"]) {
        const metadata = new grpc.Metadata();
        metadata.set("authorization", peerBearer(keyRing("k1")));
        const err = await new Promise<grpc.ServiceError | null>((resolve) => {
          raw.makeUnaryRequest(
            `/ticketplane.peer.v1.Peer/${method}`,
            () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]),
            (b: Buffer) => b,
            {},
            metadata,
            (e) => resolve(e),
          );
        });
        assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, method);
      }
      // An empty app name is refused by name.
      const empty = new PeerClients({ bearer: () => peerBearer(keyRing("k1")) });
      await assert.rejects(empty.signal(owner.link.address(), "wake", { replica: "x", app: "" }, 5_000), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /app: must name the app/.test(err.details));
      empty.close();
    } finally {
      raw.close();
    }
    assert.deepEqual(owner.signals.calls, [], "nothing refused reached the reconciler");
    follower.link.resolverSignals.wake(APP);
    await follower.link.flush();
    assert.deepEqual(owner.signals.calls, [WAKE]);
  });
});
