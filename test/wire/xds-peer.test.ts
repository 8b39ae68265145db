/**
 * Pins what the independent peer (@grpc/grpc-js-xds, through
 * test/support/xds-client.ts) accepts and rejects, against a ten-line fake
 * SotW server, so the other wire tests can rely on it: a NACK there is a
 * property of our resources, not of the harness.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { AggregatedDiscoveryServiceService } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import type { DiscoveryRequest, DiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { TYPE_URLS } from "../../src/xds/resources/type-urls.js";
import { startGrpcServer, type GrpcHarness } from "../support/grpc-harness.js";
import { XdsPeer, type XdsValues } from "../support/xds-client.js";
import { eventually } from "../support/wait-for.js";

/** A SotW server that answers every request with the current resources of its type, and records every request. */
class FakeSotw {
  readonly requests: DiscoveryRequest[] = [];
  readonly #resources = new Map<string, { version: string; values: Uint8Array[] }>();
  readonly #streams = new Set<grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>>();
  #nonce = 0;

  set(typeUrl: string, version: string, values: Uint8Array[]): void {
    this.#resources.set(typeUrl, { version, values });
    for (const stream of this.#streams) this.#send(stream, typeUrl);
  }

  register(server: grpc.Server): void {
    server.addService(AggregatedDiscoveryServiceService, {
      streamAggregatedResources: (stream: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
        this.#streams.add(stream);
        const sent = new Set<string>();
        stream.on("data", (req: DiscoveryRequest) => {
          this.requests.push(req);
          if (!sent.has(req.typeUrl)) {
            sent.add(req.typeUrl);
            this.#send(stream, req.typeUrl);
          }
        });
        stream.on("end", () => stream.end());
        stream.on("error", (err) => assert.match(String(err), /CANCELLED/));
        stream.on("close", () => this.#streams.delete(stream));
      },
      deltaAggregatedResources: (stream: grpc.ServerDuplexStream<unknown, unknown>) => stream.end(),
    });
  }

  #send(stream: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, typeUrl: string): void {
    const current = this.#resources.get(typeUrl);
    if (!current) return;
    stream.write({
      versionInfo: current.version,
      typeUrl,
      nonce: String(++this.#nonce),
      resources: current.values.map((value) => ({ typeUrl, value: Buffer.from(value) })),
      canary: false,
    });
  }
}

function cla(name: string, address: string, port: number): Uint8Array {
  return ClusterLoadAssignment.encode(
    ClusterLoadAssignment.fromPartial({
      clusterName: name,
      endpoints: [{ locality: {}, lbEndpoints: [{ endpoint: { address: { socketAddress: { address, portValue: port } } } }] }],
    }),
  ).finish();
}

function addressOf(value: XdsValues["endpoints"] | undefined): string | undefined {
  return value?.endpoints[0]?.lb_endpoints[0]?.endpoint?.address?.socket_address?.address;
}

describe("xds peer (grpc-js-xds) against a fake SotW server", () => {
  let fake: FakeSotw;
  let harness: GrpcHarness;

  before(async () => {
    fake = new FakeSotw();
    harness = await startGrpcServer((s) => fake.register(s));
  });
  after(async () => {
    await harness.close();
  });

  it("ACKs valid endpoints, NACKs a host name address, keeps the last good value and recovers", async () => {
    const peer = XdsPeer.start({ address: harness.address, nodeId: "peer-eds" });
    try {
      fake.set(TYPE_URLS.endpoints, "v1", [cla("ns/app/p1", "10.0.0.1", 8080)]);
      peer.watch("endpoints", "ns/app/p1");
      const first = await peer.untilValue("endpoints", "ns/app/p1", () => true);
      assert.equal(addressOf(first), "10.0.0.1");
      assert.equal(peer.status("endpoints", "ns/app/p1")?.clientStatus, "ACKED");
      assert.equal(peer.acceptedVersion("endpoints"), "v1");

      fake.set(TYPE_URLS.endpoints, "v2", [cla("ns/app/p1", "pod-1.example", 8080)]);
      const nack = await peer.until("endpoints", "ns/app/p1", (e) => e.type === "error");
      assert.match(nack.type === "error" ? nack.details : "", /not a valid IPv4 or IPv6 address/);
      assert.equal(peer.status("endpoints", "ns/app/p1")?.failedVersion, "v2");
      assert.equal(addressOf(peer.current("endpoints", "ns/app/p1")), "10.0.0.1");
      const nackRequest = await eventually(() => fake.requests.find((r) => r.typeUrl === TYPE_URLS.endpoints && r.errorDetail), { what: "a NACK request with error_detail", timeoutMs: 5_000 });
      assert.equal(nackRequest.versionInfo, "v1", "a NACK of the only resource echoes the last accepted version");

      fake.set(TYPE_URLS.endpoints, "v3", [cla("ns/app/p1", "10.0.0.2", 8080)]);
      await peer.untilValue("endpoints", "ns/app/p1", (v) => addressOf(v) === "10.0.0.2");
      assert.equal(peer.status("endpoints", "ns/app/p1")?.clientStatus, "ACKED");
    } finally {
      await peer.close();
    }
  });

  it("NACKs a RouteConfiguration with a direct_response route (gRPC supports only the route action)", async () => {
    const peer = XdsPeer.start({ address: harness.address, nodeId: "peer-rds" });
    try {
      const routes = RouteConfiguration.encode(
        RouteConfiguration.fromPartial({
          name: "ticketplane-routes",
          virtualHosts: [{ name: "all", domains: ["*"], routes: [{ name: "fallback", match: { prefix: "/" }, directResponse: { status: 503 } }] }],
        }),
      ).finish();
      fake.set(TYPE_URLS.routes, "r1", [routes]);
      peer.watch("routes", "ticketplane-routes");
      const event = await peer.until("routes", "ticketplane-routes", () => true);
      assert.equal(event.type, "error");
      assert.equal(peer.status("routes", "ticketplane-routes")?.clientStatus, "NACKED");
    } finally {
      await peer.close();
    }
  });

  it("close() ends the stream even for a name the server never sends", async () => {
    const peer = XdsPeer.start({ address: harness.address, nodeId: "peer-missing" });
    peer.watch("cluster", "never-sent");
    const pending = peer.next("cluster", "never-sent", 60_000);
    await peer.close();
    await assert.rejects(pending, /closed while waiting/);
  });
});
