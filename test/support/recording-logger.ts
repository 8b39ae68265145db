/**
 * A Logger that keeps every line (with the fields of its children), for
 * tests that assert what was logged.
 */
import type { LogFields, Logger } from "../../src/common/logger.js";

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly message: string;
  readonly fields: LogFields;
}

export class RecordingLogger implements Logger {
  readonly lines: LogLine[];
  readonly #base: LogFields;

  constructor(lines: LogLine[] = [], base: LogFields = {}) {
    this.lines = lines;
    this.#base = base;
  }

  debug(message: string, fields?: LogFields): void {
    this.#add("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.#add("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.#add("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.#add("error", message, fields);
  }
  child(fields: LogFields): Logger {
    return new RecordingLogger(this.lines, { ...this.#base, ...fields });
  }

  /** Lines at `level` (all levels when omitted). */
  at(level?: LogLine["level"]): LogLine[] {
    return level === undefined ? this.lines : this.lines.filter((l) => l.level === level);
  }

  #add(level: LogLine["level"], message: string, fields: LogFields | undefined): void {
    this.lines.push({ level, message, fields: { ...this.#base, ...fields } });
  }
}
