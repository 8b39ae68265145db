/**
 * LedgerKeeper: keeps the ledger in its store so that a restart loses no
 * ticket and never gives one slot to two users. Leader-only: one writer.
 *
 * start: claim the store (fails fast when another process holds it), load,
 * restore into the ticket core (which checks every entry). Then every change
 * the ticket core makes goes to the store's journal as a small record
 * (issue, confirm, release, places taken and left in line), batched over
 * `appendDelayMs` — O(1) per change, whatever the size of the ledger — and
 * the whole ledger (with the waiting queue) is compacted into a snapshot
 * every `compactEveryMs` while anything changed, or once the journal holds
 * `compactAfterRecords`. Writes are serialised (never two at once).
 * stop: one last compaction, then give the claim up. A keeper whose start
 * did not finish never writes: it must not overwrite a ledger it did not read.
 */
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import { appKey } from "../config/app-spec.js";
import { journalRecord, type LedgerRecord } from "../tickets/ledger-journal.js";
import type { LedgerAccess, TicketViews } from "../tickets/ports.js";
import type { RestoreReport, TicketCoreEvent } from "../tickets/types.js";
import type { LedgerLoad, LedgerStore } from "./ports.js";

export interface LedgerKeeperOptions {
  readonly store: LedgerStore;
  readonly tickets: LedgerAccess & Pick<TicketViews, "apps" | "subscribe">;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Records are batched this long before they are appended (default 20 ms). */
  readonly appendDelayMs?: number;
  /** A snapshot is taken this long after the first change since the last one (default 10 s). */
  readonly compactEveryMs?: number;
  /** …or as soon as the journal holds this many records (default 10,000). */
  readonly compactAfterRecords?: number;
}

/** A LedgerLoad without the snapshot itself. */
export type LedgerLoadSummary = Exclude<LedgerLoad, { kind: "loaded" }> | { readonly kind: "loaded"; readonly savedAt: number };

/** What /api/config shows of the ledger's storage. */
export interface LedgerStatus {
  readonly store: string;
  readonly load?: LedgerLoadSummary;
  readonly restore?: RestoreReport;
  /** The last compaction (a whole snapshot). */
  readonly lastSavedAt?: number;
  /** The last journal append. */
  readonly lastAppendedAt?: number;
  /** Records in the journal since the last compaction. */
  readonly journalRecords: number;
  readonly lastError?: string;
}

export class LedgerKeeper implements Runnable {
  readonly name = "ledger";
  readonly #o: LedgerKeeperOptions;
  #appendTimer: Timer | undefined;
  #compactTimer: Timer | undefined;
  #unsubscribe: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();
  #pending: LedgerRecord[] = [];
  #journalRecords = 0;
  #claimed = false;
  #restored = false;
  #stopping = false;
  #status: { load?: LedgerLoadSummary; restore?: RestoreReport; lastSavedAt?: number; lastAppendedAt?: number; lastError?: string } = {};
  readonly stop: () => Promise<void>;

