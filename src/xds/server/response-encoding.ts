/**
 * Assembles DiscoveryResponse / DeltaDiscoveryResponse bytes from the
 * per-resource entries the cache encoded once. Only the few header fields
 * (version, type URL, nonce, removed names) are written per stream.
 */
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { EncodedResource } from "../cache/encoded-resource.js";

function concat(header: Uint8Array, entries: readonly Buffer[]): Buffer {
  const head = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  return entries.length === 0 ? head : Buffer.concat([head, ...entries]);
}

/** `DiscoveryResponse { version_info = 1; resources = 2; type_url = 4; nonce = 5; }` */
export function encodeSotwResponse(versionInfo: string, typeUrl: string, nonce: string, resources: readonly EncodedResource[]): Buffer {
  const header = new BinaryWriter().uint32(10).string(versionInfo).uint32(34).string(typeUrl).uint32(42).string(nonce).finish();
  return concat(
    header,
    resources.map((r) => r.sotwEntry),
  );
}

/** `DeltaDiscoveryResponse { system_version_info = 1; resources = 2; type_url = 4; nonce = 5; removed_resources = 6; }` */
export function encodeDeltaResponse(
  systemVersion: string,
  typeUrl: string,
  nonce: string,
  changed: readonly EncodedResource[],
  removed: readonly string[],
): Buffer {
  const w = new BinaryWriter().uint32(10).string(systemVersion).uint32(34).string(typeUrl).uint32(42).string(nonce);
  for (const name of removed) w.uint32(50).string(name);
  return concat(
    w.finish(),
    changed.map((r) => r.deltaEntry),
  );
}
