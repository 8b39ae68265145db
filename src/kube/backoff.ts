/**
 * Exponential backoff with jitter for retrying calls to the API server:
 * the n-th consecutive failure waits base·2ⁿ⁻¹ (capped), of which the upper
 * half is random, so replicas that failed together do not retry together. A
 * wait the server asked for (Retry-After) is honoured when it is longer.
 */
export interface BackoffOptions {
  /** First wait (default 500 ms). */
  readonly baseMs?: number;
  /** Longest wait (default 30 s). */
  readonly maxMs?: number;
  /** Uniform in [0, 1) (tests pin it). */
  readonly random?: () => number;
}

export class Backoff {
  readonly #base: number;
  readonly #max: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseMs ?? 500;
    this.#max = options.maxMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Records a failure and returns how long to wait before the next try. */
  next(retryAfterMs?: number): number {
    this.#failures++;
    const ceiling = Math.min(this.#max, this.#base * 2 ** Math.min(this.#failures - 1, 30));
    const jittered = ceiling / 2 + (ceiling / 2) * this.#random();
    return Math.max(Math.round(jittered), Math.min(retryAfterMs ?? 0, this.#max * 4));
  }

  /** A success: the next failure starts from the base again. */
  reset(): void {
    this.#failures = 0;
  }
}
