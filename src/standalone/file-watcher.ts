/**
 * Watches one file and reports its content when it changes.
 *
 * Editors save in different ways (write in place, or write a new file and
 * rename it over the old one), so the watch is on the directory, filtered by
 * name, which survives a rename-replace; a slow stat poll backs it up where
 * fs.watch misses events (network file systems, some containers). Events are
 * debounced, and `onContent` is called only when the bytes differ from the
 * last content reported (or when `reload()` forces it, e.g. on SIGHUP).
 * Calls to `onContent` never overlap.
 */
import { createHash } from "node:crypto";
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { errorMessage } from "../common/errors.js";
import type { Clock, Timer } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";

/** What the watcher read: the text, or why it could not read it. */
export type FileRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

export interface FileWatcherOptions {
  readonly file: string;
  /** Debounce and poll timers. */
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with the file's new content; awaited before the next call. */
  readonly onContent: (read: FileRead) => void | Promise<void>;
  /** Quiet time after the last event before the file is read (default 200 ms). */
  readonly debounceMs?: number;
  /** Stat poll interval, the fallback for missed events (default 2 s; 0 turns it off). */
  readonly pollMs?: number;
  /** Use fs.watch events (default true); false leaves only the poll (tests of the fallback). */
  readonly watchEvents?: boolean;
  /** The content already in force at start (its hash is the baseline), so an unchanged file is not re-applied. */
  readonly initialText?: string;
}

export class FileWatcher implements Runnable {
  readonly name = "file-watcher";
  readonly #o: FileWatcherOptions;
  #watcher: FSWatcher | undefined;
  #poll: Timer | undefined;
  #debounce: Timer | undefined;
  #lastHash: string | undefined;
  #lastStat = "";
  #running: Promise<void> = Promise.resolve();
  #stopped = true;

  constructor(options: FileWatcherOptions) {
    this.#o = options;
    if (options.initialText !== undefined) this.#lastHash = hash(options.initialText);
  }

  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#lastStat = await statKey(this.#o.file);
    if (this.#o.watchEvents !== false) this.#watchDirectory();
    const pollMs = this.#o.pollMs ?? 2_000;
    if (pollMs > 0) this.#poll = this.#o.clock.setInterval(() => void this.#checkStat(), pollMs);
  }

  #watchDirectory(): void {
    const { file, logger } = this.#o;
    const name = basename(file);
    try {
      this.#watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.#schedule();
      });
    } catch (err) {
      logger.warn("cannot watch the config directory; relying on polling", { file, error: errorMessage(err) });
      return;
    }
    this.#watcher.on("error", (err) => {
      // The directory went away or the watch broke: the poll keeps going.
      logger.warn("config directory watch failed; relying on polling", { file, error: errorMessage(err) });
      this.#watcher?.close();
      this.#watcher = undefined;
    });
  }

  /** Reads the file now and reports it even if unchanged (SIGHUP). Resolves once it has been handled. */
  reload(): Promise<void> {
    return this.#enqueue(true);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#poll?.cancel();
    this.#debounce?.cancel();
    this.#poll = undefined;
    this.#debounce = undefined;
    await this.#running;
  }

  async #checkStat(): Promise<void> {
    const key = await statKey(this.#o.file);
    if (key !== this.#lastStat) {
      this.#lastStat = key;
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#debounce?.cancel();
    this.#debounce = this.#o.clock.setTimeout(() => {
      this.#debounce = undefined;
      void this.#enqueue(false);
    }, this.#o.debounceMs ?? 200);
  }

  #enqueue(force: boolean): Promise<void> {
    const next = this.#running.then(() => this.#readAndReport(force));
    this.#running = next;
    return next;
  }

  async #readAndReport(force: boolean): Promise<void> {
    const { file, logger, onContent } = this.#o;
    let read: FileRead;
    try {
      read = { ok: true, text: await readFile(file, "utf8") };
    } catch (err) {
      // Mid rename-replace the file can be missing for a moment; the next event or poll reads it again.
      read = { ok: false, error: `cannot read ${file}: ${errorMessage(err)}` };
    }
    this.#lastStat = await statKey(file);
    const h = read.ok ? hash(read.text) : `error:${read.error}`;
    if (!force && h === this.#lastHash) return;
    this.#lastHash = h;
    try {
      await onContent(read);
    } catch (err) {
      logger.error("applying the config file failed", { file, error: errorMessage(err) });
    }
  }
}

function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Changes whenever the file is rewritten or replaced; "missing" when it is not there. */
async function statKey(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
  }
}
