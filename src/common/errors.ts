/**
 * The one error family. Every error that crosses a module edge is a
 * TicketplaneError with a code from this closed set, the context it happened
 * in (app, pod, field, …) and the original error as `cause`.
 * docs/errors.md lists every code; a test keeps the two in step.
 */
export const ERROR_CODES = {
  INVALID_CONFIG: "TP_INVALID_CONFIG",
  INVALID_ARGUMENT: "TP_INVALID_ARGUMENT",
  NOT_FOUND: "TP_NOT_FOUND",
  CONFLICT: "TP_CONFLICT",
  GONE: "TP_GONE",
  UNAVAILABLE: "TP_UNAVAILABLE",
  STATE_CORRUPT: "TP_STATE_CORRUPT",
  IO: "TP_IO",
  INTERNAL: "TP_INTERNAL",
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Where an error happened: app, pod, field, file, address … (strings and numbers only, so it logs as JSON). */
export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

export class TicketplaneError extends Error {
  override readonly name = "TicketplaneError";
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.context = context;
  }

  /** A plain object for structured logs and JSON APIs. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.context };
  }
}

/** Wraps anything thrown into a TicketplaneError, keeping the original as `cause`. */
export function toTicketplaneError(err: unknown, code: ErrorCode = ERROR_CODES.INTERNAL, context: ErrorContext = {}): TicketplaneError {
  if (err instanceof TicketplaneError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TicketplaneError(code, message, context, { cause: err });
}

/** The message of anything thrown, for log lines. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
