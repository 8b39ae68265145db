/**
 * One app's FIFO waiting queue, bounded by the caller. An entry is
 * *confirmed* once its client has come back with its queue cookie. Every
 * entry keeps newcomers from taking a free slot, but only confirmed entries
 * get one: `grant(free)` reserves, in queue order, one free slot for each of
 * the first confirmed entries. So a cookieless flood cannot take slots away
 * from the people waiting, and a real user gets a freed slot as soon as they
 * come back. Entries are removed when they claim, when their reservation
 * lapses, or when their client stops coming back. Per-client counts are
 * kept for the limits.
 */
export interface QueueEntry {
  readonly id: string;
  readonly enqueuedAt: number;
  lastSeenAt: number;
  /** The client came back at least once with this entry's cookie. */
  confirmed: boolean;
  /** Who queued (an address), for the per-client limit; undefined when unknown. */
  readonly client: string | undefined;
  /** Set while a free slot is held for this entry. */
  reservedUntil: number | undefined;
}

export type DropReason = "reservation_lapsed" | "not_seen";

export class WaitingQueue {
  readonly #entries: QueueEntry[] = [];
  readonly #byId = new Map<string, QueueEntry>();
  readonly #perClient = new Map<string, number>();

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

  /** Someone waits without a reserved slot: a newcomer must not jump them. */
  hasUnreserved(): boolean {
    return this.#entries.some((e) => e.reservedUntil === undefined);
  }

  /**
   * Makes room in a full queue: drops the oldest entry whose client never came
   * back although it was due (`overdueMs` after it queued). True when one went.
   */
  evictOverdue(now: number, overdueMs: number): boolean {
    const victim = this.#entries.find((e) => !e.confirmed && now - e.enqueuedAt >= overdueMs);
    if (victim === undefined) return false;
    this.remove(victim);
    return true;
  }

  /** Entries `client` holds now. */
  countFor(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  push(entry: QueueEntry): void {
    if (this.#byId.has(entry.id)) throw new Error(`queue entry ${entry.id} exists`);
    this.#entries.push(entry);
    this.#byId.set(entry.id, entry);
    if (entry.client !== undefined) this.#perClient.set(entry.client, this.countFor(entry.client) + 1);
  }

  remove(entry: QueueEntry): void {
    const i = this.#entries.indexOf(entry);
    if (i < 0) return;
    this.#entries.splice(i, 1);
    this.#byId.delete(entry.id);
    if (entry.client === undefined) return;
    const left = this.countFor(entry.client) - 1;
    if (left > 0) this.#perClient.set(entry.client, left);
    else this.#perClient.delete(entry.client);
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
   * Matches reservations to `free` slots: reserves for the first confirmed,
   * unreserved entries in order while free slots exceed reservations, or
   * withdraws the last reservations when free slots shrank. True when
   * anything changed.
   */
  grant(free: number, now: number, reservationMs: number): boolean {
    let reserved = this.reserved();
    let changed = false;
    for (let i = 0; i < this.#entries.length && reserved < free; i++) {
      const e = this.#entries[i];
      if (e.reservedUntil !== undefined || !e.confirmed) continue;
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
