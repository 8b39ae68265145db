/**
 * Waiting for state another party owns (a child process, a socket peer, a
 * server's status, a file), always with a deadline: a test that would wait
 * forever fails by name instead of stalling CI. The deadline only bounds a
 * hang; it is never a timing assertion.
 */
export interface WaitOptions {
  /** Give up after this long (default 15 s). */
  readonly timeoutMs?: number;
  /** Poll interval (default 5 ms). */
  readonly intervalMs?: number;
  /** What was awaited, for the error message. */
  readonly what?: string | (() => string);
}

/** Resolves with the first value `probe` returns that is not undefined or false; rejects after the deadline naming what was awaited. */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const what = typeof options.what === "function" ? options.what() : (options.what ?? "a condition");
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 5));
  }
}

/** Resolves once `cond` is true; rejects after the deadline naming what was awaited. */
export async function waitFor(cond: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  await eventually(async () => (await cond()) || undefined, options);
}
