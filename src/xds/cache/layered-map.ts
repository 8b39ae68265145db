import { MapView } from "./map-view.js";
import { OverlayMap } from "./overlay-map.js";

/**
 * A per-stream map stored as a shared, immutable base (a snapshot's map of
 * one type, held by many streams) plus a small private overlay of the
 * differences. A stream in step with a snapshot costs a pointer instead of a
 * copy of thousands of entries; one that diverges (a subset subscription, a
 * NACK, a reconnect with other versions) gets a private map only when that is
 * smaller than the overlay would be.
 */
export class LayeredMap<V, B> extends MapView<V> {
  #base: ReadonlyMap<string, B> | undefined;
  /** name → value that differs from the base; `undefined` hides a base entry. */
  #overlay = new Map<string, V | undefined>();
  #size = 0;
  /** Overlay size above which `rebase` recomputes the overlay. */
  #limit = MIN_LIMIT;

  /**
   * @param project the value a base entry stands for
   * @param same whether a value equals a base entry (so it needs no overlay entry)
   */
  constructor(
    private readonly project: (b: B) => V,
    private readonly same: (v: V, b: B) => boolean,
  ) {
    super();
  }

  override get size(): number {
    return this.#size;
  }

  override get(name: string): V | undefined {
    if (this.#overlay.has(name)) return this.#overlay.get(name);
    const b = this.#base?.get(name);
    return b === undefined ? undefined : this.project(b);
  }

  override has(name: string): boolean {
    if (this.#overlay.has(name)) return this.#overlay.get(name) !== undefined;
    return this.#base?.has(name) ?? false;
  }

  set(name: string, value: V): void {
    if (!this.has(name)) this.#size++;
    const b = this.#base?.get(name);
    if (b !== undefined && this.same(value, b)) this.#overlay.delete(name);
    else this.#overlay.set(name, value);
  }

  delete(name: string): void {
    if (!this.has(name)) return;
    this.#size--;
    if (this.#base?.has(name)) this.#overlay.set(name, undefined);
    else this.#overlay.delete(name);
  }

  clear(): void {
    this.#base = undefined;
    this.#overlay = new Map();
    this.#size = 0;
    this.#limit = MIN_LIMIT;
  }

  /** Makes the contents exactly `base` (projected), shared: O(1), however large `base` is. */
  resetTo(base: ReadonlyMap<string, B>): void {
    this.#base = base;
    this.#overlay = new Map();
    this.#size = base.size;
    this.#limit = MIN_LIMIT;
  }

  /**
   * Re-expresses the contents (unchanged) over `next` when the overlay has
   * grown past its limit: as `next` plus the differences when those are
   * fewer than the entries, else as a private map. Amortised: the limit
   * doubles with the overlay that remains.
   */
  rebase(next: ReadonlyMap<string, B> | undefined): void {
    if (this.#overlay.size <= this.#limit) return;
    const differing = this.#base !== undefined && next !== undefined ? OverlayMap.differingKeys(this.#base, next) : undefined;
    if (differing !== undefined && next !== undefined && this.#rebaseOnto(next, differing)) return;
    this.#rebaseWhole(next);
  }

  /** rebase by a pass over `next` and the contents. */
  #rebaseWhole(next: ReadonlyMap<string, B> | undefined): void {
    let diff: Map<string, V | undefined> | undefined = new Map();
    if (next) {
      for (const [name, b] of next) {
        const v = this.get(name);
        if (v === undefined) diff.set(name, undefined);
        else if (!this.same(v, b)) diff.set(name, v);
        if (diff.size >= this.#size) break;
      }
      if (diff.size < this.#size) for (const [name, v] of this) if (!next.has(name)) diff.set(name, v);
    }
    if (!next || diff.size >= this.#size) {
      diff = new Map(this);
      this.#base = undefined;
    } else {
      this.#base = next;
    }
    this.#overlay = diff;
    this.#limit = Math.max(MIN_LIMIT, 2 * diff.size);
  }

  /**
   * rebase onto `next` when it differs from the base only in `differing`
   * (OverlayMap.differingKeys): the contents can differ from `next` only
   * there or in the overlay, so only those names are compared, not the
   * fleet. False (nothing changed) when the differences are not fewer than
   * the entries: then a private map is smaller.
   */
  #rebaseOnto(next: ReadonlyMap<string, B>, differing: Iterable<string>): boolean {
    const diff = new Map<string, V | undefined>();
    const compare = (name: string): void => {
      if (diff.has(name)) return;
      const v = this.get(name);
      const b = next.get(name);
      if (v === undefined ? b !== undefined : b === undefined || !this.same(v, b)) diff.set(name, v);
    };
    for (const name of this.#overlay.keys()) compare(name);
    for (const name of differing) compare(name);
    if (diff.size >= this.#size) return false;
    this.#base = next;
    this.#overlay = diff;
    this.#limit = Math.max(MIN_LIMIT, 2 * diff.size);
    return true;
  }

  /** Whether the contents are kept over `base` (shared): what tests of memory sharing assert. */
  isOver(base: ReadonlyMap<string, B>): boolean {
    return this.#base === base;
  }

  /** Entries kept privately (the differences from the base, or everything without one). */
  get privateEntries(): number {
    return this.#overlay.size;
  }

  override *entries(): MapIterator<[string, V]> {
    for (const [name, v] of this.#overlay) if (v !== undefined) yield [name, v];
    if (this.#base) for (const [name, b] of this.#base) if (!this.#overlay.has(name)) yield [name, this.project(b)];
  }

}

const MIN_LIMIT = 32;
