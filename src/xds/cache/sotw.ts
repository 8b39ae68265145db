import { WILDCARD_TYPES, type TypeUrl } from "../resources/type-urls.js";
import type { EncodedResource } from "./encoded-resource.js";
import type { Snapshot } from "./snapshot.js";
import type { TypeChange } from "./snapshot-diff.js";
import { setVersion } from "./version.js";

/** What a state-of-the-world client asks for, for one type. */
export interface SotwSubscription {
  readonly typeUrl: TypeUrl;
  /** Requested names; empty (or "*") means all, for LDS/CDS. */
  readonly resourceNames: readonly string[];
  /** version_info of the request that opened the watch (what the client says it holds). */
  readonly versionInfo: string;
}

export interface SotwResult {
  readonly version: string;
  readonly resources: readonly EncodedResource[];
}

export function isWildcard(sub: SotwSubscription): boolean {
  return WILDCARD_TYPES.has(sub.typeUrl) && (sub.resourceNames.length === 0 || sub.resourceNames.includes("*"));
}

/**
 * The pure SotW decision: the response this client needs from `snapshot`, or
 * undefined when it already holds it. `sent` is what this stream last sent
 * for the type (undefined before the first send): a NACKed version is in
 * `sent`, so it is not sent again until the snapshot changes.
 */
export function sotwResponse(sub: SotwSubscription, snapshot: Snapshot, sent: ReadonlyMap<string, EncodedResource> | undefined): SotwResult | undefined {
  const all = snapshot.resources(sub.typeUrl);
  let resources: EncodedResource[];
  let version: string;
  if (isWildcard(sub)) {
    resources = [...all.values()];
    version = snapshot.typeVersion(sub.typeUrl);
  } else {
    resources = [];
    for (const name of new Set(sub.resourceNames)) {
      const r = all.get(name);
      if (r) resources.push(r);
    }
    version = setVersion(resources);
  }
  if (sent === undefined) return sub.versionInfo !== "" && sub.versionInfo === version ? undefined : { version, resources };
  if (sent.size === resources.length && resources.every((r) => sent.get(r.name)?.version === r.version)) return undefined;
  return { version, resources };
}

/** Whether a type change can matter to a client wanting `names` (or all, if wildcard): a cheap pre-filter before sotwResponse. */
export function changeTouches(wildcard: boolean, names: ReadonlySet<string>, change: TypeChange): boolean {
  if (change.upserted.length === 0 && change.removed.length === 0) return false;
  if (wildcard) return true;
  return change.upserted.some((r) => names.has(r.name)) || change.removed.some((n) => names.has(n));
}
