import { MapView } from "./map-view.js";

/**
 * A read-only map that is `base` plus `extra` entries whose keys `base`
 * lacks, without copying `base`: the cache's intermediate snapshot of a
 * removal (the new clusters plus the dropped ones, kept for one more step)
 * costs the dropped entries, not the fleet. Both maps must not change.
 */
export class UnionMap<V> extends MapView<V> {
  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly extra: ReadonlyMap<string, V>,
  ) {
    super();
  }

  override get size(): number {
    return this.base.size + this.extra.size;
  }

  override get(key: string): V | undefined {
    return this.base.get(key) ?? this.extra.get(key);
  }

  override has(key: string): boolean {
    return this.base.has(key) || this.extra.has(key);
  }

  override *entries(): MapIterator<[string, V]> {
    yield* this.base.entries();
    yield* this.extra.entries();
  }

}
