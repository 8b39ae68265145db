/**
 * The serving pods of one app that have a free slot, indexed so that
 * choosing a pod for a new ticket and counting free slots cost O(log pods)
 * and O(1), never a scan of the fleet. One min-heap per group (stable,
 * canary), ordered by free slots then name: the top is the pod the packing
 * rule picks (the fewest free slots, so idle pods empty out; ties by name).
 * The ledger calls `update` after every change to a pod (a slot taken or
 * freed, readiness, draining, routability, a resize) and `remove` when a pod
 * goes.
 */
import type { PodRecord } from "./pod-record.js";

class PodHeap {
  readonly #items: PodRecord[] = [];
  readonly #at = new Map<PodRecord, number>();

  get top(): PodRecord | undefined {
    return this.#items[0];
  }

  has(pod: PodRecord): boolean {
    return this.#at.has(pod);
  }

  /** Inserts, or restores the heap order after the pod's free count changed. */
  upsert(pod: PodRecord): void {
    const i = this.#at.get(pod);
    if (i === undefined) {
      this.#items.push(pod);
      this.#at.set(pod, this.#items.length - 1);
      this.#up(this.#items.length - 1);
      return;
    }
    this.#up(i);
    this.#down(this.#at.get(pod) ?? i);
  }

  delete(pod: PodRecord): void {
    const i = this.#at.get(pod);
    if (i === undefined) return;
    const last = this.#items.pop() as PodRecord;
    this.#at.delete(pod);
    if (last === pod) return;
    this.#items[i] = last;
    this.#at.set(last, i);
    this.#up(i);
    this.#down(this.#at.get(last) ?? i);
  }

  #before(a: PodRecord, b: PodRecord): boolean {
    return a.free < b.free || (a.free === b.free && a.name < b.name);
  }

  #swap(i: number, j: number): void {
    const a = this.#items[i];
    const b = this.#items[j];
    this.#items[i] = b;
    this.#items[j] = a;
    this.#at.set(b, i);
    this.#at.set(a, j);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(this.#items[i], this.#items[parent])) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n && this.#before(this.#items[l], this.#items[best])) best = l;
      if (r < n && this.#before(this.#items[r], this.#items[best])) best = r;
      if (best === i) return;
      this.#swap(i, best);
      i = best;
    }
  }
}

export class ServingPods {
  readonly #heaps = { stable: new PodHeap(), canary: new PodHeap() };
  readonly #free = { stable: 0, canary: 0 };
  /** What each pod contributes now (its group and free serving slots), to undo on the next update. */
  readonly #counted = new Map<PodRecord, { canary: boolean; free: number }>();

  /** Re-reads `pod` (call after any change to it). */
  update(pod: PodRecord): void {
    const counted = this.#counted.get(pod);
    if (counted === undefined || !pod.serving || counted.canary !== pod.canary) {
      this.remove(pod);
      this.#add(pod);
      return;
    }
    // Still serving in the same group (a slot taken or freed): move it within its heap, not out and back in.
    const group = pod.canary ? "canary" : "stable";
    this.#free[group] += pod.free - counted.free;
    counted.free = pod.free;
    if (pod.free > 0) this.#heaps[group].upsert(pod);
    else this.#heaps[group].delete(pod);
  }

  remove(pod: PodRecord): void {
    const counted = this.#counted.get(pod);
    if (counted === undefined) return;
    const group = counted.canary ? "canary" : "stable";
    this.#free[group] -= counted.free;
    this.#heaps[group].delete(pod);
    this.#counted.delete(pod);
  }

  #add(pod: PodRecord): void {
    if (!pod.serving) return;
    const group = pod.canary ? "canary" : "stable";
    this.#counted.set(pod, { canary: pod.canary, free: pod.free });
    this.#free[group] += pod.free;
    if (pod.free > 0) this.#heaps[group].upsert(pod);
  }

  /** Free slots on serving pods (of one group when `canary` is given). */
  free(canary?: boolean): number {
    if (canary === undefined) return this.#free.stable + this.#free.canary;
    return canary ? this.#free.canary : this.#free.stable;
  }

  /** The pod the packing rule picks (of one group when `canary` is given), or undefined when none has a free slot. */
  best(canary?: boolean): PodRecord | undefined {
    if (canary !== undefined) return (canary ? this.#heaps.canary : this.#heaps.stable).top;
    const s = this.#heaps.stable.top;
    const c = this.#heaps.canary.top;
    if (s === undefined || c === undefined) return s ?? c;
    return c.free < s.free || (c.free === s.free && c.name < s.name) ? c : s;
  }
}
