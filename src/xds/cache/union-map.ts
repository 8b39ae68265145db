/**
 * A read-only map that is `base` plus `extra` entries whose keys `base`
 * lacks, without copying `base`: the cache's intermediate snapshot of a
 * removal (the new clusters plus the dropped ones, kept for one more step)
 * costs the dropped entries, not the fleet. Both maps must not change.
 */
export class UnionMap<V> implements ReadonlyMap<string, V> {
  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly extra: ReadonlyMap<string, V>,
  ) {}

  get size(): number {
    return this.base.size + this.extra.size;
  }

  get(key: string): V | undefined {
    return this.base.get(key) ?? this.extra.get(key);
  }

  has(key: string): boolean {
    return this.base.has(key) || this.extra.has(key);
  }

  *entries(): MapIterator<[string, V]> {
    yield* this.base.entries();
    yield* this.extra.entries();
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}
