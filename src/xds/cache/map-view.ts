/**
 * The ReadonlyMap methods that follow from `entries()`, written once for
 * the cache's map views (OverlayMap, LayeredMap, UnionMap), which each
 * keep their entries in their own way.
 */
export abstract class MapView<V> implements ReadonlyMap<string, V> {
  abstract readonly size: number;
  abstract get(name: string): V | undefined;
  abstract has(name: string): boolean;
  abstract entries(): MapIterator<[string, V]>;

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [name, v] of this.entries()) fn(v, name, this);
  }
}
