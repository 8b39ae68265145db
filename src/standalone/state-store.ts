/**
 * Persists the ticket desk's ledger to a state file so a restart loses no
 * ticket and never gives one slot to two users.
 *
 * Saves are atomic (temp + fsync + rename), debounced after each desk change,
 * serialised (never two writes at once) and flushed by `stop()`. Loading
 * never throws on bad content: a corrupt, truncated or foreign file is
 * renamed aside (`<file>.corrupt-<timestamp>`) and reported, and the process
 * starts with an empty ledger.
 */
import { readFile, rename } from "node:fs/promises";
import type { Clock } from "../common/clock.js";
import { appKey } from "../config/app-spec.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { DeskSnapshot, RestoreReport, TicketDesk } from "../tickets/types.js";
import { removeStaleTempFiles, writeFileAtomic } from "./atomic-write.js";
import { STATE_FORMAT, STATE_VERSION, encodeStateFile, parseStateFile } from "./state-file.js";

/** What loading the state file found. */
export type StateLoad =
  | { readonly kind: "missing" }
  | { readonly kind: "loaded"; readonly snapshot: DeskSnapshot; readonly apps: readonly string[]; readonly savedAt: number }
  | { readonly kind: "set-aside"; readonly reason: string; readonly movedTo: string };

/** A StateLoad without the snapshot itself. */
export type StateLoadSummary = Exclude<StateLoad, { kind: "loaded" }> | { readonly kind: "loaded"; readonly savedAt: number };

/** The state file as /api/config shows it. */
export interface StateStatus {
  readonly file: string;
  readonly load?: StateLoadSummary;
  readonly restore?: RestoreReport;
  readonly lastSavedAt?: number;
  readonly lastError?: string;
}

export interface StateStoreOptions {
  readonly file: string;
  readonly desk: TicketDesk;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Delay between a desk change and the save it causes (default 500 ms). */
  readonly debounceMs?: number;
}

export class StateStore {
  readonly #o: StateStoreOptions;
  readonly #debounceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #writing: Promise<void> = Promise.resolve();
  #status: { load?: StateLoadSummary; restore?: RestoreReport; lastSavedAt?: number; lastError?: string } = {};

  constructor(options: StateStoreOptions) {
    this.#o = options;
    this.#debounceMs = options.debounceMs ?? 500;
  }

  get file(): string {
    return this.#o.file;
  }

  status(): StateStatus {
    return { file: this.#o.file, ...this.#status };
  }

  /** Reads the state file. Bad content is set aside and reported, never thrown; I/O failures other than "missing" throw TP_IO. */
  async load(): Promise<StateLoad> {
    const { file, logger } = this.#o;
    const stale = await removeStaleTempFiles(file);
    if (stale.length > 0) logger.warn("removed temp files left by an interrupted state save", { file, temp: stale });
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return this.#remember({ kind: "missing" });
      throw new TicketplaneError(ERROR_CODES.IO, `cannot read state file ${file}`, { file }, { cause: err });
    }
    const parsed = parseStateFile(text);
    if (parsed.ok) {
      const { desk, apps, savedAt } = parsed.value;
      return this.#remember({ kind: "loaded", snapshot: desk, apps, savedAt });
    }
    const movedTo = `${file}.corrupt-${stamp(this.#o.clock.now())}`;
    await rename(file, movedTo);
    const error = new TicketplaneError(ERROR_CODES.STATE_CORRUPT, "state file is not ours; set aside, starting with an empty ledger", { file, movedTo, reason: parsed.reason });
    logger.error(error.message, error.toJSON());
    return this.#remember({ kind: "set-aside", reason: parsed.reason, movedTo });
  }

  /** Loads and restores into the desk. Call after the desk has its apps and pods. */
  async restore(): Promise<StateLoad> {
    const load = await this.load();
    if (load.kind !== "loaded") return load;
    const report = this.#o.desk.restore(load.snapshot);
    this.#status.restore = report;
    this.#o.logger.info("ledger restored from state file", { file: this.#o.file, tickets: report.restoredTickets, queue: report.restoredQueue, dropped: report.dropped.length, savedAt: new Date(load.savedAt).toISOString() });
    for (const d of report.dropped) this.#o.logger.warn("saved ticket not restored", { id: d.id, reason: d.reason });
    return load;
  }

  /** Saves on every desk change, debounced. */
  watch(): void {
    if (this.#unsubscribe !== undefined) return;
    this.#unsubscribe = this.#o.desk.subscribe(() => this.#schedule());
  }

  /** Stops watching and writes the current ledger once more (shutdown). */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.save();
  }

  /** Writes the current ledger now (after any write in progress). Rejects with TP_IO if the write fails. */
  save(): Promise<void> {
    const next = this.#writing.then(() => this.#write());
    // The chain itself must survive a failed write; the caller still sees the rejection.
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #write(): Promise<void> {
    const { desk, clock, file } = this.#o;
    const text = encodeStateFile({ format: STATE_FORMAT, version: STATE_VERSION, savedAt: clock.now(), apps: desk.apps().map((a) => appKey(a.namespace, a.name)), desk: desk.snapshot() });
    try {
      await writeFileAtomic(file, text);
      this.#status.lastSavedAt = clock.now();
      this.#status.lastError = undefined;
    } catch (err) {
      this.#status.lastError = errorMessage(err);
      throw err;
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.save().catch((err: unknown) => this.#o.logger.error("state save failed; will retry on the next change", { file: this.#o.file, error: errorMessage(err) }));
    }, this.#debounceMs);
    this.#timer.unref();
  }

  #remember(load: StateLoad): StateLoad {
    this.#status.load = load.kind === "loaded" ? { kind: "loaded", savedAt: load.savedAt } : load;
    return load;
  }
}

/** `20260101T000000123Z`: sortable, and safe in a file name on every platform. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, "");
}
