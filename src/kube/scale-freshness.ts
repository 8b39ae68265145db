/**
 * When the Deployment cache may answer a scale read (KubeScaleTarget).
 * Per Deployment it keeps the scale last known to be true — what our own
 * write returned, or what a live read found while the cache was behind —
 * until the cache shows that resourceVersion. While one is kept, the cache
 * is trusted only if its replicas equal the known ones: a different value
 * may be the cache not yet showing our write, and only a live read can tell
 * that from someone else's change. resourceVersions are opaque: they are
 * compared for equality only, never ordered.
 *
 * Pure bookkeeping, no I/O; one instance per ScaleTarget, not shared.
 */

/** The two fields of a Scale the reconciler reads. */
export interface CachedScale {
  readonly replicas: number;
  readonly resourceVersion: string;
}

/** undefined: nothing is known to be true; every read is live until one finds the cache current. */
type Known = CachedScale | undefined;

export class ScaleFreshness {
  /** By "namespace/name". Absent: the cache is current as far as we know. */
  readonly #known = new Map<string, Known>();

  /** May `cached` answer a read of `key`? Forgets what was known once the cache shows it. */
  trusts(key: string, cached: CachedScale): boolean {
    if (!this.#known.has(key)) return true;
    const known = this.#known.get(key);
    if (known === undefined) return false;
    if (cached.resourceVersion === known.resourceVersion) {
      this.#known.delete(key);
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
    if (live === undefined) {
      // Gone: a cache still holding it must not answer; once it drops it too, nothing is left to track.
      if (cached === undefined) this.#known.delete(key);
      else this.#known.set(key, undefined);
      return;
    }
    if (cached?.resourceVersion === live.resourceVersion) this.#known.delete(key);
    else this.#known.set(key, live);
  }
}
