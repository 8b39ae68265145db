/**
 * The wait before a gateway stream (ADS, access logs) is opened again: doubles
 * from `baseMs` up to `maxMs` per consecutive failure, back to `baseMs` once a
 * stream works. No jitter: one dev gateway per control plane.
 */
export class RetryDelay {
  readonly #base: number;
  readonly #max: number;
  #next: number;

  constructor(baseMs = 250, maxMs = 5_000) {
    this.#base = baseMs;
    this.#max = maxMs;
    this.#next = baseMs;
  }

  /** The wait for this failure; the next one waits twice as long (capped). */
  take(): number {
    const wait = this.#next;
    this.#next = Math.min(this.#max, this.#next * 2);
    return wait;
  }

  reset(): void {
    this.#next = this.#base;
  }
}
