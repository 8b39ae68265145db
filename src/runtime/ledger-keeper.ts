/**
 * LedgerKeeper: keeps the ledger in its store so that a restart loses no
 * ticket and never gives one slot to two users. Leader-only: one writer.
 *
 * start: claim the store (fails fast when another process holds it), load,
 * restore into the ticket core (which checks every entry), then save after
 * each change — debounced on the Clock, serialised (never two writes at
 * once). stop: one last save, then give the claim up. A keeper whose start
 * did not finish never saves: it must not overwrite a ledger it did not read.
 */
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import { appKey } from "../config/app-spec.js";
import type { LedgerAccess, TicketViews } from "../tickets/ports.js";
import type { RestoreReport } from "../tickets/types.js";
import type { LedgerLoad, LedgerStore } from "./ports.js";

export interface LedgerKeeperOptions {
  readonly store: LedgerStore;
  readonly tickets: LedgerAccess & Pick<TicketViews, "apps" | "subscribe">;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Delay between a change and the save it causes (default 500 ms). */
  readonly debounceMs?: number;
}

/** A LedgerLoad without the snapshot itself. */
export type LedgerLoadSummary = Exclude<LedgerLoad, { kind: "loaded" }> | { readonly kind: "loaded"; readonly savedAt: number };

/** What /api/config shows of the ledger's storage. */
export interface LedgerStatus {
  readonly store: string;
  readonly load?: LedgerLoadSummary;
  readonly restore?: RestoreReport;
  readonly lastSavedAt?: number;
  readonly lastError?: string;
}

export class LedgerKeeper implements Runnable {
  readonly name = "ledger";
  readonly #o: LedgerKeeperOptions;
  readonly #debounceMs: number;
  #timer: Timer | undefined;
  #unsubscribe: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();
  #claimed = false;
  #restored = false;
  #status: { load?: LedgerLoadSummary; restore?: RestoreReport; lastSavedAt?: number; lastError?: string } = {};
  readonly stop: () => Promise<void>;

  constructor(options: LedgerKeeperOptions) {
    this.#o = options;
    this.#debounceMs = options.debounceMs ?? 500;
    this.stop = once(() => this.#stop());
  }

  /** True once the stored ledger has been read and restored (or found missing or set aside). */
  restored(): boolean {
    return this.#restored;
  }

  status(): LedgerStatus {
    return { store: this.#o.store.description, ...this.#status };
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
    this.#unsubscribe = tickets.subscribe(() => this.#schedule());
  }

  /** Writes the current ledger now (after any write in progress). Rejects with TP_IO if the write fails. */
  save(): Promise<void> {
    const next = this.#writing.then(() => this.#write());
    // The chain itself must survive a failed write; the caller still sees the rejection.
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #write(): Promise<void> {
    const { store, tickets, clock } = this.#o;
    try {
      await store.save(tickets.snapshot(), tickets.apps().map((a) => appKey(a.namespace, a.name)));
      this.#status.lastSavedAt = clock.now();
      this.#status.lastError = undefined;
    } catch (err) {
      this.#status.lastError = errorMessage(err);
      throw err;
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.save().catch((err: unknown) => this.#o.logger.error("ledger save failed; trying again at the next change", { store: this.#o.store.description, error: errorMessage(err) }));
    }, this.#debounceMs);
  }

  async #stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
    try {
      if (this.#restored) await this.save();
    } catch (err) {
      this.#o.logger.error("final ledger save failed", { store: this.#o.store.description, error: errorMessage(err) });
    } finally {
      if (this.#claimed) await this.#o.store.release();
      this.#claimed = false;
    }
  }
}
