/**
 * Building SpecErrors: field paths in the `a.b[1]["x.y"]` form, specError (the
 * one constructor, which redacts secrets), and a sink that collects every
 * error of a parse (parsers report all of them, not the first).
 */
import type { SpecError } from "./app-spec.js";
import { redactRule, redactValue } from "./redact.js";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends a key or index to a path: `spec` + `maxPods` → `spec.maxPods`; `x` + `a/b` → `x["a/b"]`; `apps` + 1 → `apps[1]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  if (IDENTIFIER.test(key)) return base === "" ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

/** The one way a SpecError is built: no secret survives in its value or rule (see redact.ts). */
export function specError(path: string, value: unknown, rule: string): SpecError {
  return { path, value: redactValue(path, value, rule), rule: redactRule(path, value, rule) };
}

/** Prefixes every error's path (e.g. with `documents[2]`). */
export function prefixErrors(prefix: string, errors: readonly SpecError[]): SpecError[] {
  return errors.map((e) => specError(prefixPath(prefix, e.path), e.value, e.rule));
}

function prefixPath(prefix: string, path: string): string {
  if (prefix === "" || path === "") return prefix + path;
  return path.startsWith("[") ? prefix + path : `${prefix}.${path}`;
}

/** Collects errors; `ok` is true while none were added. */
export class ErrorSink {
  readonly errors: SpecError[] = [];

  add(path: string, value: unknown, rule: string): void {
    this.errors.push(specError(path, value, rule));
  }

  addAll(errors: readonly SpecError[]): void {
    for (const e of errors) this.add(e.path, e.value, e.rule);
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }
}

/** A plain (non-array, non-null) object as YAML/JSON yields it. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Describes a value's type for rules such as "must be a mapping, not a list". */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}
