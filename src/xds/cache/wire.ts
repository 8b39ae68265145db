/**
 * Hand-assembled protobuf pieces, so that each resource is serialised once
 * per version and each response body once for every stream that sends it.
 * Field numbers are those of envoy.service.discovery.v3 (discovery.proto) and
 * google.protobuf.Any; fields are written in the order the generated
 * encoders write them (declaration order), so our bytes equal theirs.
 *
 * A response is its body (every field but the nonce) followed by the nonce
 * field, which comes last in both DiscoveryResponse and
 * DeltaDiscoveryResponse: the body is shared, the nonce appended per stream.
 */
import { BinaryWriter } from "@bufbuild/protobuf/wire";

/** `google.protobuf.Any { type_url = 1; value = 2; }` */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return new BinaryWriter().uint32(10).string(typeUrl).uint32(18).bytes(value).finish();
}

/** `envoy.service.discovery.v3.Resource { name = 3; version = 1; resource = 2 (Any); }`, in declaration order. */
export function encodeDeltaResource(name: string, version: string, any: Uint8Array): Uint8Array {
  return new BinaryWriter().uint32(26).string(name).uint32(10).string(version).uint32(18).bytes(any).finish();
}

/** A length-delimited field 2 (`resources` in both DiscoveryResponse and DeltaDiscoveryResponse) holding `message`. */
export function resourcesFieldEntry(message: Uint8Array): Buffer {
  return toBuffer(new BinaryWriter().uint32(18).bytes(message).finish());
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function stringField(w: BinaryWriter, tag: number, value: string): BinaryWriter {
  return value === "" ? w : w.uint32(tag).string(value);
}

/**
 * `DiscoveryResponse` without its nonce: `version_info = 1; resources = 2;
 * type_url = 4;` (the nonce, field 5, is appended per stream).
 */
export function sotwResponseBody(versionInfo: string, typeUrl: string, entries: readonly Buffer[]): Buffer {
  const head = toBuffer(stringField(new BinaryWriter(), 10, versionInfo).finish());
  const tail = toBuffer(stringField(new BinaryWriter(), 34, typeUrl).finish());
  return Buffer.concat([head, ...entries, tail]);
}

/**
 * `DeltaDiscoveryResponse` without its nonce: `system_version_info = 1;
 * resources = 2; type_url = 4; removed_resources = 6;` (the nonce, field 5,
 * is appended per stream).
 */
export function deltaResponseBody(systemVersion: string, typeUrl: string, entries: readonly Buffer[], removed: readonly string[]): Buffer {
  const head = toBuffer(stringField(new BinaryWriter(), 10, systemVersion).finish());
  const w = stringField(new BinaryWriter(), 34, typeUrl);
  for (const name of removed) w.uint32(50).string(name);
  return Buffer.concat([head, ...entries, toBuffer(w.finish())]);
}

/** The bytes a stream sends: a shared body and its own `nonce = 5` field, in one buffer. */
export function withNonce(body: Buffer, nonce: string): Buffer {
  const len = Buffer.byteLength(nonce);
  let lenBytes = 1;
  for (let v = len; v >= 0x80; v >>>= 7) lenBytes++;
  const out = Buffer.allocUnsafe(body.length + 1 + lenBytes + len);
  body.copy(out, 0);
  let i = body.length;
  out[i++] = 42;
  let v = len;
  while (v >= 0x80) {
    out[i++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[i++] = v;
  out.write(nonce, i, "utf8");
  return out;
}
