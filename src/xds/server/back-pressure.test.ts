/**
 * Back-pressure: a stream whose writes have not drained writes nothing
 * more; when they drain, it gets the latest state (coalesced), never a
 * stale one, and removals of clusters and endpoints still come after the
 * routes that stop using them. Driven through a call that implements the
 * stream's narrow port (AdsCall) and completes writes only when the test
 * says so: the exact interleavings of writes, drains and changes cannot be
 * forced over a real HTTP/2 transport, whose buffers decide when a write
 * completes (the server-wide budget is tested over real streams in
 * write-budget.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { Registry } from "prom-client";
import { silentLogger } from "../../common/logger.js";
import { FakeClock } from "../../../test/support/fake-clock.js";
import { prng } from "../../../test/support/prng.js";
import { gatewayResources } from "../cache/resources.fixture.js";
import { Snapshot } from "../cache/snapshot.js";
import { SnapshotCache } from "../cache/snapshot-cache.js";
import { TYPE_URLS } from "../resources/type-urls.js";
import { createAdsServer } from "./ads-server.js";
import { FakeCall } from "./fake-call.fixture.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;
const RDS = TYPE_URLS.routes;

function setUp(): { cache: SnapshotCache; delta(): FakeCall; sotw(): FakeCall; set(pods: string[], ips?: Record<string, string>): Snapshot } {
  const cache = new SnapshotCache();
  // One byte: a stream with anything in flight writes nothing more.
  const ads = createAdsServer({ cache, registry: new Registry(), clock: new FakeClock(), logger: silentLogger, limits: { maxBytesInFlight: 1 } });
  return {
    cache,
    delta: () => {
      const call = new FakeCall();
      ads.serveDelta(call);
      return call;
    },
    sotw: () => {
      const call = new FakeCall();
      ads.serveSotw(call);
      return call;
    },
    set: (pods, ips = {}) => {
      const s = Snapshot.build(gatewayResources(pods, ips), cache.getSnapshot("default"));
      cache.setSnapshot("default", s);
      return s;
    },
  };
}

interface Req {
  readonly first?: boolean;
  readonly typeUrl: string;
  readonly resourceNamesSubscribe?: string[];
  readonly resourceNamesUnsubscribe?: string[];
}

const NODE = { id: "gw", cluster: "" };

function deltaRequest(r: Req): DeltaDiscoveryRequest {
  return DeltaDiscoveryRequest.fromPartial({
    node: r.first ? NODE : undefined,
    typeUrl: r.typeUrl,
    resourceNamesSubscribe: r.resourceNamesSubscribe ?? [],
    resourceNamesUnsubscribe: r.resourceNamesUnsubscribe ?? [],
  });
}

function sotwRequest(r: Req): DiscoveryRequest {
  return DiscoveryRequest.fromPartial({ node: r.first ? NODE : undefined, typeUrl: r.typeUrl });
}

/** Applies delta responses as a client does: name → version per type. */
function applyDelta(held: Map<string, Map<string, string>>, bytes: Buffer): DeltaDiscoveryResponse {
  const r = DeltaDiscoveryResponse.decode(bytes);
  const m = held.get(r.typeUrl) ?? new Map<string, string>();
  for (const x of r.resources) m.set(x.name, x.version);
  for (const n of r.removedResources) m.delete(n);
  held.set(r.typeUrl, m);
  return r;
}

function versions(s: Snapshot, typeUrl: typeof CDS | typeof EDS | typeof RDS): Map<string, string> {
  return new Map([...s.resources(typeUrl).values()].map((r) => [r.name, r.version]));
}

