/**
 * StateFileStore: standalone mode's ledger store, a JSON state file (the
 * snapshot) and a journal next to it (`<file>.journal`, one JSON record a
 * line) of what changed since.
 *
 * The files are claimed with a lock (state-lock.ts) before they are read, so
 * a second instance started by mistake fails fast instead of overwriting the
 * first one's ledger. Appends are fdatasync'ed; snapshots are atomic (temp +
 * fsync + rename), and the journal is emptied after one. Loading never
 * throws on bad content: a corrupt, truncated or foreign state file is
 * renamed aside (`<file>.corrupt-<timestamp>`) and reported; a journal line
 * that does not parse (the last one, cut by a crash) is skipped.
 */
import { open, readFile, rename, truncate, type FileHandle } from "node:fs/promises";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { AppKey } from "../config/app-spec.js";
import type { LedgerLoad, LedgerStore } from "../runtime/ports.js";
import { replayJournal, type LedgerRecord } from "../tickets/ledger-journal.js";
import type { LedgerSnapshot } from "../tickets/types.js";
import { removeStaleTempFiles, writeFileAtomic } from "./atomic-write.js";
import { STATE_FORMAT, STATE_VERSION, encodeStateFile, parseStateFile } from "./state-file.js";
import { StateLock } from "./state-lock.js";

export interface StateFileStoreOptions {
  readonly file: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class StateFileStore implements LedgerStore {
  readonly file: string;
  readonly journalFile: string;
  readonly description: string;
  readonly #o: StateFileStoreOptions;
  readonly #lock: StateLock;
  #journal: FileHandle | undefined;

  constructor(options: StateFileStoreOptions) {
    this.#o = options;
    this.file = options.file;
    this.journalFile = `${options.file}.journal`;
    this.description = `state file ${options.file}`;
    this.#lock = new StateLock(options.file);
  }

  acquire(): Promise<void> {
    return this.#lock.acquire();
  }

  async release(): Promise<void> {
    await this.#journal?.close();
    this.#journal = undefined;
    await this.#lock.release();
  }

  async load(): Promise<LedgerLoad> {
    const { file, logger } = this.#o;
    const stale = await removeStaleTempFiles(file);
    if (stale.length > 0) logger.warn("removed temp files left by an interrupted state save", { file, temp: stale });
    const text = await readIfThere(file);
    const records = await this.#readJournal();
    if (text === undefined) return records.length === 0 ? { kind: "missing" } : { kind: "loaded", snapshot: replayJournal(undefined, records), savedAt: 0 };
    const parsed = parseStateFile(text);
    if (parsed.ok) return { kind: "loaded", snapshot: replayJournal(parsed.value.ledger, records), savedAt: parsed.value.savedAt };
    const movedTo = `${file}.corrupt-${stamp(this.#o.clock.now())}`;
    await rename(file, movedTo);
    return { kind: "set-aside", reason: parsed.reason, movedTo };
  }

  async append(records: readonly LedgerRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      this.#journal ??= await open(this.journalFile, "a", 0o600);
      await this.#journal.appendFile(records.map((r) => JSON.stringify(r)).join("\n") + "\n");
      await this.#journal.datasync();
    } catch (err) {
      throw new TicketplaneError(ERROR_CODES.IO, `cannot append to ${this.journalFile}`, { file: this.journalFile }, { cause: err });
    }
  }

  async save(snapshot: LedgerSnapshot, apps: readonly AppKey[]): Promise<void> {
    await writeFileAtomic(this.file, encodeStateFile({ format: STATE_FORMAT, version: STATE_VERSION, savedAt: this.#o.clock.now(), apps, ledger: snapshot }));
    // The snapshot holds everything the journal did: empty it (a crash before this only means replaying what is already there).
    try {
      if (this.#journal !== undefined) await this.#journal.truncate(0);
      else await truncate(this.journalFile, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new TicketplaneError(ERROR_CODES.IO, `cannot empty ${this.journalFile}`, { file: this.journalFile }, { cause: err });
    }
  }

  /** The journal's records; a line that does not parse (cut by a crash) is skipped and reported. */
  async #readJournal(): Promise<unknown[]> {
    const text = await readIfThere(this.journalFile);
    if (text === undefined) return [];
    const records: unknown[] = [];
    let skipped = 0;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        skipped++;
      }
    }
    if (skipped > 0) this.#o.logger.warn("skipped journal lines that do not parse (an append cut short by a crash)", { file: this.journalFile, skipped });
    return records;
  }
}

/** A file's text, or undefined when it does not exist; other I/O failures throw TP_IO. */
async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TicketplaneError(ERROR_CODES.IO, `cannot read ${file}`, { file }, { cause: err });
  }
}

/** `20260101T000000123Z`: sortable, and safe in a file name on every platform. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, "");
}
