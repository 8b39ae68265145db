import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateEnvoyConfig, validateEnvoyYaml } from "./envoy-config.js";

const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";

const cluster = (extra: string): string => `
static_resources:
  clusters:
    - name: x
      type: STATIC
      connect_timeout: 0.25s
${extra}`;

describe("validateEnvoyConfig", () => {
  it("accepts proto names, JSON names, enum names and numbers, durations, maps, wrappers and Structs", () => {
    const errors = validateEnvoyConfig(BOOTSTRAP, {
      node: { id: "n", cluster: "c", metadata: { anything: { goes: [1, "two"] } } },
      staticResources: {
        clusters: [
          {
            name: "x",
            type: 1,
            connectTimeout: "5s",
            per_connection_buffer_limit_bytes: 32768,
            lb_policy: "ROUND_ROBIN",
            typed_extension_protocol_options: {
              "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                explicitHttpConfig: { http2_protocol_options: { max_concurrent_streams: 100 } },
              },
            },
          },
        ],
      },
    });
    assert.deepEqual(errors, []);
  });

  it("rejects an unknown top-level field with its path", () => {
    assert.deepEqual(validateEnvoyYaml(BOOTSTRAP, "nodes:\n  id: x\n"), ['nodes: unknown field (envoy.config.bootstrap.v3.Bootstrap has no field "nodes")']);
  });

  it("rejects an unknown field nested inside a typed_config Any, resolving @type", () => {
    const errors = validateEnvoyYaml(
      BOOTSTRAP,
      cluster(`      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
            http2_options: {}
`),
    );
    assert.deepEqual(errors, [
      'static_resources.clusters[0].typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http2_options: unknown field (envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig has no field "http2_options")',
    ]);
  });

  it("rejects an Any whose @type is unknown or malformed", () => {
    const errors = validateEnvoyYaml(BOOTSTRAP, cluster(`      typed_extension_protocol_options:\n        a: { "@type": type.googleapis.com/envoy.Nope }\n        b: { "@type": nope }\n`));
    assert.deepEqual(errors, [
      'static_resources.clusters[0].typed_extension_protocol_options["a"].@type: envoy.Nope is not among the loaded Envoy protos',
      'static_resources.clusters[0].typed_extension_protocol_options["b"].@type: "nope" is not a type URL',
    ]);
  });

  it("rejects bad enum names, durations, scalar kinds and shapes", () => {
    const errors = validateEnvoyYaml(
      BOOTSTRAP,
      `
static_resources:
  clusters:
    - name: 7
      type: STRICTDNS
      connect_timeout: 5 seconds
      per_connection_buffer_limit_bytes: -1
      health_checks: {}
admin: []
`,
    );
    assert.deepEqual(errors, [
      "static_resources.clusters[0].name: expected a string, got number 7",
      'static_resources.clusters[0].type: string "STRICTDNS" is not a value of enum envoy.config.cluster.v3.Cluster.DiscoveryType (STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST)',
      'static_resources.clusters[0].connect_timeout: "5 seconds" is not a duration like "5s" or "0.25s"',
      "static_resources.clusters[0].per_connection_buffer_limit_bytes: expected an unsigned integer, got -1",
      "static_resources.clusters[0].health_checks: expected a list, got an object",
      "admin: expected an object (envoy.config.bootstrap.v3.Admin), got a list",
    ]);
  });
});
