/**
 * The dev gateway's ADS client against a hand-built delta ADS server (real
 * gRPC on port 0) that can send what ours never would: it ACKs good updates,
 * NACKs a bad one with error_detail naming the resource and field while the
 * last good config stays, follows EDS/RDS names, and reconnects presenting
 * what it holds.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { AggregatedDiscoveryServiceService } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import type { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { silentLogger } from "../../common/logger.js";
import { buildClusterLoadAssignment } from "../../xds/resources/cluster-load-assignment.js";
import { buildPodCluster } from "../../xds/resources/cluster.js";
import { buildListener } from "../../xds/resources/listener.js";
import { sampleModel } from "../../xds/resources/model.fixture.js";
import { FakeClock } from "../../../test/support/fake-clock.js";
import { type GrpcHarness, startGrpcServer } from "../../../test/support/grpc-harness.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { AdsClient } from "./ads-client.js";
import { RetryDelay } from "./retry-delay.js";
import { TYPE } from "./resources.js";

type Stream = grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

/** A delta ADS server that records every request and sends what the test says. */
class HandAds {
  readonly requests: DeltaDiscoveryRequest[] = [];
  readonly streams: Stream[] = [];
  #nonce = 0;

  readonly implementation = {
    streamAggregatedResources: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    deltaAggregatedResources: (call: Stream) => {
      this.streams.push(call);
      call.on("data", (r: DeltaDiscoveryRequest) => this.requests.push(r));
      call.on("error", () => undefined);
      call.on("end", () => call.end());
    },
  };

  /** Sends a response on the latest stream; returns its nonce. */
  send(typeUrl: string, resources: { name: string; version: string; bytes: Uint8Array }[], removed: string[] = []): string {
    const nonce = `n${++this.#nonce}`;
    const stream = this.streams.at(-1);
    assert.ok(stream, "no stream open");
    stream.write({
      systemVersionInfo: "",
      typeUrl,
      nonce,
      removedResources: removed,
      removedResourceNames: [],
      resources: resources.map((r) => ({ name: r.name, version: r.version, resource: { typeUrl, value: Buffer.from(r.bytes) }, aliases: [] })),
    });
    return nonce;
  }

  /** The client's answer to `nonce`, once it arrives. */
  async answer(nonce: string): Promise<DeltaDiscoveryRequest> {
    await waitFor(() => this.requests.some((r) => r.responseNonce === nonce), { what: `the answer to ${nonce}` });
    return this.requests.find((r) => r.responseNonce === nonce) as DeltaDiscoveryRequest;
  }

  subscribed(typeUrl: string): string[] {
    return this.requests.filter((r) => r.typeUrl === typeUrl).flatMap((r) => r.resourceNamesSubscribe);
  }
}

const cluster = (name: string): Uint8Array => Cluster.encode(buildPodCluster(name)).finish();
const endpoints = (name: string, port: number): Uint8Array => ClusterLoadAssignment.encode(buildClusterLoadAssignment(name, [{ host: "127.0.0.1", port }])).finish();
const routes = (cluster: string): Uint8Array =>
  RouteConfiguration.encode(RouteConfiguration.fromPartial({ name: "ticketplane-routes", virtualHosts: [{ name: "any", domains: ["*"], routes: [{ name: "all", match: { prefix: "/" }, route: { cluster } }] }] })).finish();

