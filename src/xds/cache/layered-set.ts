import { LayeredMap } from "./layered-map.js";

/** What the cache reads of a set of names (a delta stream's subscribed names). */
export interface NameSet extends Iterable<string> {
  readonly size: number;
  has(name: string): boolean;
}

/**
 * A per-stream set of names kept as a shared, immutable map's keys (a
 * snapshot's resources of one type, held by many streams) plus a small
 * private overlay of the differences: a gateway subscribed to the
 * endpoints of every cluster (thousands of names, the same for every
 * gateway of a group) costs a pointer once rebased, instead of a private
 * Set of thousands of strings per stream. Same amortised rule as
 * LayeredMap, which it is built on.
 */
export class LayeredSet implements NameSet {
  readonly #map = new LayeredMap<true, unknown>(
    () => true,
    () => true,
  );

  get size(): number {
    return this.#map.size;
  }

  has(name: string): boolean {
    return this.#map.has(name);
  }

  /** True when `name` was not in the set. */
  add(name: string): boolean {
    if (this.#map.has(name)) return false;
    this.#map.set(name, true);
    return true;
  }

  /** True when `name` was in the set. */
  delete(name: string): boolean {
    if (!this.#map.has(name)) return false;
    this.#map.delete(name);
    return true;
  }

  /** Re-expresses the contents (unchanged) over the keys of `base` when the differences have grown (LayeredMap.rebase). */
  rebase(base: ReadonlyMap<string, unknown> | undefined): void {
    this.#map.rebase(base);
  }

  /** Whether the set is kept over `base` (for tests: streams in step share it). */
  isOver(base: ReadonlyMap<string, unknown>): boolean {
    return this.#map.isOver(base);
  }

  /** Names kept privately (LayeredMap.privateEntries). */
  get privateEntries(): number {
    return this.#map.privateEntries;
  }

  [Symbol.iterator](): MapIterator<string> {
    return this.#map.keys();
  }
}
