import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CheckRequest } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import { CHECK_READS_HEADERS, CheckAttributes, decodeCheckAttributes } from "./check-request-codec.js";
import { toCheckInput } from "./check-service.js";

/** What Check reads of `bytes`, through the generated decoder (the reference) and through ours. */
function both(bytes: Uint8Array): { reference: unknown; ours: unknown } {
  const full = CheckRequest.decode(bytes);
  const lean = decodeCheckAttributes(bytes);
  assert.ok(lean instanceof CheckAttributes);
  return { reference: readable(toCheckInput(full.attributes?.request?.http, "g", full.attributes?.source?.address?.socketAddress?.address, 1)), ours: readable(toCheckInput(lean.http, "g", lean.sourceAddress, 1)) };
}

/** The input with only the headers Check reads (ours keeps no others). */
function readable(input: ReturnType<typeof toCheckInput>): unknown {
  if (typeof input === "string") return input;
  const headers: Record<string, string> = {};
  for (const name of CHECK_READS_HEADERS) if (input.headers[name] !== undefined) headers[name] = input.headers[name];
  return { ...input, headers };
}

function agree(bytes: Uint8Array): void {
  const { reference, ours } = both(bytes);
  assert.deepEqual(ours, reference);
}

/** A CheckRequest from a partial literal (fromPartial's own parameter type is generic). */
function encode(partial: object): Buffer {
  return Buffer.from(CheckRequest.encode(CheckRequest.fromPartial(partial as Parameters<typeof CheckRequest.fromPartial>[0])).finish());
}

const browser = {
  ":authority": "apps.example.org",
  ":path": "/shiny/x?y=1",
  accept: "text/html",
  "accept-language": "en",
  cookie: "a=1; tp=t1.k.p.m",
  "x-forwarded-for": "203.0.113.9, 10.0.0.1",
  "user-agent": "Mozilla/5.0",
};

describe("decodeCheckAttributes", () => {
  it("reads what the generated decoder reads, for the headers map form", () => {
    agree(encode({ attributes: { source: { address: { socketAddress: { address: "10.1.2.3", portValue: 5 } } }, request: { http: { id: "rid", host: "h", path: "/p", method: "GET", headers: browser } } } }));
    // No path or host fields: toCheckInput falls back to the pseudo-headers.
    agree(encode({ attributes: { request: { http: { id: "rid", headers: { ...browser, host: "fallback" } } } } }));
    agree(encode({ attributes: { request: { http: { headers: { host: "only-host", "x-ünïcode": "ä" } } } } }));
  });

  it("reads header_map (encode_raw_headers): names folded, repeats merged, raw values, and the map form ignored", () => {
    const headerMap = {
      headers: [
        { key: ":Path", value: "/a/b", rawValue: Buffer.alloc(0) },
        { key: "Cookie", value: "a=1", rawValue: Buffer.alloc(0) },
        { key: "cookie", value: "", rawValue: Buffer.from("tp=raw") },
        { key: "X-Forwarded-For", value: "1.1.1.1", rawValue: Buffer.alloc(0) },
        { key: "x-forwarded-for", value: "2.2.2.2", rawValue: Buffer.alloc(0) },
        { key: "accept", value: "application/json", rawValue: Buffer.alloc(0) },
        { key: "user-agent", value: "ua", rawValue: Buffer.alloc(0) },
      ],
    };
    agree(encode({ attributes: { request: { http: { id: "r", host: "h", headers: { cookie: "ignored=1" }, headerMap } } } }));
    // An empty header_map: the map form counts.
    agree(encode({ attributes: { request: { http: { host: "h", path: "/p", headers: { cookie: "kept=1" }, headerMap: { headers: [] } } } } }));
  });

  it("keeps the last of a repeated field, as the generated decoder does", () => {
    const first = encode({ attributes: { source: { address: { socketAddress: { address: "10.0.0.1" } } }, request: { http: { id: "one", path: "/1", headers: { cookie: "c=1", accept: "x" } } } } });
    const second = encode({ attributes: { source: { address: {} }, request: { http: { id: "two", headers: { cookie: "c=2" } } } } });
    // Concatenated messages merge field by field; a repeated message field is replaced (ts-proto's rule).
    agree(Buffer.concat([first, second]));
    agree(Buffer.concat([second, first]));
  });

  it("skips fields Check does not read, of every wire type", () => {
    const full = encode({
      attributes: {
        source: { address: { socketAddress: { address: "10.0.0.2", portValue: 443, namedPort: "", protocol: 1 } }, principal: "spiffe://x", labels: { a: "b" } },
        destination: { address: { socketAddress: { address: "10.0.0.3", portValue: 8080 } } },
        request: { time: { seconds: 1_700_000_000, nanos: 123 }, http: { id: "r", method: "POST", host: "h", path: "/p", scheme: "https", query: "q", fragment: "f", size: 123456789012, protocol: "HTTP/2", body: "data", rawBody: Buffer.from([1, 2, 3]), headers: browser } },
        contextExtensions: { k: "v" },
        metadataContext: { filterMetadata: { f: { a: 1, b: "two", c: [true, null] } } },
      },
    });
    agree(full);
    // An unknown field (number 99, fixed32) in the request.
    agree(Buffer.concat([full, Buffer.from([0x9d, 0x06, 1, 2, 3, 4])]));
  });

  it("reads no attributes, no http and no source as the generated decoder does", () => {
    agree(encode({}));
    agree(encode({ attributes: {} }));
    agree(encode({ attributes: { request: {} } }));
    agree(encode({ attributes: { source: {}, request: { http: {} } } }));
  });

  it("throws on bytes that are not a CheckRequest, and agrees wherever both decoders accept mutated bytes", () => {
    assert.throws(() => decodeCheckAttributes(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
    assert.throws(() => decodeCheckAttributes(Buffer.from([0x0a, 0x05, 0x22, 0x10])));
    assert.throws(() => decodeCheckAttributes(Buffer.from([0x00])));
    const base = encode({ attributes: { source: { address: { socketAddress: { address: "10.0.0.1" } } }, request: { http: { id: "r", host: "h", path: "/p", headers: browser } } } });
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    let compared = 0;
    for (let i = 0; i < 2_000; i++) {
      const bytes = Buffer.from(base);
      for (let k = 0; k <= random(3); k++) bytes[random(bytes.length)] = random(256);
      let reference: unknown;
      try {
        reference = both(bytes);
      } catch {
        continue; // one of them refused the bytes (ours is allowed to be stricter or looser about fields Check ignores)
      }
      const { reference: r, ours } = reference as { reference: unknown; ours: unknown };
      assert.deepEqual(ours, r, `mutation ${String(i)}: ${bytes.toString("hex")}`);
      compared++;
    }
    assert.ok(compared > 500, `only ${String(compared)} mutations decoded both ways`);
  });
});
