/**
 * Polling for a condition in tests that touch real I/O (child processes,
 * sockets, files), always with a deadline: a test that waits forever fails by
 * name instead of stalling CI.
 */
export interface WaitOptions {
  /** Give up after this long (default 15 s). */
  readonly timeoutMs?: number;
  /** Poll interval (default 20 ms). */
  readonly intervalMs?: number;
  /** What was awaited, for the error message. */
  readonly what?: string | (() => string);
}

/** Resolves once `cond` is true; rejects after the deadline naming what was awaited. */
export async function waitFor(cond: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) {
      const what = typeof options.what === "function" ? options.what() : (options.what ?? "condition");
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
  }
}
