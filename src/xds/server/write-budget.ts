/**
 * The bytes of ADS responses one server has written and the transport has
 * not taken yet, across all its streams, and the streams waiting for room.
 *
 * Why: each stream bounds its own bytes in flight, but a first sync of many
 * gateways at once would still have every stream's first large response
 * (the whole cluster list) in memory together — a thousand gateways times
 * a few hundred kilobytes — and the process keeps that high-water mark as
 * RSS. With a shared budget the syncs proceed in waves: at most `limit`
 * bytes (plus the one response that crosses it) are waiting for sockets.
 *
 * A stream may start a write while the total is below `limit`; otherwise it
 * queues a wake-up and is called, in the order it queued, once releases
 * bring the total below the limit again. A gateway that stops reading holds
 * at most its own per-stream share (AdsLimits.maxBytesInFlight, or the one
 * response it was sent) until it reads or goes away, so a budget many times
 * that size keeps serving the others.
 *
 * Single-threaded (the event loop): wake-ups run synchronously inside
 * `release`.
 */
export class WriteBudget {
  #inFlight = 0;
  /** Wake-ups in the order they queued (a Set keeps insertion order and makes queueing idempotent). */
  readonly #waiting = new Set<() => void>();

  constructor(readonly limit: number) {}

  /** Bytes written and not yet taken, every stream together. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Streams waiting for room. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** True when a write may start now; otherwise `wake` is queued (once) and called when there is room. */
  hasRoom(wake: () => void): boolean {
    if (this.#inFlight < this.limit) return true;
    this.#waiting.add(wake);
    return false;
  }

  /** A write of `bytes` started. */
  take(bytes: number): void {
    this.#inFlight += bytes;
  }

  /** A write of `bytes` was taken by the transport (or failed): wakes waiting streams, in order, while there is room. */
  release(bytes: number): void {
    this.#inFlight -= bytes;
    // Every write's completion passes here: nothing waiting is the common case (no iterator).
    if (this.#waiting.size === 0) return;
    for (const wake of this.#waiting) {
      if (this.#inFlight >= this.limit) return;
      this.#waiting.delete(wake);
      wake();
    }
  }

  /** Drops a queued wake-up (the stream closed). */
  forget(wake: () => void): void {
    this.#waiting.delete(wake);
  }
}
