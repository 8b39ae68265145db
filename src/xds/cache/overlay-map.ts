import { MapView } from "./map-view.js";

/**
 * A read-only map that is a shared `base` with a few entries replaced,
 * added or removed, so that a snapshot derived from the one before it by a
 * change of a few pods costs the change rather than a copy of the fleet.
 *
 * Deriving from an OverlayMap keeps its base and copies only its
 * differences; once those outgrow about the square root of the size, the
 * result is a plain Map again (one copy of the fleet, amortised over the
 * changes it absorbed), which remembers what it was compacted from, so
 * that `differingKeys` still answers across one compaction (what a
 * stream's view kept over an older snapshot map needs, LayeredMap).
 *
 * Reads cost one lookup in the (small) differences and one in the base.
 * Iteration order is the base's, each entry replaced in place, then the
 * added entries: Map's own order for the same edits, except that a name
 * removed and added again keeps its place.
 */
const REMOVED: unique symbol = Symbol("removed");
type Slot<V> = V | typeof REMOVED;

/** Smallest overlay worth compacting; beyond it, about the square root of the size. */
const MIN_OVERLAY = 32;

export class OverlayMap<V> extends MapView<V> {
  private constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly overlay: ReadonlyMap<string, Slot<V>>,
    readonly size: number,
  ) {
    super();
  }

  /**
   * `from` with `edits` applied (set or delete, in order), as an OverlayMap
   * over `from`'s base, or a plain Map when the differences have grown past
   * the compaction limit. `from` is not changed.
   */
  static derive<V>(from: ReadonlyMap<string, V>, edits: (editor: MapEditor<V>) => void): ReadonlyMap<string, V> {
    const base = from instanceof OverlayMap ? (from.base as ReadonlyMap<string, V>) : from;
    const overlay = new Map<string, Slot<V>>(from instanceof OverlayMap ? (from.overlay as ReadonlyMap<string, Slot<V>>) : undefined);
    let size = from.size;
    const has = (name: string): boolean => present(base, overlay, name);
    edits({
      set: (name, value) => {
        if (!has(name)) size++;
        // Equal to the base's entry: no difference to keep.
        if (base.get(name) === value) overlay.delete(name);
        else overlay.set(name, value);
      },
      delete: (name) => {
        if (!has(name)) return;
        size--;
        if (base.has(name)) overlay.set(name, REMOVED);
        else overlay.delete(name);
      },
    });
    if (overlay.size === 0) return base;
    const derived = new OverlayMap(base, overlay, size);
    if (overlay.size <= compactAt(base.size)) return derived;
    const compacted = new Map(derived);
    // What it was compacted from, so that a map still over the old base finds what differs without a pass over either.
    compactedFrom.set(compacted, { base: new WeakRef(base), overlay });
    return compacted;
  }

  /**
   * The names whose entries may differ between `a` and `b` when one is
   * derived from the other's base (both over the same base, or one is the
   * other's base): their differences from that base, at most a few times
   * √size. Undefined when they share no base (compare them whole).
   */
  static differingKeys<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>): Iterable<string> | undefined {
    if (a === b) return [];
    const layersB = OverlayMap.#layersOf(b);
    for (const x of OverlayMap.#layersOf(a)) {
      const y = layersB.find((l) => l.base === x.base);
      if (y === undefined) continue;
      const keys = new Set<string>(x.names);
      for (const k of y.names) keys.add(k);
      return keys;
    }
    return undefined;
  }

  /**
   * The ways to see `m` as a base plus the names that differ from it:
   * its own base (itself, for a plain map) with its overlay's names; and
   * when that base was compacted, the base before compaction with the
   * names the compaction absorbed too.
   */
  static #layersOf<V>(m: ReadonlyMap<string, V>): Layers[] {
    const base: object = m instanceof OverlayMap ? m.base : m;
    const names: ReadonlyMap<string, unknown> = m instanceof OverlayMap ? m.overlay : NONE;
    const layers: Layers[] = [{ base, names: names.keys() }];
    const from = compactedFrom.get(base);
    const older = from?.base.deref();
    if (from !== undefined && older !== undefined) layers.push({ base: older, names: [...from.overlay.keys(), ...names.keys()] });
    return layers;
  }

  override get(name: string): V | undefined {
    const v = this.overlay.get(name);
    if (v === undefined) return this.base.get(name);
    return v === REMOVED ? undefined : v;
  }

  override has(name: string): boolean {
    return present(this.base, this.overlay, name);
  }

  override *entries(): MapIterator<[string, V]> {
    for (const [name, b] of this.base) {
      const v = this.overlay.get(name);
      if (v === undefined) yield [name, b];
      else if (v !== REMOVED) yield [name, v];
    }
    for (const [name, v] of this.overlay) if (v !== REMOVED && !this.base.has(name)) yield [name, v];
  }

}

/** Whether `name` is in `base` with `overlay` laid over it. */
function present<V>(base: ReadonlyMap<string, V>, overlay: ReadonlyMap<string, Slot<V>>, name: string): boolean {
  const v = overlay.get(name);
  return v === undefined ? base.has(name) : v !== REMOVED;
}

/** A map seen as a base and the names where it may differ from it. */
interface Layers {
  readonly base: object;
  readonly names: Iterable<string>;
}

const NONE: ReadonlyMap<string, unknown> = new Map();

/** For a compacted map: its base before compaction (weakly: a map gone is over no one's base) and the differences it absorbed. */
const compactedFrom = new WeakMap<object, { readonly base: WeakRef<object>; readonly overlay: ReadonlyMap<string, unknown> }>();

/** The edits OverlayMap.derive applies. */
export interface MapEditor<V> {
  set(name: string, value: V): void;
  delete(name: string): void;
}

function compactAt(baseSize: number): number {
  return Math.max(MIN_OVERLAY, Math.ceil(Math.sqrt(baseSize)));
}
