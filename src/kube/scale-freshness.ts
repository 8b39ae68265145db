/**
 * When the Deployment cache may answer a scale read (KubeScaleTarget).
 * Per Deployment it keeps the scale last known to be true — what our own
 * write returned, or what a live read found while the cache was behind —
 * until the cache shows that resourceVersion. While one is kept, the cache
 * is trusted only if its replicas equal the known ones: a different value
 * may be the cache not yet showing our write, and only a live read can tell
 * that from someone else's change. A Deployment not yet read live is not
 * trusted either: a replica that has just taken the lead would otherwise
 * adopt, as its baseline, replicas from a cache that may not yet show the
 * last leader's write. resourceVersions are opaque: they are compared for
 * equality only, never ordered.
 *
 * Pure bookkeeping, no I/O; one instance per ScaleTarget, not shared.
 */

/** The two fields of a Scale the reconciler reads. */
export interface CachedScale {
  readonly replicas: number;
  readonly resourceVersion: string;
}

const CURRENT = "current";

/**
 * CURRENT: the cache has shown what a live read or our write found, and is
 * current as far as we know. undefined: nothing is known to be true (a
 * write failed); every read is live until one finds the cache current.
 */
type Known = CachedScale | typeof CURRENT | undefined;

export class ScaleFreshness {
  /** By "namespace/name". Absent: never read live, so not trusted. */
  readonly #known = new Map<string, Known>();

  /** May `cached` answer a read of `key`? Marks the cache current once it shows what was known. */
  trusts(key: string, cached: CachedScale): boolean {
    const known = this.#known.get(key);
    if (known === CURRENT) return true;
    if (known === undefined) return false;
    if (cached.resourceVersion === known.resourceVersion) {
      this.#known.set(key, CURRENT);
      return true;
    }
    return cached.replicas === known.replicas;
  }

  /** Our write went through and the API server answered with `scale`. */
  wrote(key: string, scale: CachedScale): void {
    this.#known.set(key, scale);
  }

  /** A write failed: whether it took effect, and what the cache holds, are unknown. */
  forget(key: string): void {
    this.#known.set(key, undefined);
  }

  /**
   * A live read found `live` (undefined: no such Deployment) while the
   * cache held `cached`: equal resourceVersions mean the cache is current.
   */
  observedLive(key: string, live: CachedScale | undefined, cached: CachedScale | undefined): void {
    // Gone: nothing to keep, and a cache still holding it must not answer (absent says so).
    if (live === undefined) this.#known.delete(key);
    else this.#known.set(key, cached?.resourceVersion === live.resourceVersion ? CURRENT : live);
  }
}
