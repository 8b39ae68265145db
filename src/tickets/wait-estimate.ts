/**
 * How long a waiting user will probably wait, from the rate at which the
 * app's slots were freed lately. Pure: the caller records each release's
 * time and asks with its own clock's now.
 *
 * The rate is `releases / (now − oldest release kept)`, over the last
 * `capacity` releases no older than `windowMs`: when releases stop, the
 * estimate grows with the silence instead of keeping a stale rate. Fewer
 * than `minReleases` releases in the window is too little to tell: the
 * estimate is undefined ("unknown"), never a made-up number.
 */
export interface ReleaseHistoryOptions {
  /** Releases kept (default 32). */
  readonly capacity?: number;
  /** Releases older than this are forgotten (default 10 minutes). */
  readonly windowMs?: number;
  /** Releases needed before an estimate is given (default 2). */
  readonly minReleases?: number;
}

const DEFAULT_CAPACITY = 32;
const DEFAULT_WINDOW_MS = 10 * 60_000;
const DEFAULT_MIN_RELEASES = 2;

/** One app's recent slot releases: a bounded ring of their times (ms). */
export class ReleaseHistory {
  readonly #times: number[] = [];
  readonly #capacity: number;
  readonly #windowMs: number;
  readonly #minReleases: number;

  constructor(options: ReleaseHistoryOptions = {}) {
    this.#capacity = Math.max(1, options.capacity ?? DEFAULT_CAPACITY);
    this.#windowMs = Math.max(1, options.windowMs ?? DEFAULT_WINDOW_MS);
    this.#minReleases = Math.max(1, options.minReleases ?? DEFAULT_MIN_RELEASES);
  }

  /** A slot was freed at `at`. Times are expected in order; an older one is kept in order anyway. */
  record(at: number): void {
    let i = this.#times.length;
    while (i > 0 && (this.#times[i - 1] ?? 0) > at) i--;
    this.#times.splice(i, 0, at);
    if (this.#times.length > this.#capacity) this.#times.shift();
  }

  /** Releases kept within the window at `now`. */
  recent(now: number): number {
    return this.#times.filter((t) => t <= now && now - t <= this.#windowMs).length;
  }

  /** Slots freed per millisecond lately, or undefined when there is too little history. */
  ratePerMs(now: number): number | undefined {
    const recent = this.#times.filter((t) => t <= now && now - t <= this.#windowMs);
    const oldest = recent[0];
    if (oldest === undefined || recent.length < this.#minReleases || now <= oldest) return undefined;
    return recent.length / (now - oldest);
  }

  /**
   * The estimated wait of the user at `position` (1-based): the time for
   * `position` more slots to be freed at the recent rate, in ms (rounded up
   * to a second), or undefined when it cannot be told.
   */
  estimateWaitMs(position: number, now: number): number | undefined {
    const rate = this.ratePerMs(now);
    if (rate === undefined || !(position >= 1)) return undefined;
    return Math.ceil(position / rate / 1000) * 1000;
  }
}
