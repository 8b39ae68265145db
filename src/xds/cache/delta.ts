import type { EncodedResource } from "./encoded-resource.js";
import type { NameSet } from "./layered-set.js";
import type { TypeChange } from "./snapshot-diff.js";

/** What a delta client has and wants, for one type. */
export interface DeltaSubscription {
  /** Subscribed to every resource of the type ("*" or the legacy empty first request on LDS/CDS). */
  readonly wildcard: boolean;
  /** Explicitly subscribed names. */
  readonly subscribed: NameSet;
  /** What the client holds: name → version (from initial_resource_versions and what was sent since). */
  readonly known: ReadonlyMap<string, string>;
}

export interface DeltaResult {
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
}

const NO_RESOURCES: readonly EncodedResource[] = [];
const NO_NAMES: readonly string[] = [];

export function isEmptyDelta(d: DeltaResult): boolean {
  return d.changed.length === 0 && d.removed.length === 0;
}

/**
 * `xs` itself when every element passes (so streams in step share one array,
 * and one encoding of it), else the elements that pass.
 */
export function keepAll<T>(xs: readonly T[], pass: (x: T) => boolean): readonly T[] {
  const i = xs.findIndex((x) => !pass(x));
  if (i < 0) return xs;
  const kept = xs.slice(0, i);
  for (let j = i + 1; j < xs.length; j++) {
    const x = xs[j];
    if (x !== undefined && pass(x)) kept.push(x);
  }
  return kept;
}

/**
 * The type's shared list (`all`, asked for only then) when `changed` holds
 * every resource of the type; the order of a delta response does not matter.
 */
function shared(changed: EncodedResource[], size: number, all: (() => readonly EncodedResource[]) | undefined): readonly EncodedResource[] {
  if (changed.length === 0) return NO_RESOURCES;
  if (all === undefined || changed.length !== size) return changed;
  const list = all();
  return list.length === size ? list : changed;
}

/**
 * The pure delta (go-control-plane's createDeltaResponse): what the client
 * must be sent so that, for the names it wants, it holds exactly `resources`.
 * Wildcard: every resource whose version differs, and every known name the
 * type no longer has. Explicit: the same, restricted to subscribed names; a
 * subscribed name that does not exist is reported removed only if the client
 * believes it has it. `all` gives the type's shared list (Snapshot.list),
 * used when every resource is to be sent.
 */
export function computeDelta(sub: DeltaSubscription, resources: ReadonlyMap<string, EncodedResource>, all?: () => readonly EncodedResource[]): DeltaResult {
  const changed: EncodedResource[] = [];
  const removed: string[] = [];
  if (sub.wildcard) {
    for (const r of resources.values()) if (sub.known.get(r.name) !== r.version) changed.push(r);
    for (const name of sub.known.keys()) if (!resources.has(name)) removed.push(name);
    return { changed: shared(changed, resources.size, all), removed };
  }
  return deltaForNames(sub, resources, sub.subscribed, all);
}

/**
 * What the client lacks of `names` (newly subscribed names, or every
 * subscribed name): each that exists in a version the client does not
 * hold, and each that does not exist but the client believes it holds.
 */
export function deltaForNames(sub: DeltaSubscription, resources: ReadonlyMap<string, EncodedResource>, names: Iterable<string>, all?: () => readonly EncodedResource[]): DeltaResult {
  const changed: EncodedResource[] = [];
  const removed: string[] = [];
  for (const name of names) {
    const r = resources.get(name);
    if (r) {
      if (sub.known.get(name) !== r.version) changed.push(r);
    } else if (sub.known.has(name)) removed.push(name);
  }
  return { changed: shared(changed, resources.size, all), removed: removed.length === 0 ? NO_NAMES : removed };
}

/**
 * The fast path: a client in step with the previous snapshot needs exactly
 * the snapshot-to-snapshot change, restricted to what it wants. Equal to
 * computeDelta against the new snapshot under that precondition (tested).
 * Returns the change's own arrays when nothing is filtered out, so streams
 * in step share them.
 */
export function deltaFromChange(sub: DeltaSubscription, change: TypeChange): DeltaResult {
  // Per stream and change: no filter (and no closure) for a side the change leaves empty.
  const { upserted, removed } = change;
  if (sub.wildcard) return { changed: upserted, removed: removed.length === 0 ? removed : keepAll(removed, (n) => sub.known.has(n)) };
  return {
    changed: upserted.length === 0 ? upserted : keepAll(upserted, (r) => sub.subscribed.has(r.name)),
    removed: removed.length === 0 ? removed : keepAll(removed, (n) => sub.subscribed.has(n) && sub.known.has(n)),
  };
}