  constructor(options: LedgerKeeperOptions) {
    this.#o = options;
    this.stop = once(() => this.#stop());
  }

  /** True once the stored ledger has been read and restored (or found missing or set aside). */
  restored(): boolean {
    return this.#restored;
  }

  /**
   * True while every change is recorded: restored, and not stopping. The
   * owner allocates only while this holds; from the moment stop begins the
   * final save is under way and a ticket issued now would be in no store
   * (the next owner would not know it), so allocation must fail closed.
   */
  recording(): boolean {
    return this.#restored && !this.#stopping;
  }

  status(): LedgerStatus {
    return { store: this.#o.store.description, journalRecords: this.#journalRecords, ...this.#status };
  }

  async start(): Promise<void> {
    const { store, tickets, logger } = this.#o;
    await store.acquire();
    this.#claimed = true;
    const load = await store.load();
    this.#status.load = load.kind === "loaded" ? { kind: "loaded", savedAt: load.savedAt } : load;
    if (load.kind === "set-aside") {
      const error = new TicketplaneError(ERROR_CODES.STATE_CORRUPT, `the stored ledger is not ours (${load.reason}); it was set aside as ${load.movedTo} and the ledger starts empty`, { store: store.description, movedTo: load.movedTo });
      logger.error(error.message, { code: error.code, store: store.description, movedTo: load.movedTo });
    } else if (load.kind === "loaded") {
      const report = tickets.restore(load.snapshot);
      this.#status.restore = report;
      logger.info("ledger restored", { store: store.description, tickets: report.restoredTickets, queue: report.restoredQueue, dropped: report.dropped.length, savedAt: new Date(load.savedAt).toISOString() });
      for (const d of report.dropped) logger.warn("saved ticket or queue entry not restored", { id: d.id, reason: d.reason });
    }
    this.#restored = true;
    this.#unsubscribe = tickets.subscribe((event) => this.#changed(event));
    // Start from a compacted store: what was restored (less what was dropped) is the new snapshot.
    await this.compact();
  }

  /** Writes a whole snapshot now (after any write in progress) and empties the journal. Rejects with TP_IO if the write fails. */
  compact(): Promise<void> {
    this.#compactTimer?.cancel();
    this.#compactTimer = undefined;
    this.#appendTimer?.cancel();
    this.#appendTimer = undefined;
    return this.#serial(async () => {
      const { store, tickets, clock } = this.#o;
      // Captured when the write starts: records still pending are in it, and later ones follow it in the journal.
      this.#pending = [];
      await store.save(tickets.snapshot(), tickets.apps().map((a) => appKey(a.namespace, a.name)));
      this.#journalRecords = 0;
      this.#status.lastSavedAt = clock.now();
    });
  }

  #changed(event: TicketCoreEvent): void {
    const { clock } = this.#o;
    const record = journalRecord(event);
    if (record !== undefined) {
      this.#pending.push(record);
      this.#appendTimer ??= clock.setTimeout(() => {
        this.#appendTimer = undefined;
        this.#flush().catch((err: unknown) => this.#failed("journal append failed; the next compaction writes the whole ledger", err));
      }, this.#o.appendDelayMs ?? 20);
    }
    if (this.#journalRecords + this.#pending.length >= (this.#o.compactAfterRecords ?? 10_000)) {
      this.compact().catch((err: unknown) => this.#failed("ledger compaction failed; trying again at the next change", err));
      return;
    }
    this.#compactTimer ??= clock.setTimeout(() => {
      this.#compactTimer = undefined;
      this.compact().catch((err: unknown) => this.#failed("ledger compaction failed; trying again at the next change", err));
    }, this.#o.compactEveryMs ?? 10_000);
  }

  #flush(): Promise<void> {
    return this.#serial(async () => {
      const records = this.#pending;
      if (records.length === 0) return;
      this.#pending = [];
      await this.#o.store.append(records);
      this.#journalRecords += records.length;
      this.#status.lastAppendedAt = this.#o.clock.now();
    });
  }

  /** Runs `write` after the writes before it; the chain survives a failure, the caller still sees it. */
  #serial(write: () => Promise<void>): Promise<void> {
    const next = this.#writing.then(write).then(
      () => {
        this.#status.lastError = undefined;
      },
      (err: unknown) => {
        this.#status.lastError = errorMessage(err);
        throw err;
      },
    );
    this.#writing = next.catch(() => undefined);
    return next;
  }

  #failed(what: string, err: unknown): void {
    this.#o.logger.error(what, { store: this.#o.store.description, error: errorMessage(err) });
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    try {
      if (this.#restored) await this.compact();
    } catch (err) {
      this.#failed("final ledger save failed", err);
    } finally {
      this.#appendTimer?.cancel();
      this.#compactTimer?.cancel();
      if (this.#claimed) await this.#o.store.release();
      this.#claimed = false;
    }
  }
}
