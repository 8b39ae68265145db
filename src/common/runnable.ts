/**
 * A long-running part of the process (a server, a watcher, a sweeper).
 *
 * Contract: `start` resolves once the part is serving (e.g. its port is
 * bound) and rejects if it cannot start; `signal` only cancels a start still
 * in progress (a long wait for a peer). Stopping is the owner's job, never
 * the part's own: the RunnableManager (src/runtime/manager.ts) calls `stop`
 * in reverse start order. `stop` is idempotent — every call returns a promise
 * that settles only once every resource (sockets, timers, streams) is
 * released — and is safe to call on a part that never started.
 */
export interface Runnable {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** Wraps a stop function so that every call shares the first call's promise. */
export function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
