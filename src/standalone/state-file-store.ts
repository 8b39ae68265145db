/**
 * StateFileStore: standalone mode's ledger store, a JSON state file.
 *
 * The file is claimed with a lock (state-lock.ts) before it is read, so a
 * second instance started by mistake fails fast instead of overwriting the
 * first one's ledger. Saves are atomic (temp + fsync + rename). Loading
 * never throws on bad content: a corrupt, truncated or foreign file is
 * renamed aside (`<file>.corrupt-<timestamp>`) and reported.
 */
import { readFile, rename } from "node:fs/promises";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { AppKey } from "../config/app-spec.js";
import type { LedgerLoad, LedgerStore } from "../runtime/ports.js";
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
  readonly description: string;
  readonly #o: StateFileStoreOptions;
  readonly #lock: StateLock;

  constructor(options: StateFileStoreOptions) {
    this.#o = options;
    this.file = options.file;
    this.description = `state file ${options.file}`;
    this.#lock = new StateLock(options.file);
  }

  acquire(): Promise<void> {
    return this.#lock.acquire();
  }

  release(): Promise<void> {
    return this.#lock.release();
  }

  async load(): Promise<LedgerLoad> {
    const { file, logger } = this.#o;
    const stale = await removeStaleTempFiles(file);
    if (stale.length > 0) logger.warn("removed temp files left by an interrupted state save", { file, temp: stale });
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
      throw new TicketplaneError(ERROR_CODES.IO, `cannot read state file ${file}`, { file }, { cause: err });
    }
    const parsed = parseStateFile(text);
    if (parsed.ok) return { kind: "loaded", snapshot: parsed.value.ledger, savedAt: parsed.value.savedAt };
    const movedTo = `${file}.corrupt-${stamp(this.#o.clock.now())}`;
    await rename(file, movedTo);
    return { kind: "set-aside", reason: parsed.reason, movedTo };
  }

  save(snapshot: LedgerSnapshot, apps: readonly AppKey[]): Promise<void> {
    return writeFileAtomic(this.file, encodeStateFile({ format: STATE_FORMAT, version: STATE_VERSION, savedAt: this.#o.clock.now(), apps, ledger: snapshot }));
  }
}

/** `20260101T000000123Z`: sortable, and safe in a file name on every platform. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, "");
}
