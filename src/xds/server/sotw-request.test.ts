import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { decodeSotwRequest, requestNames } from "./sotw-request.js";

const EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

interface Partial_ {
  readonly versionInfo?: string;
  readonly node?: { readonly id: string; readonly cluster: string };
  readonly resourceNames?: readonly string[];
  readonly typeUrl?: string;
  readonly responseNonce?: string;
  readonly errorDetail?: { readonly code: number; readonly message: string; readonly details: readonly never[] } | undefined;
}

/** A DiscoveryRequest from a partial literal (fromPartial's own parameter type is generic). */
function bytes(r: Partial_): Buffer {
  return Buffer.from(DiscoveryRequest.encode(DiscoveryRequest.fromPartial(r as Parameters<typeof DiscoveryRequest.fromPartial>[0])).finish());
}

/** The request as plain data (the names read through the accessor). */
function plain(r: DiscoveryRequest): object {
  return { ...r, resourceNames: [...r.resourceNames] };
}

const full = {
  versionInfo: "v7",
  node: { id: "gw-1", cluster: "edge" },
  resourceNames: ["ns/a/p1", "ns/a/p2", "ns/ü/p3"],
  typeUrl: EDS,
  responseNonce: "n42",
  errorDetail: { code: 3, message: "rejected", details: [] },
} satisfies Partial_;

describe("decodeSotwRequest", () => {
  it("decodes what the generated decoder decodes, the names when first read", () => {
    for (const r of [full, { ...full, resourceNames: [] }, { ...full, resourceNames: ["*"] }, { typeUrl: EDS, resourceNames: [""] }, {}] as Partial_[]) {
      const ours = decodeSotwRequest(bytes(r));
      assert.deepEqual(plain(ours), plain(DiscoveryRequest.decode(bytes(r))));
      const names = requestNames(ours);
      assert.equal(names.count, r.resourceNames?.length ?? 0);
      assert.equal(names.star, r.resourceNames?.includes("*") ?? false);
      assert.deepEqual(names.list(), r.resourceNames ?? []);
    }
    assert.equal(typeof Object.getOwnPropertyDescriptor(decodeSotwRequest(bytes(full)), "resourceNames")?.get, "function", "decoded on demand");
  });

  it("reads names interleaved with other fields in order", () => {
    const b = Buffer.concat([bytes({ resourceNames: ["a"] }), bytes({ typeUrl: EDS }), bytes({ resourceNames: ["b", "*"] }), bytes({ responseNonce: "n" })]);
    const ours = decodeSotwRequest(b);
    assert.deepEqual(plain(ours), plain(DiscoveryRequest.decode(b)));
    assert.deepEqual(requestNames(ours), { ...requestNames(ours), count: 3, star: true });
  });

  it("gives byte-identical lists one fingerprint, whatever else the request says, and other lists another", () => {
    const fp = (r: Partial_): string | undefined => requestNames(decodeSotwRequest(bytes(r))).fingerprint;
    assert.equal(fp(full), fp({ ...full, responseNonce: "n43", versionInfo: "v8", errorDetail: undefined }));
    assert.notEqual(fp(full), fp({ ...full, resourceNames: ["ns/a/p2", "ns/a/p1", "ns/ü/p3"] }));
    assert.notEqual(fp(full), fp({ ...full, resourceNames: ["ns/a/p1", "ns/a/p2", "ns/ü/p4"] }));
    assert.notEqual(fp(full), fp({ ...full, resourceNames: ["ns/a/p1", "ns/a/p2"] }));
    assert.notEqual(fp({ resourceNames: ["ab", "c"] }), fp({ resourceNames: ["a", "bc"] }));
  });

  it("reads a request that did not come from the wire from its list, without a fingerprint", () => {
    const names = requestNames(DiscoveryRequest.fromPartial({ resourceNames: ["x", "*"] }));
    assert.deepEqual({ count: names.count, star: names.star, fingerprint: names.fingerprint, list: names.list() }, { count: 2, star: true, fingerprint: undefined, list: ["x", "*"] });
  });

  it("throws on bytes that are not a DiscoveryRequest", () => {
    assert.throws(() => decodeSotwRequest(Buffer.from([0x1a, 0x05, 0x61])));
    assert.throws(() => decodeSotwRequest(Buffer.from([0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
  });
});
