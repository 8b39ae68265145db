/**
 * Every resource buildGatewayResources encodes decodes back through the
 * generated types and, independently, through Envoy's own .proto files
 * (proto-loader); the JSON form of the latter passes the strict validator.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cluster } from "@envoyproxy/protos/envoy/config/cluster/v3/cluster";
import { ClusterLoadAssignment } from "@envoyproxy/protos/envoy/config/endpoint/v3/endpoint";
import { Listener } from "@envoyproxy/protos/envoy/config/listener/v3/listener";
import { RouteConfiguration } from "@envoyproxy/protos/envoy/config/route/v3/route";
import { buildGatewayResources, TYPE_URLS, type BuiltResource, type GatewayModel, type TypeUrl } from "../../src/xds/resources/index.js";
import { sampleModel } from "../../src/xds/resources/model.fixture.js";
import { decodeEnvoyMessage, validateEnvoyConfig } from "../support/envoy-config.js";

interface Codec {
  decode(bytes: Uint8Array): unknown;
  encode(message: never): { finish(): Uint8Array };
}

const GENERATED: Readonly<Record<TypeUrl, Codec>> = {
  [TYPE_URLS.cluster]: Cluster,
  [TYPE_URLS.endpoints]: ClusterLoadAssignment,
  [TYPE_URLS.listener]: Listener,
  [TYPE_URLS.routes]: RouteConfiguration,
};

const messageName = (r: BuiltResource): string => r.typeUrl.slice(r.typeUrl.indexOf("/") + 1);

const models: Readonly<Record<string, GatewayModel>> = {
  "with ext_authz and resolver": sampleModel(),
  "under Istio (no ext_authz, no resolver)": sampleModel({ extAuthz: undefined, resolver: undefined }),
  "no apps": sampleModel({ apps: [] }),
};

describe("built resources against Envoy's own protos", () => {
  for (const [label, model] of Object.entries(models)) {
    describe(label, () => {
      const built = buildGatewayResources(model);

      it("re-encode identically through the generated types", () => {
        for (const r of built) {
          const codec = GENERATED[r.typeUrl];
          const again = codec.encode(codec.decode(r.encoded) as never).finish();
          assert.deepEqual(Buffer.from(again), Buffer.from(r.encoded), `${r.name} round trip`);
        }
      });

      it("decode through proto-loader to the same names, and pass the strict validator (Anys included)", () => {
        for (const r of built) {
          const json = decodeEnvoyMessage(messageName(r), r.encoded);
          const name = r.typeUrl === TYPE_URLS.endpoints ? json.cluster_name : json.name;
          assert.equal(name, r.name);
          assert.deepEqual(validateEnvoyConfig(messageName(r), json), [], `${r.name} is valid Envoy config`);
        }
      });
    });
  }

  it("proto-loader sees the ext_authz settings inside the listener's nested Anys", () => {
    const listener = buildGatewayResources(sampleModel()).find((r) => r.typeUrl === TYPE_URLS.listener);
    assert.ok(listener);
    const json = decodeEnvoyMessage(messageName(listener), listener.encoded) as {
      filter_chains: { filters: { typed_config: { "@type": string; http_filters: { name: string; typed_config: Record<string, unknown> }[] } }[] }[];
    };
    const hcm = json.filter_chains[0]?.filters[0]?.typed_config;
    assert.equal(hcm?.["@type"], "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
    const authz = hcm.http_filters[0]?.typed_config;
    assert.equal(authz?.clear_route_cache, true);
    assert.deepEqual(authz?.status_on_error, { code: "ServiceUnavailable" });
    assert.deepEqual(authz?.grpc_service, {
      envoy_grpc: { cluster_name: "ticketplane-authz" },
      timeout: { nanos: 500_000_000 },
      initial_metadata: [{ key: "x-ticketplane-gateway", value: "default" }],
    });
  });

  it("the validator would catch a field the protos do not know in a decoded resource", () => {
    const route = buildGatewayResources(sampleModel()).find((r) => r.typeUrl === TYPE_URLS.routes);
    assert.ok(route);
    const json = decodeEnvoyMessage(messageName(route), route.encoded) as { virtual_hosts: Record<string, unknown>[] };
    const vh = json.virtual_hosts[0];
    assert.ok(vh);
    vh.routez = [];
    assert.deepEqual(validateEnvoyConfig(messageName(route), json), ['virtual_hosts[0].routez: unknown field (envoy.config.route.v3.VirtualHost has no field "routez")']);
  });
});
