import type { TypeUrl } from "../resources/type-urls.js";
import type { EncodedResource } from "./encoded-resource.js";
import type { Snapshot } from "./snapshot.js";

/** What changed in one type between two snapshots. */
export interface TypeChange {
  /** Resources added or whose version changed. */
  readonly upserted: readonly EncodedResource[];
  /** Names present before and absent now. */
  readonly removed: readonly string[];
}

export const NO_CHANGE: TypeChange = { upserted: [], removed: [] };

/** The change of one type from `prev` to `next`: computed once per snapshot update and shared by every stream. */
export function diffType(prev: Snapshot | undefined, next: Snapshot, typeUrl: TypeUrl): TypeChange {
  const before = prev?.resources(typeUrl);
  const after = next.resources(typeUrl);
  const upserted: EncodedResource[] = [];
  const removed: string[] = [];
  for (const [name, r] of after) {
    const old = before?.get(name);
    if (old !== r && old?.version !== r.version) upserted.push(r);
  }
  if (before) for (const name of before.keys()) if (!after.has(name)) removed.push(name);
  return upserted.length === 0 && removed.length === 0 ? NO_CHANGE : { upserted, removed };
}

/** prev → (the latest next asked for → its changes per type). */
const memo = new WeakMap<Snapshot, { readonly next: Snapshot; readonly byType: Map<TypeUrl, TypeChange> }>();

/**
 * The change of one type from `prev` to `next`: the one `next` was derived
 * with when it was built from `prev` (cost of the change), else diffType
 * (cost of the type), remembered for the latest `next` of each `prev`, so
 * the cache's own update and every stream catching up from the same
 * snapshot share one computation.
 */
export function changeBetween(prev: Snapshot, next: Snapshot, typeUrl: TypeUrl): TypeChange {
  // Known from how `next` was built (the common case): no comparison at all.
  const known = next.changeFrom(prev, typeUrl);
  if (known) return known;
  let m = memo.get(prev);
  if (m?.next !== next) memo.set(prev, (m = { next, byType: new Map() }));
  let change = m.byType.get(typeUrl);
  if (change === undefined) m.byType.set(typeUrl, (change = diffType(prev, next, typeUrl)));
  return change;
}

export function isEmptyChange(change: TypeChange): boolean {
  return change.upserted.length === 0 && change.removed.length === 0;
}
