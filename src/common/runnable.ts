/**
 * A long-running part of the process (a server, a watcher, a sweeper).
 *
 * Contract: `start` resolves once the part is serving (e.g. its port is bound)
 * and rejects if it cannot start. Aborting `signal` or calling `stop` ends it;
 * `stop` is idempotent and resolves once every resource (sockets, timers,
 * streams) is released. Parts are started by app.ts in a fixed order and
 * stopped in reverse.
 */
export interface Runnable {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}
