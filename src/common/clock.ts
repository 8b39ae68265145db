/**
 * Time through a port: wall-clock time and timers. Passed in, never imported
 * as a singleton, so every timing rule (debounce, sweep, ACK wait, lease) can
 * be tested on a fake clock instead of real time.
 */

/** A scheduled callback; `cancel` is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Calls `fn` every `ms` until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
}

/**
 * The real clock. Its timers never keep the process alive on their own
 * (they are unref'd): the servers and sockets do, and shutdown must not wait
 * for a debounce or a sweep.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};
