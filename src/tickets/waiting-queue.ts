/**
 * One app's FIFO waiting queue, bounded by the caller. Reservations are a
 * count matched to free slots: `grant(free)` reserves, in queue order, one
 * free slot for each of the first waiting entries, so a freed slot always
 * goes to the head of the line first. Entries are removed when they claim,
 * when their reservation lapses, or when their client stops coming back.
 */
export interface QueueEntry {
  readonly id: string;
  readonly enqueuedAt: number;
  lastSeenAt: number;
  /** Set while a free slot is held for this entry. */
  reservedUntil: number | undefined;
}

export type DropReason = "reservation_lapsed" | "not_seen";

export class WaitingQueue {
  readonly #entries: QueueEntry[] = [];
  readonly #byId = new Map<string, QueueEntry>();

  get length(): number {
    return this.#entries.length;
  }

  get(id: string): QueueEntry | undefined {
    return this.#byId.get(id);
  }

  /** 1-based place in line, or 0 when not queued. */
  position(entry: QueueEntry): number {
    return this.#entries.indexOf(entry) + 1;
  }

  entries(): readonly QueueEntry[] {
    return this.#entries;
  }

  reserved(): number {
    let n = 0;
    for (const e of this.#entries) if (e.reservedUntil !== undefined) n++;
    return n;
  }

  /** Someone is waiting without a reserved slot (a newcomer must not jump them). */
  hasUnreserved(): boolean {
    return this.#entries.some((e) => e.reservedUntil === undefined);
  }

  push(entry: QueueEntry): void {
    if (this.#byId.has(entry.id)) throw new Error(`queue entry ${entry.id} exists`);
    this.#entries.push(entry);
    this.#byId.set(entry.id, entry);
  }

  remove(entry: QueueEntry): void {
    const i = this.#entries.indexOf(entry);
    if (i < 0) return;
    this.#entries.splice(i, 1);
    this.#byId.delete(entry.id);
  }

  /** Drops entries whose reservation lapsed or that were not seen for `staleMs`. */
  expire(now: number, staleMs: number): { entry: QueueEntry; reason: DropReason }[] {
    const dropped: { entry: QueueEntry; reason: DropReason }[] = [];
    for (const e of [...this.#entries]) {
      if (e.reservedUntil !== undefined && now >= e.reservedUntil) dropped.push({ entry: e, reason: "reservation_lapsed" });
      else if (now - e.lastSeenAt >= staleMs) dropped.push({ entry: e, reason: "not_seen" });
      else continue;
      this.remove(e);
    }
    return dropped;
  }

  /**
   * Matches reservations to `free` slots: reserves for the first unreserved
   * entries in order while free slots exceed reservations, or withdraws the
   * last reservations when free slots shrank. True when anything changed.
   */
  grant(free: number, now: number, reservationMs: number): boolean {
    let reserved = this.reserved();
    let changed = false;
    for (let i = 0; i < this.#entries.length && reserved < free; i++) {
      const e = this.#entries[i];
      if (e.reservedUntil !== undefined) continue;
      e.reservedUntil = now + reservationMs;
      reserved++;
      changed = true;
    }
    for (let i = this.#entries.length - 1; i >= 0 && reserved > free; i--) {
      const e = this.#entries[i];
      if (e.reservedUntil === undefined) continue;
      e.reservedUntil = undefined;
      reserved--;
      changed = true;
    }
    return changed;
  }
}
