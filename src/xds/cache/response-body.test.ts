import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeltaDiscoveryResponse, DiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import type { EncodedResource } from "./encoded-resource.js";
import { gatewayResources } from "./resources.fixture.js";
import { deltaBody, sotwBody } from "./response-body.js";
import { Snapshot } from "./snapshot.js";
import { SnapshotCache } from "./snapshot-cache.js";
import type { DeltaCacheResponse, SotwCacheResponse } from "./watch.js";
import { withNonce } from "./wire.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;

/** What the generated encoder makes of the same response: the per-stream reference. */
function reference(typeUrl: TypeUrl, version: string, nonce: string, resources: readonly EncodedResource[]): Buffer {
  const msg = DiscoveryResponse.fromPartial({ versionInfo: version, typeUrl, nonce, resources: resources.map((r) => ({ typeUrl, value: Buffer.from(r.bytes) })) });
  return Buffer.from(DiscoveryResponse.encode(msg).finish());
}

function deltaReference(typeUrl: TypeUrl, version: string, nonce: string, changed: readonly EncodedResource[], removed: readonly string[]): Buffer {
  const msg = DeltaDiscoveryResponse.fromPartial({
    systemVersionInfo: version,
    typeUrl,
    nonce,
    resources: changed.map((r) => ({ name: r.name, version: r.version, resource: { typeUrl, value: Buffer.from(r.bytes) } })),
    removedResources: [...removed],
  });
  return Buffer.from(DeltaDiscoveryResponse.encode(msg).finish());
}

const snapshot = Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2", "ns/b/q1"]));

describe("shared response bodies", () => {
  it("a shared body plus a stream's nonce is byte for byte what the generated encoder makes of that stream's response", () => {
    for (const typeUrl of [CDS, EDS] as const) {
      const all = snapshot.list(typeUrl);
      for (const resources of [all, all.slice(1), []]) {
        for (const nonce of ["1", "42", "123456789", "x".repeat(200)]) {
          assert.deepEqual(withNonce(sotwBody("v1", typeUrl, resources), nonce), reference(typeUrl, "v1", nonce, resources));
          for (const removed of [[], ["ns/z/gone"], ["a", "b"]]) {
            assert.deepEqual(withNonce(deltaBody("v2", typeUrl, resources, removed), nonce), deltaReference(typeUrl, "v2", nonce, resources, removed));
          }
        }
      }
    }
  });

  it("is encoded once for the same resources, version and type, and again when any differs", () => {
    const list = snapshot.list(CDS);
    assert.equal(sotwBody("v1", CDS, list), sotwBody("v1", CDS, list));
    assert.notEqual(sotwBody("v1", CDS, list), sotwBody("v2", CDS, list));
    const removed = ["x"];
    assert.equal(deltaBody("v1", CDS, [], removed), deltaBody("v1", CDS, [], removed));
    assert.notEqual(deltaBody("v1", CDS, list, []), sotwBody("v1", CDS, list));
    // One resource, in arrays of their own (streams that each just subscribed to it): one body.
    const one = list[0];
    assert.ok(one);
    assert.equal(deltaBody("v1", CDS, [one], []), deltaBody("v1", CDS, [one], []));
    assert.notEqual(deltaBody("v1", CDS, [one], []), deltaBody("v1", CDS, [one], ["gone"]));
  });

  it("streams in step get the very same body: the whole type at first, then the change", () => {
    const cache = new SnapshotCache();
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2"])));
    const sotw: SotwCacheResponse[][] = [[], [], []];
    const delta: DeltaCacheResponse[][] = [[], [], []];
    for (let i = 0; i < 3; i++) {
      const sent = new Map<string, EncodedResource>();
      let any = false;
      cache.createWatch({ typeUrl: CDS }, { group: "g", subscription: () => ({ wildcard: true, names: new Set(), versionInfo: "", sent: any ? sent : undefined }) }, (r) => {
        sotw[i]?.push(r);
        any = true;
        sent.clear();
        for (const x of r.resources) sent.set(x.name, x);
        return true;
      });
      const known = new Map<string, string>();
      cache.createDeltaWatch({ typeUrl: CDS }, { group: "g", subscription: () => ({ wildcard: true, subscribed: new Set(), known }) }, (r) => {
        delta[i]?.push(r);
        for (const x of r.changed) known.set(x.name, x.version);
        return true;
      });
    }
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2", "ns/a/p3"]), cache.getSnapshot("g")));
    for (const step of [0, 1]) {
      const s = sotw.map((rs) => rs[step]?.body());
      const d = delta.map((rs) => rs[step]?.body());
      assert.ok(s[0] && s[0] === s[1] && s[1] === s[2], `SotW step ${step}: one body for every stream`);
      assert.ok(d[0] && d[0] === d[1] && d[1] === d[2], `delta step ${step}: one body for every stream`);
    }
    assert.equal(delta[0]?.[1]?.changed.length, 1);
    assert.equal(sotw[0]?.[1]?.resources.length, 3);
    // The whole type is the snapshot's own map: a stream holds it by reference.
    assert.equal(sotw[0]?.[1]?.whole, cache.getSnapshot("g")?.resources(CDS));
  });
});
