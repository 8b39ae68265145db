/**
 * Typed reads of single fields with their rules. Each read reports a
 * SpecError (path, value found, rule broken) to the sink and returns
 * undefined when the value is absent or breaks its rule, so callers can
 * write `r.int(...) ?? DEFAULT` and still end with every error collected.
 */
import type { SpecError } from "./app-spec.js";
import type { Bound } from "./bounds.js";
import { countBoundText, durationBoundText, numberBoundText } from "./bounds.js";
import { parseDuration } from "./duration.js";
import { ErrorSink, isRecord, joinPath, typeName } from "./spec-errors.js";
import { unknownFieldRule } from "./suggest.js";

/** Maps a field's dotted name in the spec shape ("maxPods", "ticket.idleTimeout") to the path users see. */
export type PathOf = (field: string) => string;

/** The default mapping: fields sit under `base` in the same camelCase shape. */
export function pathUnder(base: string): PathOf {
  return (field) => field.split(".").reduce<string>((path, key) => joinPath(path, /^\d+$/.test(key) ? Number(key) : key), base);
}

export interface IntRule {
  readonly min: number;
  /**
   * A number: a range by nature (ports, percentages), which is the rule
   * ("must be an integer 1–65535"). A Bound: a limit with its reason; below
   * `min` the rule is "must be an integer ≥ 1", above the bound "must be ≤ 1000 (why)".
   */
  readonly max: number | Bound;
}

/** A number that may have a fraction: above (exclusive) or at least (inclusive) a floor, at most a bound. */
export interface NumberRule {
  readonly above?: number;
  readonly atLeast?: number;
  readonly max: Bound;
}

export interface DurationRule {
  /** Demand > 0 ("must be a duration greater than zero"); otherwise 0 is accepted. */
  readonly positive?: boolean;
  /** A lower bound with its reason ("must be ≥ 5s (why)"). */
  readonly atLeast?: Bound;
  /** Every duration has an upper bound ("must be ≤ 720h (why)"). */
  readonly max: Bound;
}

export class FieldReader {
  readonly sink: ErrorSink;
  readonly pathOf: PathOf;
  /** Kubernetes annotations are strings: accept "3" where an integer is due. */
  private readonly numbersFromStrings: boolean;

  constructor(pathOf: PathOf, numbersFromStrings = false, sink: ErrorSink = new ErrorSink()) {
    this.pathOf = pathOf;
    this.numbersFromStrings = numbersFromStrings;
    this.sink = sink;
  }

  get errors(): readonly SpecError[] {
    return this.sink.errors;
  }

  fail(field: string, value: unknown, rule: string): undefined {
    this.sink.add(this.pathOf(field), value, rule);
    return undefined;
  }

  /** Whether `field` broke a rule (so that no rule across fields is checked against the default standing in for it). */
  failed(field: string): boolean {
    const path = this.pathOf(field);
    return this.errors.some((e) => e.path === path);
  }

  /** Reports every key of `object` not in `known` as an unknown field, suggesting the closest known name. */
  checkUnknown(object: Readonly<Record<string, unknown>>, prefix: string, known: readonly string[], notHere: Readonly<Record<string, string>> = {}): void {
    for (const key of Object.keys(object)) {
      if (known.includes(key)) continue;
      this.fail(prefix === "" ? key : `${prefix}.${key}`, object[key], Object.hasOwn(notHere, key) ? `${notHere[key]}` : unknownFieldRule(key, known));
    }
  }

  /** A nested mapping (absent → undefined, no error) whose keys must all be known. */
  section(field: string, value: unknown, known: readonly string[]): Readonly<Record<string, unknown>> | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) return this.fail(field, value, `must be a mapping, not ${typeName(value)}`);
    this.checkUnknown(value, field, known);
    return value;
  }

  int(field: string, value: unknown, rule: IntRule): number | undefined {
    if (value === undefined || value === null) return undefined;
    const n = this.integer(value);
    if (typeof rule.max === "number") {
      return n !== undefined && n >= rule.min && n <= rule.max ? n : this.fail(field, value, `must be an integer ${rule.min}–${rule.max}`);
    }
    if (n === undefined || n < rule.min) return this.fail(field, value, `must be an integer ≥ ${rule.min}`);
    return n <= rule.max.value ? n : this.fail(field, value, `must be ${countBoundText(rule.max)}`);
  }

  /** A finite number (YAML number; in annotations a decimal string too), within the rule's bounds. */
  number(field: string, value: unknown, rule: NumberRule): number | undefined {
    if (value === undefined || value === null) return undefined;
    let n: number | undefined;
    if (typeof value === "number") n = value;
    else if (this.numbersFromStrings && typeof value === "string" && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value.trim())) n = Number(value.trim());
    if (n === undefined || !Number.isFinite(n)) return this.fail(field, value, "must be a number");
    if (rule.above !== undefined && n <= rule.above) return this.fail(field, value, `must be a number > ${rule.above}`);
    if (rule.atLeast !== undefined && n < rule.atLeast) return this.fail(field, value, `must be a number ≥ ${rule.atLeast}`);
    return n <= rule.max.value ? n : this.fail(field, value, `must be ${numberBoundText(rule.max)}`);
  }

  /** A duration in ms, within the rule's bounds. */
  duration(field: string, value: unknown, rule: DurationRule): number | undefined {
    if (value === undefined || value === null) return undefined;
    const parsed = parseDuration(value);
    if (!parsed.ok) return this.fail(field, value, parsed.rule);
    if (rule.positive === true && parsed.ms === 0) return this.fail(field, value, "must be a duration greater than zero");
    if (rule.atLeast !== undefined && parsed.ms < rule.atLeast.value) return this.fail(field, value, `must be ${durationBoundText(rule.atLeast, "≥")}`);
    if (parsed.ms > rule.max.value) return this.fail(field, value, `must be ${durationBoundText(rule.max)}`);
    return parsed.ms;
  }

  bool(field: string, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") return this.fail(field, value, "must be true or false");
    return value;
  }

  /** A string checked by `check` (which returns the broken rule, or undefined). */
  string(field: string, value: unknown, check?: (s: string) => string | undefined): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") return this.fail(field, value, `must be a string, not ${typeName(value)}`);
    const broken = check?.(value);
    if (broken !== undefined) return this.fail(field, value, broken);
    return value;
  }

  /** An integer as written (a number, or in annotations a string of digits), or undefined. */
  private integer(value: unknown): number | undefined {
    let n: number | undefined;
    if (typeof value === "number") n = value;
    else if (this.numbersFromStrings && typeof value === "string" && /^[+-]?\d+$/.test(value.trim())) n = Number(value.trim());
    return n !== undefined && Number.isInteger(n) ? n : undefined;
  }

  required<T>(field: string, value: unknown, read: (v: unknown) => T | undefined): T | undefined {
    if (value === undefined || value === null || value === "") return this.fail(field, value, "is required");
    return read(value);
  }
}
