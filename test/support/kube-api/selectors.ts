/**
 * Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`,
 * `!a`, `a>1`, `a<1`) and field selectors (`f=v`, `f==v`, `f!=v`), as the
 * API server parses them, and the LabelSelector object → string form the
 * `scale` subresource reports.
 */
import { errors } from "./status.ts";
import { getPath } from "./kinds.ts";
import type { KObject } from "./kinds.ts";

type Op = "=" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";

export interface Requirement {
  readonly key: string;
  readonly op: Op;
  readonly values: readonly string[];
}

export type Selector = readonly Requirement[];

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const SET = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(([^)]*)\)$`);
const BINARY = new RegExp(String.raw`^(${KEY})\s*(==|!=|=|>|<)\s*([-A-Za-z0-9_.]*)$`);
const EXISTS = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

export function parseLabelSelector(text: string | null | undefined): Selector {
  if (text === null || text === undefined) return [];
  return splitTop(text).map((part) => {
    const set = SET.exec(part);
    if (set !== null) return { key: set[1] ?? "", op: set[3] as Op, values: (set[4] ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "") };
    const bin = BINARY.exec(part);
    if (bin !== null) {
      const op = bin[3] === "==" ? "=" : (bin[3] as Op);
      if ((op === ">" || op === "<") && !/^-?\d+$/.test(bin[4] ?? "")) throw errors.badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key: bin[1] ?? "", op, values: [bin[4] ?? ""] };
    }
    const ex = EXISTS.exec(part);
    if (ex !== null) return { key: ex[2] ?? "", op: ex[1] === "!" ? "!" : "exists", values: [] };
    throw errors.badRequest(`unable to parse requirement: found '${part}', expected a label selector requirement`);
  });
}

function matchesOne(r: Requirement, has: boolean, value: string | undefined): boolean {
  switch (r.op) {
    case "=":
      return has && value === r.values[0];
    case "!=":
      return !has || value !== r.values[0];
    case "in":
      return has && r.values.includes(value ?? "");
    case "notin":
      return !has || !r.values.includes(value ?? "");
    case "exists":
      return has;
    case "!":
      return !has;
    case ">":
      return has && Number(value) > Number(r.values[0]);
    case "<":
      return has && Number(value) < Number(r.values[0]);
  }
}

export function matchesLabels(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => matchesOne(r, Object.hasOwn(l, r.key), l[r.key]));
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: "=" | "!=";
  readonly value: string;
}

export function parseFieldSelector(text: string | null | undefined, supported: readonly string[]): FieldRequirement[] {
  if (text === null || text === undefined) return [];
  return splitTop(text).map((part) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$/.exec(part);
    if (m === null) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1] ?? "";
    if (!supported.includes(field)) throw errors.badRequest(`field label not supported: ${field}`);
    return { field, op: m[2] === "!=" ? "!=" : "=", value: m[3] ?? "" };
  });
}

export function matchesFields(requirements: readonly FieldRequirement[], obj: KObject): boolean {
  return requirements.every((r) => {
    const v = getPath(obj, r.field);
    const s = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "";
    return r.op === "=" ? s === r.value : s !== r.value;
  });
}

interface LabelSelectorObject {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: readonly string[] }[];
}

/** `{matchLabels: {app: "x"}, matchExpressions: [...]}` → `app=x,tier in (a,b)`; a string passes through. */
export function formatLabelSelector(selector: unknown): string {
  if (typeof selector === "string") return selector;
  if (selector === null || typeof selector !== "object") return "";
  const s = selector as LabelSelectorObject;
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.sort().join(",");
}
