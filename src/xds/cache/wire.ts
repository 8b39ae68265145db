/**
 * Hand-assembled protobuf pieces, so that each resource is serialised once
 * per version and every stream reuses the bytes. Field numbers are those of
 * envoy.service.discovery.v3 (discovery.proto) and google.protobuf.Any.
 */
import { BinaryWriter } from "@bufbuild/protobuf/wire";

/** `google.protobuf.Any { type_url = 1; value = 2; }` */
export function encodeAny(typeUrl: string, value: Uint8Array): Uint8Array {
  return new BinaryWriter().uint32(10).string(typeUrl).uint32(18).bytes(value).finish();
}

/** `envoy.service.discovery.v3.Resource { version = 1; resource = 2 (Any); name = 3; }` */
export function encodeDeltaResource(name: string, version: string, any: Uint8Array): Uint8Array {
  return new BinaryWriter().uint32(10).string(version).uint32(18).bytes(any).uint32(26).string(name).finish();
}

/** A length-delimited field 2 (`resources` in both DiscoveryResponse and DeltaDiscoveryResponse) holding `message`. */
export function resourcesFieldEntry(message: Uint8Array): Buffer {
  const bytes = new BinaryWriter().uint32(18).bytes(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
