import { PUSH_ORDER, REMOVE_ORDER, type TypeUrl } from "../resources/type-urls.js";
import { Snapshot } from "./snapshot.js";
import { changeBetween, NO_CHANGE } from "./snapshot-diff.js";
import { DeltaWatch, SotwWatch, type CacheWatch } from "./snapshot-watches.js";
import type { ConfigWatcher, DeltaCacheResponse, DeltaStreamView, Respond, SotwCacheResponse, SotwStreamView, Watch } from "./watch.js";

export type SnapshotListener = (group: string, snapshot: Snapshot) => void;

/**
 * Snapshots per node group, and the watches streams hold on them.
 *
 * Ordering (make before break): an update is pushed type by type in
 * PUSH_ORDER, so a stream gets new clusters and endpoints before the
 * listener and routes that use them. When an update removes clusters or
 * endpoints, the cache first installs an intermediate snapshot (the new
 * routes and listeners, the old clusters and endpoints kept) and then the
 * final one, in REMOVE_ORDER: every stream is *sent* the route update that
 * drops a pod before the removal of that pod's cluster and endpoints. It does
 * not wait for the route's ACK; the routability tracker (server side) is what
 * keeps tickets off pods a gateway has not confirmed.
 *
 * Single-threaded (the Node event loop); `respond` callbacks run synchronously
 * inside setSnapshot and createWatch/createDeltaWatch.
 */
export class SnapshotCache implements ConfigWatcher {
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #watches = new Map<string, Map<TypeUrl, Set<CacheWatch>>>();
  readonly #listeners = new Set<SnapshotListener>();

  /** Replaces the group's snapshot and pushes what changed to its watches. */
  setSnapshot(group: string, snapshot: Snapshot): void {
    const prev = this.#snapshots.get(group);
    const mid = prev ? Snapshot.keepingRemoved(prev, snapshot) : undefined;
    if (mid) {
      this.#install(group, prev, mid, PUSH_ORDER);
      this.#install(group, mid, snapshot, REMOVE_ORDER);
    } else {
      this.#install(group, prev, snapshot, PUSH_ORDER);
    }
    for (const listener of [...this.#listeners]) listener(group, snapshot);
  }

  getSnapshot(group: string): Snapshot | undefined {
    return this.#snapshots.get(group);
  }

  groups(): string[] {
    return [...this.#snapshots.keys()];
  }

  /** Calls `listener` after every setSnapshot (with the final snapshot). Returns an unsubscribe function. */
  onSnapshot(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  createWatch(request: { readonly typeUrl: TypeUrl }, stream: SotwStreamView, respond: Respond<SotwCacheResponse>): Watch {
    const group = stream.group;
    return this.#open(group, new SotwWatch(request.typeUrl, stream, () => this.#snapshots.get(group), respond, (w) => this.#close(group, w)));
  }

  createDeltaWatch(request: { readonly typeUrl: TypeUrl }, stream: DeltaStreamView, respond: Respond<DeltaCacheResponse>): Watch {
    const group = stream.group;
    return this.#open(group, new DeltaWatch(request.typeUrl, stream, () => this.#snapshots.get(group), respond, (w) => this.#close(group, w)));
  }

  canonicalName(group: string, typeUrl: TypeUrl, name: string): string {
    return this.#snapshots.get(group)?.get(typeUrl, name)?.name ?? name;
  }

  /** Open watches (for status and leak tests). */
  watchCount(group?: string): number {
    let n = 0;
    for (const [g, byType] of this.#watches) if (group === undefined || g === group) for (const set of byType.values()) n += set.size;
    return n;
  }

  #open(group: string, watch: CacheWatch): Watch {
    let byType = this.#watches.get(group);
    if (!byType) this.#watches.set(group, (byType = new Map<TypeUrl, Set<CacheWatch>>()));
    let set = byType.get(watch.typeUrl);
    if (!set) byType.set(watch.typeUrl, (set = new Set<CacheWatch>()));
    set.add(watch);
    const current = this.#snapshots.get(group);
    if (current) watch.update(undefined, current, NO_CHANGE);
    return watch;
  }

  #close(group: string, watch: CacheWatch): void {
    const byType = this.#watches.get(group);
    const set = byType?.get(watch.typeUrl);
    if (!byType || !set) return;
    set.delete(watch);
    if (set.size === 0) byType.delete(watch.typeUrl);
    if (byType.size === 0) this.#watches.delete(group);
  }

  #install(group: string, prev: Snapshot | undefined, next: Snapshot, order: readonly TypeUrl[]): void {
    this.#snapshots.set(group, next);
    const byType = this.#watches.get(group);
    if (!byType) return;
    for (const typeUrl of order) {
      const set = byType.get(typeUrl);
      if (!set || set.size === 0) continue;
      const change = prev ? changeBetween(prev, next, typeUrl) : NO_CHANGE;
      // Copy: a respond callback may cancel or open watches.
      for (const watch of [...set]) if (set.has(watch)) watch.update(prev, next, change);
    }
  }
}
