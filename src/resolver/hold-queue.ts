/**
 * The requests one app's resolver holds, in arrival order, bounded. A Set
 * keeps insertion order and removes a request that went away in O(1), so
 * 10,000 held requests cost a few objects each, never a scan.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Timer } from "../common/clock.js";

/** One held request: a plain one (with its response) or an upgrade (with its socket). */
export type HeldConnection =
  | { readonly kind: "http"; readonly req: IncomingMessage; readonly res: ServerResponse }
  | { readonly kind: "upgrade"; readonly req: IncomingMessage; readonly socket: Duplex; readonly head: Buffer };

export interface Held {
  readonly conn: HeldConnection;
  /** When it arrived (clock ms). */
  readonly since: number;
  /** Its hold timeout and, for a page navigation, its waiting-page timer. */
  readonly timers: Timer[];
  /** Called once when it leaves the queue, whatever the reason (removes its close listener). */
  readonly detach: () => void;
}

export class HoldQueue {
  readonly #held = new Set<Held>();
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get length(): number {
    return this.#held.size;
  }

  get full(): boolean {
    return this.#held.size >= this.limit;
  }

  /** Adds at the end; false when the queue is full (the caller answers 503). */
  push(h: Held): boolean {
    if (this.full) return false;
    this.#held.add(h);
    return true;
  }

  /** Removes `h` and stops its timers; false when it had already left. */
  remove(h: Held): boolean {
    if (!this.#held.delete(h)) return false;
    for (const t of h.timers) t.cancel();
    h.detach();
    return true;
  }

  /** Takes every held request out, oldest first. */
  drain(): Held[] {
    const all = [...this.#held];
    for (const h of all) this.remove(h);
    return all;
  }
}
