/**
 * An exclusive claim on a state file, held as a lock file next to it
 * (`<file>.lock`, created with O_EXCL) naming the process that holds it.
 * A lock left by a process that is gone (kill -9, a crash) is taken over;
 * a lock held by a live process is refused with a message naming it.
 */
import { hostname } from "node:os";
import { open, readFile, rm } from "node:fs/promises";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly command?: string;
}

export class StateLock {
  readonly file: string;
  readonly #lockFile: string;
  #held = false;

  constructor(stateFile: string) {
    this.file = stateFile;
    this.#lockFile = `${stateFile}.lock`;
  }

  get lockFile(): string {
    return this.#lockFile;
  }

  /** Takes the lock; rejects with TP_CONFLICT naming the live holder, or TP_IO. */
  async acquire(): Promise<void> {
    if (this.#held) return;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.#create()) {
        this.#held = true;
        return;
      }
      const holder = await this.#readHolder();
      if (holder !== undefined && !isGone(holder)) throw this.#conflict(holder);
      // A lock nobody holds any more (or an unreadable one, left half-written by a crash): take it over.
      await rm(this.#lockFile, { force: true });
    }
    throw new TicketplaneError(ERROR_CODES.CONFLICT, `cannot take the lock ${this.#lockFile}: another process keeps creating it`, { file: this.file, lock: this.#lockFile });
  }

  /** Gives the lock up if this process holds it. Idempotent. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    const holder = await this.#readHolder();
    if (holder?.pid === process.pid && holder.host === hostname()) await rm(this.#lockFile, { force: true });
  }

  /** True when created; false when the lock file exists. */
  async #create(): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.#lockFile, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw new TicketplaneError(ERROR_CODES.IO, `cannot create the lock ${this.#lockFile}`, { file: this.file, lock: this.#lockFile }, { cause: err });
    }
    try {
      const holder: Holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(1).join(" ").slice(0, 300) };
      await handle.writeFile(JSON.stringify(holder) + "\n");
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  }

  async #readHolder(): Promise<Holder | undefined> {
    let text: string;
    try {
      text = await readFile(this.#lockFile, "utf8");
    } catch {
      return undefined;
    }
    try {
      const raw = JSON.parse(text) as Partial<Holder>;
      if (typeof raw.pid !== "number" || typeof raw.host !== "string" || typeof raw.startedAt !== "string") return undefined;
      return { pid: raw.pid, host: raw.host, startedAt: raw.startedAt, ...(typeof raw.command === "string" ? { command: raw.command } : {}) };
    } catch {
      return undefined;
    }
  }

  #conflict(holder: Holder): TicketplaneError {
    const where = holder.host === hostname() ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.host}`;
    return new TicketplaneError(
      ERROR_CODES.CONFLICT,
      `state file ${this.file} is in use by ${where} (started ${holder.startedAt}${holder.command === undefined ? "" : `: ${holder.command}`}); ` +
        `stop that process, or give this one another state.file. If no such process runs, delete ${this.#lockFile}.`,
      { file: this.file, lock: this.#lockFile, pid: holder.pid, host: holder.host },
    );
  }
}

/**
 * A holder on this host whose process no longer exists. (On another host we
 * cannot tell: it holds.) Our own pid in a lock we did not take is an earlier
 * incarnation of this process (in a container every start is pid 1): gone.
 */
function isGone(holder: Holder): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
