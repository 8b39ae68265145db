/**
 * A Clock that moves only when told to. Timers fire in due order while
 * `advance` walks time forward, each seeing `now()` at its own due time, so
 * debounce, sweep and ACK-wait tests run without real time passing.
 */
import type { Clock, Timer } from "../../src/common/clock.js";

interface Scheduled {
  readonly id: number;
  due: number;
  readonly every: number | undefined;
  readonly fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #nextId = 0;
  #timers: Scheduled[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.#schedule(fn, ms, Math.max(1, ms));
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    this.#runUntil(this.#now + Math.max(0, ms));
  }

  /** Sets the time (forward fires due timers; backward fires nothing). */
  set(ms: number): void {
    if (ms >= this.#now) this.#runUntil(ms);
    else this.#now = ms;
  }

  /**
   * Advances by `ms` and lets promise callbacks run between timers, for code
   * whose timer callbacks start async work (a save, a read).
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.#now + Math.max(0, ms);
    for (;;) {
      const next = this.#nextDue(end);
      if (next === undefined) break;
      this.#fire(next);
      await flushPromises();
    }
    this.#now = end;
    await flushPromises();
  }

  #schedule(fn: () => void, ms: number, every: number | undefined): Timer {
    const t: Scheduled = { id: this.#nextId++, due: this.#now + Math.max(0, ms), every, fn, cancelled: false };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
        this.#timers = this.#timers.filter((x) => x !== t);
      },
    };
  }

  #runUntil(end: number): void {
    for (;;) {
      const next = this.#nextDue(end);
      if (next === undefined) break;
      this.#fire(next);
    }
    this.#now = end;
  }

  /** The earliest live timer due at or before `end` (ties: the one scheduled first). */
  #nextDue(end: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.#timers) {
      if (t.cancelled || t.due > end) continue;
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }

  #fire(t: Scheduled): void {
    this.#now = Math.max(this.#now, t.due);
    if (t.every === undefined) {
      t.cancelled = true;
      this.#timers = this.#timers.filter((x) => x !== t);
    } else {
      t.due += t.every;
    }
    t.fn();
  }
}

/** Lets pending promise callbacks (and one macrotask turn) run. */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