describe("ADS client (delta): ACK, NACK, subscriptions, reconnect", () => {
  let ads: HandAds;
  let server: GrpcHarness;
  let client: AdsClient;
  const clock = new FakeClock();
  let updates = 0;

  before(async () => {
    ads = new HandAds();
    server = await startGrpcServer((s) => s.addService(AggregatedDiscoveryServiceService, ads.implementation));
    client = new AdsClient({ target: server.address, node: { id: "gw-1", cluster: "default" }, logger: silentLogger, clock, onUpdate: () => updates++, retry: new RetryDelay(100, 100) });
    client.start();
    await waitFor(() => ads.requests.length >= 2, { what: "the first requests" });
  });
  after(async () => {
    client.stop();
    await server.close();
  });

  it("subscribes to clusters and listeners by wildcard, with its node", () => {
    const first = ads.requests.slice(0, 2);
    assert.deepEqual(first.map((r) => r.typeUrl).sort(), [TYPE.cluster, TYPE.listener].sort());
    for (const r of first) {
      assert.deepEqual(r.resourceNamesSubscribe, []);
      assert.equal(r.node?.id, "gw-1");
      assert.equal(r.node?.cluster, "default");
    }
  });

  it("ACKs clusters, then asks for their endpoints; ACKs a listener, then asks for its routes", async () => {
    const n1 = ads.send(TYPE.cluster, [{ name: "ns/app/p1", version: "1", bytes: cluster("ns/app/p1") }]);
    assert.equal((await ads.answer(n1)).errorDetail, undefined, "ACK");
    await waitFor(() => ads.subscribed(TYPE.endpoints).includes("ns/app/p1"), { what: "EDS subscription" });
    const n2 = ads.send(TYPE.listener, [{ name: "ticketplane-http", version: "1", bytes: Listener.encode(buildListener(sampleModel())).finish() }]);
    assert.equal((await ads.answer(n2)).errorDetail, undefined);
    await waitFor(() => ads.subscribed(TYPE.routes).includes("ticketplane-routes"), { what: "RDS subscription" });
    const n3 = ads.send(TYPE.endpoints, [{ name: "ns/app/p1", version: "1", bytes: endpoints("ns/app/p1", 4001) }]);
    const n4 = ads.send(TYPE.routes, [{ name: "ticketplane-routes", version: "1", bytes: routes("ns/app/p1") }]);
    assert.equal((await ads.answer(n3)).errorDetail, undefined);
    assert.equal((await ads.answer(n4)).errorDetail, undefined);
    assert.deepEqual(client.state.target("ns/app/p1"), { kind: "endpoint", endpoint: { host: "127.0.0.1", port: 4001 } });
    assert.equal(client.state.routes()?.name, "ticketplane-routes");
    assert.equal(client.state.listener()?.extAuthz?.statusOnError, 503);
  });

  it("NACKs a response with a bad resource, naming it and the field, and keeps the last good config whole", async () => {
    const bad = Cluster.encode(Cluster.fromPartial({ name: "ns/app/p2", type: 2 /* LOGICAL_DNS */, connectTimeout: { seconds: 1, nanos: 0 } })).finish();
    const acks = client.counts.acks;
    const n = ads.send(TYPE.cluster, [
      { name: "ns/app/p3", version: "1", bytes: cluster("ns/app/p3") },
      { name: "ns/app/p2", version: "1", bytes: bad },
    ]);
    const nack = await ads.answer(n);
    assert.equal(nack.errorDetail?.code, 3, "INVALID_ARGUMENT");
    assert.match(nack.errorDetail?.message ?? "", /cluster "ns\/app\/p2"\.type: LOGICAL_DNS is not supported/);
    assert.equal(client.counts.acks, acks);
    assert.equal(client.state.hasCluster("ns/app/p3"), false, "a rejected response is applied not at all, not in part");
    assert.equal(client.state.target("ns/app/p1").kind, "endpoint", "the last good cluster stays");

    const badRoutes = RouteConfiguration.encode(RouteConfiguration.fromPartial({ name: "ticketplane-routes", virtualHosts: [{ name: "v", domains: ["*"], routes: [{ name: "w", match: { prefix: "/" }, route: { weightedClusters: { clusters: [] } } }] }] })).finish();
    const nr = ads.send(TYPE.routes, [{ name: "ticketplane-routes", version: "2", bytes: badRoutes }]);
    assert.match((await ads.answer(nr)).errorDetail?.message ?? "", /weighted_clusters: not supported/);
    const kept = client.state.routes()?.decide("h", "/x", new Map());
    assert.equal(kept?.kind === "forward" ? kept.cluster : undefined, "ns/app/p1", "the last good routes stay");
  });

  it("NACKs bytes that do not decode, and a resource named differently from its envelope", async () => {
    const garbage = ads.send(TYPE.endpoints, [{ name: "ns/app/p1", version: "9", bytes: Buffer.from([0xff, 0xff, 0xff]) }]);
    assert.match((await ads.answer(garbage)).errorDetail?.message ?? "", /does not decode/);
    const renamed = ads.send(TYPE.endpoints, [{ name: "ns/app/p1", version: "9", bytes: endpoints("other", 1) }]);
    assert.match((await ads.answer(renamed)).errorDetail?.message ?? "", /is named "other"/);
    assert.deepEqual(client.state.target("ns/app/p1"), { kind: "endpoint", endpoint: { host: "127.0.0.1", port: 4001 } });
  });

  it("drops a removed cluster's endpoints subscription", async () => {
    const n = ads.send(TYPE.cluster, [], ["ns/app/p1"]);
    assert.equal((await ads.answer(n)).errorDetail, undefined);
    await waitFor(() => ads.requests.some((r) => r.typeUrl === TYPE.endpoints && r.resourceNamesUnsubscribe.includes("ns/app/p1")), { what: "EDS unsubscribe" });
    assert.deepEqual(client.state.target("ns/app/p1"), { kind: "no_cluster" });
    // Put it back for the reconnect below.
    const back = ads.send(TYPE.cluster, [{ name: "ns/app/p1", version: "2", bytes: cluster("ns/app/p1") }]);
    await ads.answer(back);
  });

  it("reconnects after the server ends the stream, presenting what it holds (initial_resource_versions)", async () => {
    const before = ads.requests.length;
    const streams = ads.streams.length;
    ads.streams.at(-1)?.end();
    await waitFor(() => client.counts.connects === 1 && ads.streams.length === streams, { what: "the stream noticed as lost" });
    // The retry waits on the clock: nothing reconnects until it moves.
    await waitFor(async () => {
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
      return ads.streams.length > streams;
    }, { what: "a new stream" });
    await waitFor(() => ads.requests.slice(before).some((r) => r.typeUrl === TYPE.cluster && r.initialResourceVersions["ns/app/p1"] === "2"), { what: "CDS with initial versions" });
    const lds = ads.requests.slice(before).find((r) => r.typeUrl === TYPE.listener);
    assert.equal(lds?.initialResourceVersions["ticketplane-http"], "1");
    await waitFor(() => ads.requests.slice(before).some((r) => r.typeUrl === TYPE.routes && r.initialResourceVersions["ticketplane-routes"] === "1"), { what: "RDS resubscribed with its version" });
    assert.equal(client.counts.connects, 2);
  });
});
