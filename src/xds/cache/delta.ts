import type { EncodedResource } from "./encoded-resource.js";
import type { TypeChange } from "./snapshot-diff.js";

/** What a delta client has and wants, for one type. */
export interface DeltaSubscription {
  /** Subscribed to every resource of the type ("*" or the legacy empty first request on LDS/CDS). */
  readonly wildcard: boolean;
  /** Explicitly subscribed names. */
  readonly subscribed: ReadonlySet<string>;
  /** What the client holds: name → version (from initial_resource_versions and what was sent since). */
  readonly known: ReadonlyMap<string, string>;
}

export interface DeltaResult {
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
}

export function isEmptyDelta(d: DeltaResult): boolean {
  return d.changed.length === 0 && d.removed.length === 0;
}

/**
 * The pure delta (go-control-plane's createDeltaResponse): what the client
 * must be sent so that, for the names it wants, it holds exactly `resources`.
 * Wildcard: every resource whose version differs, and every known name the
 * type no longer has. Explicit: the same, restricted to subscribed names; a
 * subscribed name that does not exist is reported removed only if the client
 * believes it has it.
 */
export function computeDelta(sub: DeltaSubscription, resources: ReadonlyMap<string, EncodedResource>): DeltaResult {
  const changed: EncodedResource[] = [];
  const removed: string[] = [];
  if (sub.wildcard) {
    for (const r of resources.values()) if (sub.known.get(r.name) !== r.version) changed.push(r);
    for (const name of sub.known.keys()) if (!resources.has(name)) removed.push(name);
    return { changed, removed };
  }
  for (const name of sub.subscribed) {
    const r = resources.get(name);
    if (r) {
      if (sub.known.get(name) !== r.version) changed.push(r);
    } else if (sub.known.has(name)) removed.push(name);
  }
  return { changed, removed };
}

/**
 * The fast path: a client in step with the previous snapshot needs exactly
 * the snapshot-to-snapshot change, restricted to what it wants. Equal to
 * computeDelta against the new snapshot under that precondition (tested).
 */
export function deltaFromChange(sub: DeltaSubscription, change: TypeChange): DeltaResult {
  if (sub.wildcard) return { changed: change.upserted, removed: change.removed.filter((n) => sub.known.has(n)) };
  return {
    changed: change.upserted.filter((r) => sub.subscribed.has(r.name)),
    removed: change.removed.filter((n) => sub.subscribed.has(n) && sub.known.has(n)),
  };
}
