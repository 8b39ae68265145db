import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseEnvoyYaml, validateEnvoyConfig, validateEnvoyYaml } from "../support/envoy-config.js";

const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";
const read = (name: string): string => readFileSync(new URL(`../../envoy/${name}`, import.meta.url), "utf8");

interface Bootstrap {
  node?: { id?: string; cluster?: string };
  admin: { address: { socket_address: { address: string; port_value: number } } };
  dynamic_resources: {
    ads_config: { api_type: string; transport_api_version: string; grpc_services: { envoy_grpc: { cluster_name: string } }[] };
    cds_config: unknown;
    lds_config: unknown;
  };
  static_resources: {
    clusters: {
      name: string;
      type: string;
      typed_extension_protocol_options: Record<string, { explicit_http_config: { http2_protocol_options: unknown } }>;
      load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] };
    }[];
  };
}

function xdsTarget(b: Bootstrap): string {
  const c = b.static_resources.clusters.find((x) => x.name === b.dynamic_resources.ads_config.grpc_services[0]?.envoy_grpc.cluster_name);
  assert.ok(c, "the ADS cluster is defined statically");
  assert.ok(c.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]?.explicit_http_config.http2_protocol_options, "ADS cluster speaks HTTP/2");
  const sa = c.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address;
  return `${c.type} ${sa?.address}:${sa?.port_value}`;
}

function assertAdsEverything(b: Bootstrap): void {
  assert.equal(b.dynamic_resources.ads_config.transport_api_version, "V3");
  assert.deepEqual(b.dynamic_resources.cds_config, { ads: {}, resource_api_version: "V3" });
  assert.deepEqual(b.dynamic_resources.lds_config, { ads: {}, resource_api_version: "V3" });
  assert.equal(b.admin.address.socket_address.address, "127.0.0.1", "admin on loopback only");
}

describe("Envoy bootstraps", () => {
  for (const file of ["standalone.yaml", "gateway.yaml"]) {
    it(`${file} parses as an Envoy Bootstrap with no unknown field`, () => {
      assert.deepEqual(validateEnvoyYaml(BOOTSTRAP, read(file)), []);
    });
  }

  it("standalone.yaml: named node, delta ADS (the cheaper protocol per change) to 127.0.0.1:18000 over HTTP/2, admin on 127.0.0.1:9901", () => {
    const b = parseEnvoyYaml(read("standalone.yaml")) as Bootstrap;
    assert.deepEqual(b.node, { id: "ticketplane-standalone", cluster: "default" });
    assert.equal(b.dynamic_resources.ads_config.api_type, "DELTA_GRPC");
    assert.equal(xdsTarget(b), "STATIC 127.0.0.1:18000");
    assertAdsEverything(b);
    assert.equal(b.admin.address.socket_address.port_value, 9901);
  });

  it("gateway.yaml: delta ADS to the ticketplane Service, node from flags, admin off Istio's reserved ports", () => {
    const b = parseEnvoyYaml(read("gateway.yaml")) as Bootstrap;
    assert.equal(b.node, undefined, "node id/cluster come from --service-node/--service-cluster");
    assert.match(read("gateway.yaml"), /--service-node/);
    assert.equal(b.dynamic_resources.ads_config.api_type, "DELTA_GRPC");
    assert.equal(xdsTarget(b), "STRICT_DNS ticketplane.ticketplane-system.svc.cluster.local:18000");
    assertAdsEverything(b);
    const istioPorts = [15000, 15001, 15002, 15004, 15006, 15008, 15020, 15021, 15053, 15090];
    assert.ok(!istioPorts.includes(b.admin.address.socket_address.port_value));
  });

  it("a bootstrap with an unknown field, top-level or inside a typed_config, is rejected with its path", () => {
    const b = parseEnvoyYaml(read("standalone.yaml")) as Bootstrap & Record<string, unknown>;
    const opts = b.static_resources.clusters[0]?.typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] as unknown as Record<string, unknown>;
    opts.explicit_http_config = { http2_protocol_options: {}, http_two: true };
    const errors = validateEnvoyConfig(BOOTSTRAP, { ...b, admin_port: 9901 });
    assert.deepEqual(errors, [
      'static_resources.clusters[0].typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http_two: unknown field (envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig has no field "http_two")',
      'admin_port: unknown field (envoy.config.bootstrap.v3.Bootstrap has no field "admin_port")',
    ]);
  });
});
