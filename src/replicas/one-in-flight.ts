/**
 * At most one send per key in flight (an owner's address, an app): the rule
 * the peer API's batches and signals share. A key's send is tracked until it
 * settles; `drain` waits for every one (stop).
 */
export class OneInFlight<K> {
  readonly #sends = new Map<K, Promise<void>>();

  /** The send for `key` still in flight, if any. */
  get(key: K): Promise<void> | undefined {
    return this.#sends.get(key);
  }

  has(key: K): boolean {
    return this.#sends.has(key);
  }

  /** Tracks `send` as `key`'s until it settles; then forgets it and runs `settled`. Returns the tracked promise. */
  track(key: K, send: Promise<void>, settled?: () => void): Promise<void> {
    const tracked = send.finally(() => {
      this.#sends.delete(key);
      settled?.();
    });
    this.#sends.set(key, tracked);
    return tracked;
  }

  /** Resolves once every send in flight now has settled. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#sends.values()]);
  }
}
