/**
 * A deadline for one API call, on the Clock. client-node's generated calls
 * have no timeout of their own: a call to a server that stalls would hang
 * a lease renewal or a ledger write forever. The deadline aborts the
 * request's fetch through the request context's signal; a timer on the
 * Clock (not real time) fires it, so fake-clock tests drive it too.
 */
import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext, type ResponseContext } from "@kubernetes/client-node";
import type { Clock } from "../common/clock.js";

/** The per-call options of client-node's generated API methods. */
export type CallOptions = ConfigurationOptions<ObservableMiddleware>;

export interface CallDeadline {
  /** Options for one generated API call (merged after any others the call has). */
  readonly options: ConfigurationOptions<ObservableMiddleware>;
  /** Aborted when the deadline passes. */
  readonly signal: AbortSignal;
  /** Clears the timer; call when the call settled. Idempotent. */
  cancel(): void;
}

/** Aborts the call `ms` from now on `clock`. `extra` middleware (e.g. a Content-Type header) runs too. */
export function callDeadline(clock: Clock, ms: number, extra: ConfigurationOptions<ObservableMiddleware> = {}): CallDeadline {
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(new Error(`no answer within ${ms} ms`)), ms);
  const deadline: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(controller.signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  return {
    options: { ...extra, middleware: [...(extra.middleware ?? []), deadline], middlewareMergeStrategy: "append" },
    signal: controller.signal,
    cancel: () => timer.cancel(),
  };
}

/** Runs `call` with a deadline of `ms`, clearing the timer however it ends. */
export async function withDeadline<T>(clock: Clock, ms: number, call: (options: ConfigurationOptions<ObservableMiddleware>) => Promise<T>, extra?: ConfigurationOptions<ObservableMiddleware>): Promise<T> {
  const d = callDeadline(clock, ms, extra);
  try {
    return await call(d.options);
  } finally {
    d.cancel();
  }
}
