/**
 * A minimal state-of-the-world ADS client that plays an Envoy gateway: it
 * subscribes to clusters and listeners (wildcard), the endpoints of every
 * cluster it was sent and the route table, and ACKs everything. The stream is
 * Envoy's own .proto (proto-loader); only reading the resource bytes uses the
 * generated Envoy types. Unlike grpc-js-xds it accepts ext_authz listeners
 * and direct_response routes, as Envoy does, so it can ACK what a real
 * gateway would and let pods become routable.
 */
import type * as grpc from "@grpc/grpc-js";
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { adsClient } from "../support/envoy-protos.js";

const CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
const LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
const RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
const ROUTES = "ticketplane-routes";

interface WireResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  /** Absent when empty (proto-loader): an EDS response for a name that went away carries none. */
  resources?: { type_url: string; value: Buffer }[];
}

export class RawGateway {
  readonly #client: grpc.Client;
  readonly #call: grpc.ClientDuplexStream<unknown, WireResponse>;
  readonly #node = { id: `e2e-gateway-${process.pid}`, cluster: "default" };
  /** Cluster names last sent. */
  clusters: string[] = [];
  /** Per app path prefix, the cluster names its route may send to (the cluster header's required prefix). */
  routes: { prefix: string; clusterPrefix: string }[] = [];
  /** Per cluster name, the endpoint addresses last sent (`host:port`). */
  endpoints = new Map<string, string[]>();
  acks = 0;
  #edsNames: string[] = [];
  #ended = false;

  constructor(address: string) {
    this.#client = adsClient(address);
    const method = (this.#client as unknown as { StreamAggregatedResources: () => grpc.ClientDuplexStream<unknown, WireResponse> }).StreamAggregatedResources;
    this.#call = method.call(this.#client);
    this.#call.on("data", (r: WireResponse) => this.#onResponse(r));
    this.#call.on("error", (err: grpc.ServiceError) => {
      // Cancelled by close() or by the server shutting down: expected; anything else is kept for the test to see.
      if (!this.#ended) this.lastError = err;
    });
    this.#send(CDS, [], "", "");
    this.#send(LDS, [], "", "");
    this.#send(RDS, [ROUTES], "", "");
  }

  lastError: Error | undefined;

  /** Pod names the gateway can route to for the app under `prefix`: its route's clusters that the gateway holds. */
  podsFor(prefix: string): string[] {
    const clusterPrefix = this.routes.find((r) => r.prefix === prefix)?.clusterPrefix;
    if (clusterPrefix === undefined) return [];
    return this.clusters.filter((c) => c.startsWith(clusterPrefix)).map((c) => c.slice(clusterPrefix.length));
  }

  close(): void {
    this.#ended = true;
    this.#call.cancel();
    this.#client.close();
  }

  #send(typeUrl: string, names: string[], version: string, nonce: string): void {
    this.#call.write({ node: this.#node, type_url: typeUrl, resource_names: names, version_info: version, response_nonce: nonce });
  }

  #onResponse(r: WireResponse): void {
    if (r.type_url === CDS) {
      this.clusters = (r.resources ?? []).map((a) => Cluster.decode(a.value).name).sort();
      this.#send(CDS, [], r.version_info, r.nonce);
      const eds = this.clusters.filter((c) => c.split("/").length === 3);
      if (eds.join() !== this.#edsNames.join()) {
        this.#edsNames = eds;
        this.#send(EDS, eds, "", "");
      }
    } else if (r.type_url === RDS) {
      this.routes = (r.resources ?? []).flatMap((a) =>
        RouteConfiguration.decode(a.value).virtualHosts.flatMap((vh) =>
          vh.routes.flatMap((route) => {
            // An app's route to its pods: the cluster named by a header, which must start with the app's cluster prefix.
            const header = route.route?.clusterHeader;
            const clusterPrefix = route.match?.headers.find((h) => h.name === header)?.stringMatch?.prefix;
            return clusterPrefix === undefined ? [] : [{ prefix: route.match?.prefix ?? "", clusterPrefix }];
          }),
        ),
      );
      this.#send(RDS, [ROUTES], r.version_info, r.nonce);
    } else if (r.type_url === EDS) {
      for (const a of r.resources ?? []) {
        const cla = ClusterLoadAssignment.decode(a.value);
        const hosts = cla.endpoints.flatMap((l) => l.lbEndpoints.map((e) => `${e.endpoint?.address?.socketAddress?.address ?? "?"}:${String(e.endpoint?.address?.socketAddress?.portValue ?? "?")}`));
        this.endpoints.set(cla.clusterName, hosts);
      }
      this.#send(EDS, this.#edsNames, r.version_info, r.nonce);
    } else {
      this.#send(r.type_url, [], r.version_info, r.nonce);
    }
    this.acks++;
  }
}
