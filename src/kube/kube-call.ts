/**
 * One API call of the reconciler's adapters: a deadline on the Clock, and
 * any failure as a TicketplaneError (toKubeError) carrying what was being
 * done, so the work queue's retry log names the app and the object.
 */
import type { Clock } from "../common/clock.js";
import type { ErrorContext } from "../common/errors.js";
import { withDeadline, type CallOptions } from "./call-deadline.js";
import { toKubeError } from "./errors.js";

export interface CallSettings {
  readonly clock: Clock;
  readonly timeoutMs: number;
}

/** Runs `call` with the deadline; rejects with toKubeError(err, context). */
export async function kubeCall<T>(settings: CallSettings, context: ErrorContext, call: (options: CallOptions) => Promise<T>, extra?: CallOptions): Promise<T> {
  try {
    return await withDeadline(settings.clock, settings.timeoutMs, call, extra);
  } catch (err) {
    throw toKubeError(err, context);
  }
}
