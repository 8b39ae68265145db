import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { TYPE_URLS } from "../resources/type-urls.js";
import { createXdsMetrics } from "./metrics.js";

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

describe("xDS response metrics", () => {
  it("count responses and bytes per type and protocol when read, each response once however often they are read", async () => {
    const registry = new Registry();
    const metrics = createXdsMetrics(registry);
    metrics.responseSent(TYPE_URLS.cluster, "delta", 100);
    metrics.responseSent(TYPE_URLS.cluster, "delta", 50);
    metrics.responseSent(TYPE_URLS.endpoints, "delta", 7);
    metrics.responseSent(TYPE_URLS.cluster, "sotw", 1000);
    assert.equal(await value(registry, "ticketplane_xds_responses_total", { type_url: TYPE_URLS.cluster, protocol: "delta" }), 2);
    assert.equal(await value(registry, "ticketplane_xds_responses_total", { type_url: TYPE_URLS.endpoints, protocol: "delta" }), 1);
    assert.equal(await value(registry, "ticketplane_xds_response_bytes_total", { protocol: "delta" }), 157);
    assert.equal(await value(registry, "ticketplane_xds_response_bytes_total", { protocol: "sotw" }), 1000);
    metrics.responseSent(TYPE_URLS.cluster, "delta", 1);
    const text = await registry.metrics();
    assert.match(text, /ticketplane_xds_response_bytes_total\{protocol="delta"\} 158/);
    assert.equal(await value(registry, "ticketplane_xds_responses_total", { type_url: TYPE_URLS.cluster, protocol: "delta" }), 3);
  });
});
