/**
 * A keyed work queue that owns retries, as controller-runtime's does: a key
 * is queued at most once however often it is added; a key added while it
 * is being processed runs once more afterwards (never twice at once);
 * failures back off exponentially per key with jitter (and at least as long
 * as a server's Retry-After); a success forgets the failures; a key may ask
 * to run again after a delay. Delays run on the Clock port. One key is
 * processed at a time, so one app never has two reconciles in flight.
 */
import type { Clock, Timer } from "../common/clock.js";
import { TicketplaneError } from "../common/errors.js";

export interface WorkResult {
  /** Run this key again after this long (a cooldown, a window). */
  readonly requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  readonly clock: Clock;
  /** Processes one key. Rejecting means "retry with backoff". */
  readonly process: (key: string) => Promise<WorkResult>;
  /** First retry delay (default 500 ms), doubled per failure up to `maxDelayMs` (default 5 min). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Relative jitter, 0–1 (default 0.2: ±20 %). */
  readonly jitter?: number;
  /** [0, 1) (default Math.random); tests pass a fixed one. */
  readonly random?: () => number;
  /** Told about each failure and the delay chosen. */
  readonly onRetry?: (key: string, error: unknown, delayMs: number, failures: number) => void;
}

export class WorkQueue {
  readonly #o: Required<Omit<WorkQueueOptions, "onRetry">> & Pick<WorkQueueOptions, "onRetry">;
  readonly #ready: string[] = [];
  readonly #queued = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #delayed = new Map<string, { readonly at: number; readonly timer: Timer }>();
  readonly #failures = new Map<string, number>();
  #processing: string | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: WorkQueueOptions) {
    this.#o = { baseDelayMs: 500, maxDelayMs: 300_000, jitter: 0.2, random: Math.random, ...options };
  }

  /** Queues `key` now (no-op if already queued; once more after the run in progress). */
  add(key: string): void {
    if (this.#stopped) return;
    this.#cancelDelayed(key);
    if (this.#processing === key) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#ready.push(key);
    this.#kick();
  }

  /** Queues `key` after `ms`; an earlier pending delay for it wins. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.#o.clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.#o.clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, timer });
  }

  /** Failures counted for `key` since its last success. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys waiting now (not delayed, not in progress). */
  get depth(): number {
    return this.#ready.length;
  }

  /** Drops every queued and delayed key and takes no more; resolves once the run in progress ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const key of [...this.#delayed.keys()]) this.#cancelDelayed(key);
    this.#ready.length = 0;
    this.#queued.clear();
    this.#dirty.clear();
    await this.#running;
  }

  /** Resolves when nothing is queued or in progress (delayed keys may remain). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  #cancelDelayed(key: string): void {
    this.#delayed.get(key)?.timer.cancel();
    this.#delayed.delete(key);
  }

  #kick(): void {
    this.#running ??= Promise.resolve()
      .then(() => this.#drain())
      .finally(() => {
        this.#running = undefined;
        if (this.#ready.length > 0 && !this.#stopped) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    for (let key = this.#ready.shift(); key !== undefined && !this.#stopped; key = this.#ready.shift()) {
      this.#queued.delete(key);
      this.#processing = key;
      try {
        const result = await this.#o.process(key);
        this.#failures.delete(key);
        if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        this.#retry(key, err);
      } finally {
        this.#processing = undefined;
      }
      if (this.#dirty.delete(key)) this.add(key);
    }
  }

  #retry(key: string, err: unknown): void {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const exp = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** Math.min(30, failures - 1));
    const jittered = Math.round(exp * (1 + this.#o.jitter * (2 * this.#o.random() - 1)));
    const delay = Math.max(1, jittered, retryAfterOf(err) ?? 0);
    this.#o.onRetry?.(key, err, delay, failures);
    // A failure is retried after its backoff, not at once, even if the key was added meanwhile.
    this.#dirty.delete(key);
    this.addAfter(key, delay);
  }
}

/** A server's Retry-After carried in a TicketplaneError's context (`retryAfterMs`). */
function retryAfterOf(err: unknown): number | undefined {
  const v = err instanceof TicketplaneError ? err.context.retryAfterMs : undefined;
  return typeof v === "number" && v > 0 ? v : undefined;
}
