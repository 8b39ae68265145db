/**
 * Response bodies (every field but the nonce) encoded once and shared by
 * every stream that sends the same response. The cache hands streams that
 * are in step the same arrays (a snapshot's list of a type, a snapshot
 * change's upserted and removed names), so a body is keyed by the identity
 * of those arrays plus the version and type: one encoding per snapshot
 * change, however many streams send it. A stream whose response is its own
 * (a different subset) gets a body of its own, encoded the same way.
 */
import type { TypeUrl } from "../resources/type-urls.js";
import type { EncodedResource } from "./encoded-resource.js";
import { deltaResponseBody, sotwResponseBody } from "./wire.js";

interface Entry {
  readonly delta: boolean;
  readonly version: string;
  readonly typeUrl: TypeUrl;
  readonly resources: readonly EncodedResource[];
  readonly removed: readonly string[];
  readonly body: Buffer;
}

/**
 * Keyed by the resources array, or its one resource when it has one (each
 * stream that newly subscribes to a name gets an array of its own holding
 * the same resource), or, when it is empty, the removed names; a few
 * entries each, newest first.
 */
const memo = new WeakMap<object, Entry[]>();
const MAX_ENTRIES = 4;
const NONE: readonly string[] = [];

function cached(delta: boolean, version: string, typeUrl: TypeUrl, resources: readonly EncodedResource[], removed: readonly string[], encode: () => Buffer): Buffer {
  const key: object = resources.length === 1 && resources[0] !== undefined ? resources[0] : resources.length > 0 || removed.length === 0 ? resources : removed;
  let entries = memo.get(key);
  const hit = entries?.find((e) => e.delta === delta && e.version === version && e.typeUrl === typeUrl && same(e.resources, resources) && same(e.removed, removed));
  if (hit) return hit.body;
  const body = encode();
  if (!entries) memo.set(key, (entries = []));
  entries.unshift({ delta, version, typeUrl, resources, removed, body });
  if (entries.length > MAX_ENTRIES) entries.pop();
  return body;
}

/** The same array, both empty, or both the same one element. */
function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a === b || (a.length === b.length && a.length <= 1 && a[0] === b[0]);
}

/** A DiscoveryResponse body (version_info, resources, type_url). */
export function sotwBody(version: string, typeUrl: TypeUrl, resources: readonly EncodedResource[]): Buffer {
  return cached(false, version, typeUrl, resources, NONE, () =>
    sotwResponseBody(
      version,
      typeUrl,
      resources.map((r) => r.sotwEntry),
    ),
  );
}

/** A DeltaDiscoveryResponse body (system_version_info, resources, type_url, removed_resources). */
export function deltaBody(systemVersion: string, typeUrl: TypeUrl, changed: readonly EncodedResource[], removed: readonly string[]): Buffer {
  return cached(true, systemVersion, typeUrl, changed, removed, () =>
    deltaResponseBody(
      systemVersion,
      typeUrl,
      changed.map((r) => r.deltaEntry),
      removed,
    ),
  );
}
