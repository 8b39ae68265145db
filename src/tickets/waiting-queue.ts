/**
 * One app's FIFO waiting queue, bounded by the caller.
 *
 * A place in line is taken by coming back: a client turned away gets a
 * signed queue token (its arrival time inside) and no entry; the entry is
 * made when the client returns with the token, placed by its first arrival.
 * So a cookieless flood — crawlers, health checks, attackers that never
 * return — costs no place in line at all, and everyone in line is someone
 * who came back. Reservations are a count matched to free slots:
 * `grant(free)` reserves, in queue order, one free slot for each of the
 * first entries, so a freed slot goes to the head of the line first.
 * Entries are removed when they claim, when their reservation lapses, or
 * when their client stops coming back. Per-client counts are kept for the
 * limits.
 */
export interface QueueEntry {
  readonly id: string;
  /** When the client was first turned away (the token's issue time): the line's order. */
  readonly enqueuedAt: number;
  lastSeenAt: number;
  /** Who queued (an address), for the per-client limit; undefined when unknown. */
  readonly client: string | undefined;
  /** Set while a free slot is held for this entry. */
  reservedUntil: number | undefined;
}

export type DropReason = "reservation_lapsed" | "not_seen";

const NO_CHANGES: { readonly joined: readonly QueueEntry[]; readonly left: readonly string[] } = Object.freeze({ joined: Object.freeze([]), left: Object.freeze([]) });
const NOTHING_DROPPED: readonly { entry: QueueEntry; reason: DropReason }[] = Object.freeze([]);

export class WaitingQueue {
  readonly #entries: QueueEntry[] = [];
  readonly #byId = new Map<string, QueueEntry>();
  readonly #perClient = new Map<string, number>();
  /** Joins and leaves since the last takeChanges (what the ledger journal records). */
  #joined: QueueEntry[] = [];
  #left: string[] = [];

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

  /** Entries `client` holds now. */
  countFor(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  /** Adds an entry at its place by `enqueuedAt` (returns arrive in about the order the clients first came). */
  push(entry: QueueEntry): void {
    if (this.#byId.has(entry.id)) throw new Error(`queue entry ${entry.id} exists`);
    let i = this.#entries.length;
    while (i > 0 && (this.#entries[i - 1]?.enqueuedAt ?? 0) > entry.enqueuedAt) i--;
    this.#entries.splice(i, 0, entry);
    this.#byId.set(entry.id, entry);
    if (entry.client !== undefined) this.#perClient.set(entry.client, this.countFor(entry.client) + 1);
    this.#joined.push(entry);
  }

  remove(entry: QueueEntry): void {
    const i = this.#entries.indexOf(entry);
    if (i < 0) return;
    this.#entries.splice(i, 1);
    this.#byId.delete(entry.id);
    // Joined and left since the journal last looked: nothing to record.
    const joined = this.#joined.indexOf(entry);
    if (joined >= 0) this.#joined.splice(joined, 1);
    else this.#left.push(entry.id);
    if (entry.client === undefined) return;
    const left = this.countFor(entry.client) - 1;
    if (left > 0) this.#perClient.set(entry.client, left);
    else this.#perClient.delete(entry.client);
  }

  /** The entries that joined and the ids that left since the last call, then forgets them. */
  takeChanges(): { readonly joined: readonly QueueEntry[]; readonly left: readonly string[] } {
    // Asked after every allocation: nothing changed is the common answer, and allocates nothing.
    if (this.#joined.length === 0 && this.#left.length === 0) return NO_CHANGES;
    const changes = { joined: this.#joined, left: this.#left };
    this.#joined = [];
    this.#left = [];
    return changes;
  }

  /** Drops entries whose reservation lapsed or that were not seen for `staleMs`. */
  expire(now: number, staleMs: number): readonly { entry: QueueEntry; reason: DropReason }[] {
    if (this.#entries.length === 0) return NOTHING_DROPPED;
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
