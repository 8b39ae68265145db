import { ERROR_CODES, TicketplaneError } from "../../common/errors.js";
import type { BuiltResource } from "../resources/model.js";
import { PUSH_ORDER, TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import { EncodedResource } from "./encoded-resource.js";
import { referencesOf } from "./references.js";
import { NO_CHANGE, type TypeChange } from "./snapshot-diff.js";
import { OverlayMap } from "./overlay-map.js";
import { UnionMap } from "./union-map.js";
import { SetDigest } from "./version.js";

export type Consistency = { ok: true } | { ok: false; errors: string[] };

/** type → names of the resources of that type that carry one pod (EncodedResource.carries). */
export type PodCarriers = ReadonlyMap<TypeUrl, readonly string[]>;

const EMPTY: ReadonlyMap<string, EncodedResource> = new Map();
const NO_RESOURCES: readonly EncodedResource[] = [];

/** How a snapshot was derived from the one before it: what changed per type, and which pods that touches. */
interface Lineage {
  readonly from: number;
  readonly changes: ReadonlyMap<TypeUrl, TypeChange>;
  /** Pods whose carrying resources changed; undefined when a resource that routes apps changed (every pod may be touched). */
  readonly touched: ReadonlySet<string> | undefined;
  /** When the predecessor was found consistent: its cross references (what an incremental check needs). */
  readonly prevChecked?: readonly EncodedResource[];
}

interface Derived {
  readonly digests: ReadonlyMap<TypeUrl, SetDigest>;
  readonly irregular: readonly EncodedResource[];
  readonly lineage: Lineage | undefined;
}

let serial = 0;

/**
 * Everything one node group is served: resources by type URL and name, each
 * with a content-hash version. Immutable once built; safe to share between
 * streams.
 *
 * Cost of a change: a snapshot built with `previous` derives from it, per
 * changed resource, what would otherwise be recomputed over the fleet: the
 * change of each type (so the cache and every stream in step use it
 * without comparing snapshots), each type's version (a SetDigest updated
 * per changed resource), which pods the change touches (so make before use
 * re-examines only those), and the few resources that carry pods other
 * than by their own name (so which resources carry a pod is answered by
 * name, without a fleet-wide index). What remains proportional to the fleet
 * is one pass over the resources the builder hands in (one map lookup and
 * one identity check each).
 */
export class Snapshot {
  readonly #id = ++serial;
  readonly #byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>;
  readonly #digests: ReadonlyMap<TypeUrl, SetDigest>;
  readonly #lists = new Map<TypeUrl, readonly EncodedResource[]>();
  /** Resources that are not `regular` (EncodedResource.regular): few, scanned per pod query. */
  readonly #irregular: readonly EncodedResource[];
  /** At most two: from the snapshot it was built from, and from the cache's intermediate snapshot of a removal. */
  readonly #lineage: Lineage[] = [];
  #consistency?: Consistency;
  /** Clusters and listeners that name something other than their own name: few; known once `consistent()` ran. */
  #crossRefs?: readonly EncodedResource[];

  private constructor(byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>, derived: Derived) {
    this.#byType = byType;
    this.#digests = derived.digests;
    this.#irregular = derived.irregular;
    if (derived.lineage) this.#lineage.push(derived.lineage);
  }

  /**
   * Builds a snapshot. Resources whose bytes equal those in `previous` reuse
   * its EncodedResource, so their hash and wire forms are not recomputed,
   * and what is derived from `previous` costs only what changed.
   * Throws (a builder bug) when two resources share a type and name.
   */
  static build(resources: Iterable<BuiltResource>, previous?: Snapshot): Snapshot {
    const byType = new Map<TypeUrl, Map<string, EncodedResource>>();
    const replaced = new Map<TypeUrl, EncodedResource[]>();
    for (const built of resources) {
      let names = byType.get(built.typeUrl);
      if (!names) byType.set(built.typeUrl, (names = new Map<string, EncodedResource>()));
      if (names.has(built.name)) {
        throw new TicketplaneError(ERROR_CODES.INVALID_ARGUMENT, "duplicate resource in snapshot", { type: built.typeUrl, name: built.name });
      }
      const old = previous?.get(built.typeUrl, built.name);
      if (old?.sameAs(built)) {
        names.set(built.name, old);
        continue;
      }
      const r = new EncodedResource(built);
      names.set(built.name, r);
      let list = replaced.get(built.typeUrl);
      if (!list) replaced.set(built.typeUrl, (list = []));
      list.push(r);
    }
    return new Snapshot(byType, previous ? Snapshot.#derive(previous, byType, replaced) : fromScratch(byType));
  }

  /**
   * The snapshot `previous` becomes with `upserts` (added or replaced
   * resources; one equal to `previous`'s is kept as it was) and `removals`
   * (names absent from `previous` are ignored; a name also upserted is
   * not removed): what a builder that knows its change hands in, so that
   * nothing is done per resource that did not change. Each type that
   * changes gets its own map: the previous one with the change laid over it
   * (OverlayMap), not a copy of the fleet. Throws (a builder bug) when two
   * upserts share a type and name.
   */
  static apply(previous: Snapshot, upserts: Iterable<BuiltResource>, removals: Iterable<{ readonly typeUrl: TypeUrl; readonly name: string }>): Snapshot {
    const upserted = new Set<string>();
    const replaced = new Map<TypeUrl, EncodedResource[]>();
    for (const built of upserts) {
      const key = `${built.typeUrl} ${built.name}`;
      if (upserted.has(key)) throw new TicketplaneError(ERROR_CODES.INVALID_ARGUMENT, "duplicate resource in snapshot", { type: built.typeUrl, name: built.name });
      upserted.add(key);
      if (previous.get(built.typeUrl, built.name)?.sameAs(built)) continue;
      pushTo(replaced, built.typeUrl, new EncodedResource(built));
    }
    const removed = new Map<TypeUrl, string[]>();
    for (const { typeUrl, name } of removals) {
      if (upserted.has(`${typeUrl} ${name}`) || !previous.resources(typeUrl).has(name)) continue;
      pushTo(removed, typeUrl, name);
    }
    const byType = new Map(previous.#byType);
    for (const typeUrl of new Set([...replaced.keys(), ...removed.keys()])) {
      const edited = OverlayMap.derive(previous.resources(typeUrl), (m) => {
        for (const r of replaced.get(typeUrl) ?? NO_RESOURCES) m.set(r.name, r);
        for (const name of removed.get(typeUrl) ?? NO_NAMES) m.delete(name);
      });
      byType.set(typeUrl, edited);
    }
    return new Snapshot(byType, Snapshot.#derive(previous, byType, replaced, removed));
  }

  /** A snapshot from already encoded resources, everything derived from scratch. */
  static fromEncoded(byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>): Snapshot {
    return new Snapshot(byType, fromScratch(byType));
  }

  static empty(): Snapshot {
    return Snapshot.fromEncoded(new Map());
  }

  /**
   * The intermediate snapshot of a removal from `prev` to `next`: `next`
   * plus the clusters and endpoints of `prev` that `next` drops (kept one
   * step longer, make before break). Undefined when nothing is dropped.
   * Costs the change when `next` was built from `prev`; `next` then also
   * knows its change from the intermediate one.
   */
  static keepingRemoved(prev: Snapshot, next: Snapshot): Snapshot | undefined {
    const kept = new Map<TypeUrl, EncodedResource[]>();
    for (const typeUrl of [TYPE_URLS.cluster, TYPE_URLS.endpoints]) {
      const removed = next.changeFrom(prev, typeUrl)?.removed ?? [...prev.resources(typeUrl).keys()].filter((n) => !next.resources(typeUrl).has(n));
      const dropped = removed.map((n) => prev.get(typeUrl, n)).filter((r): r is EncodedResource => r !== undefined);
      if (dropped.length > 0) kept.set(typeUrl, dropped);
    }
    if (kept.size === 0) return undefined;
    const byType = new Map(next.#byType);
    const digests = new Map(next.#digests);
    const midChanges = new Map<TypeUrl, TypeChange>();
    const finalChanges = new Map<TypeUrl, TypeChange>();
    for (const [typeUrl, dropped] of kept) {
      byType.set(typeUrl, new UnionMap(next.resources(typeUrl), new Map(dropped.map((r) => [r.name, r]))));
      const digest = (next.#digests.get(typeUrl) ?? new SetDigest()).copy();
      for (const r of dropped) digest.add(r.digest);
      digests.set(typeUrl, digest);
      finalChanges.set(typeUrl, { upserted: NO_RESOURCES, removed: dropped.map((r) => r.name) });
    }
    const toNext = next.#lineage.find((l) => l.from === prev.#id);
    if (toNext) for (const [typeUrl, change] of toNext.changes) midChanges.set(typeUrl, kept.has(typeUrl) ? { upserted: change.upserted, removed: NO_NAMES } : change);
    // A superset of what differs between prev and the intermediate snapshot: enough for a re-examination.
    const touched = toNext?.touched;
    const irregular = [...next.#irregular, ...[...kept.values()].flat().filter((r) => !r.regular)];
    const mid = new Snapshot(byType, { digests, irregular, lineage: toNext ? { from: prev.#id, changes: midChanges, touched } : undefined });
    next.#lineage.push({ from: mid.#id, changes: finalChanges, touched: new Set([...kept.values()].flat().flatMap((r) => r.pods)) });
    return mid;
  }

  /**
   * Everything derived from `prev` and what was replaced (the resources of
   * the new snapshot that are not `prev`'s objects), per changed resource;
   * names `prev` had and `next` lacks are looked for only when the sizes say
   * some were dropped.
   */
  static #derive(
    prev: Snapshot,
    next: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>,
    replaced: ReadonlyMap<TypeUrl, readonly EncodedResource[]>,
    knownRemovals?: ReadonlyMap<TypeUrl, readonly string[]>,
  ): Derived {
    const digests = new Map<TypeUrl, SetDigest>();
    const changes = new Map<TypeUrl, TypeChange>();
    const acc: Accumulated = { touched: new Set<string>(), gone: new Set<EncodedResource>(), added: [] };
    for (const typeUrl of PUSH_ORDER) {
      const before = prev.resources(typeUrl);
      const digest = prev.#digests.get(typeUrl)?.copy() ?? new SetDigest();
      const change = deriveType(before, next.get(typeUrl) ?? EMPTY, replaced.get(typeUrl) ?? NO_RESOURCES, knownRemovals?.get(typeUrl), digest, acc);
      digests.set(typeUrl, digest);
      if (change.upserted.length > 0 || change.removed.length > 0) changes.set(typeUrl, change);
    }
    const irregular = [...prev.#irregular.filter((r) => !acc.gone.has(r)), ...acc.added.filter((r) => !r.regular)];
    const prevChecked = prev.#consistency?.ok === true && prev.#crossRefs !== undefined ? prev.#crossRefs : undefined;
    return { digests, irregular, lineage: { from: prev.#id, changes, touched: acc.touched, prevChecked } };
  }

  resources(typeUrl: TypeUrl): ReadonlyMap<string, EncodedResource> {
    return this.#byType.get(typeUrl) ?? EMPTY;
  }

  /**
   * Every resource of a type as one array, the same array on every call: a
   * response that carries the whole type shares it, and so its encoding.
   */
  list(typeUrl: TypeUrl): readonly EncodedResource[] {
    let l = this.#lists.get(typeUrl);
    if (l === undefined) {
      l = [...this.resources(typeUrl).values()];
      this.#lists.set(typeUrl, l);
    }
    return l;
  }

  get(typeUrl: TypeUrl, name: string): EncodedResource | undefined {
    return this.#byType.get(typeUrl)?.get(name);
  }

  /**
   * Version of every resource of a type together (the SotW version_info of
   * a wildcard response): setVersion of its resources, kept up to date per
   * changed resource.
   */
  typeVersion(typeUrl: TypeUrl): string {
    return (this.#digests.get(typeUrl) ?? EMPTY_DIGEST).version;
  }

  /**
   * The change of one type from `prev` to this snapshot, when this snapshot
   * was derived from `prev` (built with it as `previous`, or the cache's
   * intermediate step); undefined otherwise.
   */
  changeFrom(prev: Snapshot, typeUrl: TypeUrl): TypeChange | undefined {
    const lineage = this.#lineage.find((l) => l.from === prev.#id);
    return lineage ? (lineage.changes.get(typeUrl) ?? NO_CHANGE) : undefined;
  }

  /**
   * The pods whose carrying resources differ between `prev` and this
   * snapshot (added, removed or changed), when that is known cheaply;
   * undefined when this snapshot was not derived from `prev` or a resource
   * that routes apps changed: then any pod may be touched.
   */
  podsTouchedSince(prev: Snapshot): ReadonlySet<string> | undefined {
    return this.#lineage.find((l) => l.from === prev.#id)?.touched;
  }

  /** Whether some resource carries `pod` by name (BuiltResource.pods). */
  hasPod(pod: string): boolean {
    for (const typeUrl of PUSH_ORDER) if (this.get(typeUrl, pod)?.regular && this.get(typeUrl, pod)?.pods.length === 1) return true;
    return this.#irregular.some((r) => r.podSet.has(pod));
  }

  /** Every pod some resource names (a pass over every resource: for a full re-examination only). */
  pods(): Set<string> {
    const pods = new Set<string>();
    for (const names of this.#byType.values()) for (const r of names.values()) for (const p of r.pods) pods.add(p);
    return pods;
  }

  /**
   * Which resources carry `pod`: those that name it (BuiltResource.pods),
   * and those that route to its app (BuiltResource.apps). Undefined when no
   * resource names the pod (a route to an app without pods carries none).
   * Costs a lookup per type plus the few irregular resources.
   */
  carriersOf(pod: string): PodCarriers | undefined {
    if (!this.hasPod(pod)) return undefined;
    const carriers = new Map<TypeUrl, string[]>();
    const add = (typeUrl: TypeUrl, name: string): void => {
      const names = carriers.get(typeUrl);
      if (names) names.push(name);
      else carriers.set(typeUrl, [name]);
    };
    for (const typeUrl of PUSH_ORDER) {
      const own = this.get(typeUrl, pod);
      if (own?.regular && own.pods.length === 1) add(typeUrl, pod);
      for (const r of this.#irregular) if (r.typeUrl === typeUrl && r.carries(pod)) add(typeUrl, r.name);
    }
    return carriers;
  }

  /**
   * Every ClusterLoadAssignment an EDS cluster names exists, and every
   * RouteConfiguration a listener names exists (go-control-plane's
   * Consistent). Returns every problem found, never throws.
   */
  consistent(): Consistency {
    if (this.#consistency) return this.#consistency;
    const lineage = this.#lineage[0];
    const incremental = lineage?.prevChecked ? this.#consistentSince(lineage.changes, lineage.prevChecked) : undefined;
    if (incremental) return incremental;
    const errors: string[] = [];
    const crossRefs: EncodedResource[] = [];
    const check = (from: TypeUrl, to: TypeUrl, what: string): void => {
      for (const r of this.resources(from).values()) {
        const refs = referencesOf(r);
        if (!refs.ok) {
          errors.push(refs.error);
          continue;
        }
        if (refs.names.some((n) => n !== r.name)) crossRefs.push(r);
        for (const name of refs.names) if (!this.get(to, name)) errors.push(`${r.name}: names ${what} "${name}", which the snapshot lacks`);
      }
    };
    check(TYPE_URLS.cluster, TYPE_URLS.endpoints, "ClusterLoadAssignment");
    check(TYPE_URLS.listener, TYPE_URLS.routes, "RouteConfiguration");
    this.#crossRefs = crossRefs;
    return (this.#consistency = errors.length === 0 ? { ok: true } : { ok: false, errors });
  }

  /**
   * The consistency check of a snapshot derived from a consistent one, per
   * changed resource: each upserted cluster or listener names what exists,
   * and no remaining one names a dropped ClusterLoadAssignment or route
   * table (a resource names its own name, or is one of the few cross
   * references). Undefined when it finds a problem: the full check then
   * reports every problem, as from scratch.
   */
  #consistentSince(changes: ReadonlyMap<TypeUrl, TypeChange>, prevCrossRefs: readonly EncodedResource[]): Consistency | undefined {
    const crossRefs = prevCrossRefs.filter((r) => this.get(r.typeUrl, r.name) === r);
    for (const [from, to] of REFERENCES) {
      for (const r of changes.get(from)?.upserted ?? NO_RESOURCES) {
        const refs = referencesOf(r);
        if (!refs.ok || refs.names.some((n) => !this.get(to, n))) return undefined;
        if (refs.names.some((n) => n !== r.name)) crossRefs.push(r);
      }
    }
    for (const [from, to] of REFERENCES) {
      for (const name of changes.get(to)?.removed ?? NO_NAMES) {
        const same = this.get(from, name);
        if (same && names(same, name)) return undefined;
        if (crossRefs.some((r) => r.typeUrl === from && names(r, name))) return undefined;
      }
    }
    this.#crossRefs = crossRefs;
    return (this.#consistency = { ok: true });
  }
}

const EMPTY_DIGEST = new SetDigest();
const NO_NAMES: readonly string[] = [];

/** Everything derived, from the resources alone (a first snapshot, or one not built from its predecessor). */
function fromScratch(byType: ReadonlyMap<TypeUrl, ReadonlyMap<string, EncodedResource>>): Derived {
  const digests = new Map<TypeUrl, SetDigest>();
  const irregular: EncodedResource[] = [];
  for (const [typeUrl, names] of byType) {
    digests.set(typeUrl, SetDigest.of(names.values()));
    for (const r of names.values()) if (!r.regular) irregular.push(r);
  }
  return { digests, irregular, lineage: undefined };
}

/** What the derivation of every type gathers. */
interface Accumulated {
  /** Undefined once a resource that routes apps changed. */
  touched: Set<string> | undefined;
  /** Resources of the previous snapshot replaced or dropped. */
  readonly gone: Set<EncodedResource>;
  /** Resources new in this snapshot. */
  readonly added: EncodedResource[];
}

/**
 * One type's change from `before` to `after`, given the resources of
 * `after` that are new objects (`fresh`) and, when the caller knows them,
 * the names dropped; updates `digest` and `acc` per changed resource.
 * Without `knownRemovals`, dropped names are looked for only when the
 * sizes say some were.
 */
function deriveType(
  before: ReadonlyMap<string, EncodedResource>,
  after: ReadonlyMap<string, EncodedResource>,
  fresh: readonly EncodedResource[],
  knownRemovals: readonly string[] | undefined,
  digest: SetDigest,
  acc: Accumulated,
): TypeChange {
  const upserted: EncodedResource[] = [];
  let newNames = 0;
  for (const r of fresh) {
    const old = before.get(r.name);
    if (old) {
      digest.remove(old.digest);
      acc.gone.add(old);
    } else newNames++;
    digest.add(r.digest);
    acc.added.push(r);
    if (old?.version !== r.version) upserted.push(r);
    acc.touched = touch(acc.touched, r, old);
  }
  const removed: string[] = [];
  const candidates = knownRemovals ? knownRemovals.map((n) => [n, before.get(n)] as const) : before.size > after.size - newNames ? before : [];
  for (const [name, old] of candidates) {
    if (old === undefined || after.has(name)) continue;
    removed.push(name);
    digest.remove(old.digest);
    acc.gone.add(old);
    acc.touched = touch(acc.touched, old, undefined);
  }
  return { upserted, removed };
}

/** Adds the pods of a changed resource (and of its previous version); a resource that routes apps touches every pod. */
function touch(touched: Set<string> | undefined, r: EncodedResource, old: EncodedResource | undefined): Set<string> | undefined {
  if (!touched) return undefined;
  if (r.apps.length > 0 || (old !== undefined && old.apps.length > 0)) return undefined;
  for (const p of r.pods) touched.add(p);
  if (old) for (const p of old.pods) touched.add(p);
  return touched;
}

/** Which type names which: a cluster its ClusterLoadAssignment, a listener its route table. */
const REFERENCES: readonly (readonly [TypeUrl, TypeUrl])[] = [
  [TYPE_URLS.cluster, TYPE_URLS.endpoints],
  [TYPE_URLS.listener, TYPE_URLS.routes],
];

function names(r: EncodedResource, name: string): boolean {
  const refs = referencesOf(r);
  return !refs.ok || refs.names.includes(name);
}

function pushTo<T>(m: Map<TypeUrl, T[]>, typeUrl: TypeUrl, x: T): void {
  const list = m.get(typeUrl);
  if (list) list.push(x);
  else m.set(typeUrl, [x]);
}
