/**
 * Server-side printing: the `meta.k8s.io` Table kubectl asks for
 * (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io, …`) so that
 * `kubectl get` prints the columns it prints against a real cluster. The
 * columns come from the kind's table entry; Name and Age are every kind's.
 */
import type { KindSpec, KObject } from "./kinds.ts";

export interface Column {
  readonly name: string;
  readonly type: "string" | "integer";
  /** 0: always shown; 1: only with `-o wide`. */
  readonly priority?: 0 | 1;
  readonly value: (obj: KObject) => string | number;
}

/** The Table version (`v1` or `v1beta1`) the Accept header asks for first, if any. */
export function wantsTable(accept: string | undefined): string | undefined {
  for (const part of (accept ?? "").split(",")) {
    const params = new Map(part.split(";").slice(1).map((p) => p.trim().split("=") as [string, string]));
    if (params.get("as") === "Table" && params.get("g") === "meta.k8s.io") return params.get("v") ?? "v1";
  }
  return undefined;
}

/** How long ago, as kubectl shows it (`5s`, `3m`, `2h`, `4d`). */
export function age(timestamp: unknown, now = Date.now()): string {
  if (typeof timestamp !== "string") return "<unknown>";
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

const NAME: Column = { name: "Name", type: "string", value: (o) => String(o.metadata?.name ?? "") };
const AGE: Column = { name: "Age", type: "string", value: (o) => age(o.metadata?.creationTimestamp) };

export function toTable(kind: KindSpec, objs: readonly KObject[], version: string, includeObject: string | null): KObject {
  const columns = [NAME, ...(kind.columns ?? []), AGE];
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${version}`,
    metadata: {},
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c === NAME ? "name" : "", description: c.name, priority: c.priority ?? 0 })),
    rows: objs.map((o) => ({
      cells: columns.map((c) => c.value(o)),
      ...(includeObject === "None" ? {} : { object: includeObject === "Object" ? o : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata } }),
    })),
  };
}
