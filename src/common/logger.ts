import winston from "winston";

export type LogFields = Readonly<Record<string, unknown>>;

/** Structured logging port. Passed in; `child` adds fields to every line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  /**
   * Whether a line at `level` would be written, so a hot path (Check's
   * issue lines) can skip building its fields. Absent: every level is on.
   */
  isLevelEnabled?(level: LogLevel): boolean;
}

export type LogFormat = "json" | "pretty";
export type LogLevel = "error" | "warn" | "info" | "debug";

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  /** Where lines go; stderr by default so stdout stays for the "listening" lines scripts read. */
  stream?: NodeJS.WritableStream;
}

/** A winston-backed Logger: JSON lines in production, readable lines in development. */
export function createLogger(options: LoggerOptions): Logger {
  const format =
    options.format === "json"
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: "HH:mm:ss.SSS" }),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const extra = Object.keys(rest).length > 0 ? " " + JSON.stringify(rest) : "";
            return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${extra}`;
          }),
        );
  const transport = new winston.transports.Stream({ stream: options.stream ?? process.stderr });
  return wrap(winston.createLogger({ level: options.level, format, transports: [transport] }));
}

const LEVELS: readonly LogLevel[] = ["error", "warn", "info", "debug"];
const drop = (): void => undefined;

/**
 * The level is fixed when the logger is made, so a line below it is dropped
 * here: winston would otherwise build its record and push it through its
 * stream before filtering it out (several microseconds a line).
 */
function wrap(w: winston.Logger): Logger {
  const on = new Map(LEVELS.map((level) => [level, w.isLevelEnabled(level)]));
  return {
    debug: on.get("debug") === true ? (m, f) => w.debug(m, f) : drop,
    info: on.get("info") === true ? (m, f) => w.info(m, f) : drop,
    warn: on.get("warn") === true ? (m, f) => w.warn(m, f) : drop,
    error: on.get("error") === true ? (m, f) => w.error(m, f) : drop,
    child: (fields) => wrap(w.child(fields)),
    isLevelEnabled: (level) => on.get(level) === true,
  };
}

/** A Logger that drops everything (for benches and quiet tools). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};