describe("ADS back-pressure", () => {
  it("delta: nothing more is written until the writes drain; then one response brings the latest snapshot", () => {
    const env = setUp();
    env.set(["ns/a/p1"]);
    const call = env.delta();
    call.emit("data", deltaRequest({ first: true, typeUrl: CDS }));
    assert.equal(call.written.length, 1);
    env.set(["ns/a/p1", "ns/a/p2"]);
    env.set(["ns/a/p1", "ns/a/p2", "ns/a/p3"]);
    const latest = env.set(["ns/a/p1", "ns/a/p3", "ns/a/p4"]);
    assert.equal(call.written.length, 1, "no write while the first has not drained");
    call.drain();
    assert.equal(call.written.length, 2, "the changes meanwhile coalesce into one response");
    const held = new Map<string, Map<string, string>>();
    for (const b of call.written) applyDelta(held, b);
    assert.deepEqual(held.get(CDS), versions(latest, CDS));
    assert.equal(DeltaDiscoveryResponse.decode(call.written[1] ?? Buffer.alloc(0)).systemVersionInfo, latest.typeVersion(CDS));
  });

  it("delta: whatever the order of changes, subscriptions and drains, the client ends up with the latest version of everything", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rand = prng(seed);
      const env = setUp();
      const pick = (): string[] => ["p1", "p2", "p3", "p4", "p5"].filter(() => rand() < 0.6).map((p) => `ns/a/${p}`);
      const ip = (): Record<string, string> => (rand() < 0.5 ? { "ns/a/p1": `10.9.9.${Math.floor(rand() * 9)}` } : {});
      let latest = env.set(pick(), ip());
      const call = env.delta();
      call.emit("data", deltaRequest({ first: true, typeUrl: CDS }));
      call.emit("data", deltaRequest({ typeUrl: RDS, resourceNamesSubscribe: ["ticketplane-routes"] }));
      const eds = new Set<string>();
      // The client: applies what it is sent, in order, and drops what it unsubscribes from.
      const held = new Map<string, Map<string, string>>();
      let applied = 0;
      const receive = (): void => {
        for (; applied < call.written.length; applied++) applyDelta(held, call.written[applied] ?? Buffer.alloc(0));
      };
      for (let step = 0; step < 40; step++) {
        const x = rand();
        if (x < 0.35) latest = env.set(pick(), ip());
        else if (x < 0.55) {
          const name = `ns/a/p${1 + Math.floor(rand() * 5)}`;
          const sub = !eds.has(name);
          receive();
          if (sub) eds.add(name);
          else {
            eds.delete(name);
            held.get(EDS)?.delete(name);
          }
          call.emit("data", deltaRequest({ typeUrl: EDS, ...(sub ? { resourceNamesSubscribe: [name] } : { resourceNamesUnsubscribe: [name] }) }));
        } else if (x < 0.85) call.drainOne();
        else call.drain();
        assert.ok(call.outstanding <= 1, `seed ${seed}: at most one write in flight`);
      }
      call.drain();
      receive();
      assert.deepEqual(held.get(CDS) ?? new Map(), versions(latest, CDS), `seed ${seed}: clusters`);
      assert.deepEqual(held.get(RDS) ?? new Map(), versions(latest, RDS), `seed ${seed}: routes`);
      const wantEds = new Map([...versions(latest, EDS)].filter(([n]) => eds.has(n)));
      assert.deepEqual(held.get(EDS) ?? new Map(), wantEds, `seed ${seed}: endpoints`);
    }
  });

  it("state of the world: a stalled stream gets the latest cluster list once it drains", () => {
    const env = setUp();
    env.set(["ns/a/p1"]);
    const call = env.sotw();
    call.emit("data", sotwRequest({ first: true, typeUrl: CDS }));
    env.set(["ns/a/p1", "ns/a/p2"]);
    const latest = env.set(["ns/a/p2", "ns/a/p3"]);
    assert.equal(call.written.length, 1);
    call.drain();
    const last = DiscoveryResponse.decode(call.written.at(-1) ?? Buffer.alloc(0));
    assert.equal(last.versionInfo, latest.typeVersion(CDS));
    assert.equal(last.resources.length, 2);
    assert.equal(call.written.length, 2);
  });

  it("a stalled stream that missed a pod's removal gets the routes before the cluster and endpoint removals", () => {
    const env = setUp();
    env.set(["ns/a/p1", "ns/a/p2"]);
    const call = env.delta();
    call.emit("data", deltaRequest({ first: true, typeUrl: CDS }));
    call.emit("data", deltaRequest({ typeUrl: EDS, resourceNamesSubscribe: ["ns/a/p1", "ns/a/p2"] }));
    call.emit("data", deltaRequest({ typeUrl: RDS, resourceNamesSubscribe: ["ticketplane-routes"] }));
    call.drain();
    const before = call.written.length;
    // Stalled on one write, then p1 goes and p3 comes.
    env.set(["ns/a/p1", "ns/a/p2"], { "ns/a/p2": "10.2.2.2" });
    env.set(["ns/a/p2", "ns/a/p3"], { "ns/a/p2": "10.2.2.2" });
    call.drain();
    const got = call.written.slice(before).map((b) => DeltaDiscoveryResponse.decode(b));
    const route = got.findIndex((r) => r.typeUrl === RDS);
    const removals = got.map((r, i) => (r.removedResources.length > 0 ? i : -1)).filter((i) => i >= 0);
    assert.ok(route >= 0);
    assert.ok(removals.length >= 2);
    for (const i of removals) assert.ok(i > route, `removal ${got[i]?.typeUrl} comes after the routes`);
    const added = got.findIndex((r) => r.typeUrl === CDS && r.resources.some((x) => x.name === "ns/a/p3"));
    assert.ok(added >= 0 && added < route, "the new cluster comes before the routes that use it");
  });
});
