/**
 * A simple model of server-side apply's field ownership (`managedFields`,
 * FieldsV1): each manager owns a set of leaf fields. An apply takes the
 * fields of the applied configuration (conflicting with another manager that
 * owns one of them with a different value, unless forced), merges them in and
 * removes the fields the same manager applied before but no longer applies
 * (when nobody else owns them). Any other write gives the fields it changed
 * to its manager (operation Update). Lists with a merge key are keyed
 * (`k:{"name":"app"}`), primitive set lists by value (`v:"x"`), other lists
 * are atomic.
 */
import { ApiError } from "./status.ts";
import { clone, deepEqual, isMap, strategicMerge } from "./patch.ts";
import type { MergeKeys } from "./patch.ts";
import type { KObject } from "./kinds.ts";

type Segments = readonly string[];

/** Fields the server owns or that name the object: never in a field set. */
const UNTRACKED_METADATA = new Set(["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]);

function collect(value: unknown, path: string, segs: Segments, keys: MergeKeys, out: Segments[]): void {
  if (isMap(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) {
      if (segs.length === 0 && (k === "apiVersion" || k === "kind")) continue;
      if (segs.length === 1 && segs[0] === "f:metadata" && UNTRACKED_METADATA.has(k)) continue;
      collect(v, path === "" ? k : `${path}.${k}`, [...segs, `f:${k}`], keys, out);
    }
    return;
  }
  const key = keys[path];
  if (Array.isArray(value) && key !== undefined) {
    for (const item of value) {
      if (key === "" || !isMap(item)) {
        out.push([...segs, `v:${JSON.stringify(item)}`]);
        continue;
      }
      const itemSegs = [...segs, `k:${JSON.stringify({ [key]: item[key] })}`];
      out.push([...itemSegs, "."]);
      collect(item, `${path}[]`, itemSegs, keys, out);
    }
    return;
  }
  if (segs.length > 0 && !(isMap(value) && Object.keys(value).length === 0)) out.push(segs);
}

/** The leaf fields of an object. */
export function leafFields(obj: unknown, keys: MergeKeys): Segments[] {
  const out: Segments[] = [];
  collect(obj, "", [], keys, out);
  return out;
}

const id = (s: Segments) => JSON.stringify(s);

function toFieldsV1(paths: Iterable<Segments>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of paths) {
    let cur = root;
    for (const s of p) cur = (cur[s] ??= {}) as Record<string, unknown>;
  }
  return root;
}

function fromFieldsV1(tree: unknown, prefix: Segments = []): Segments[] {
  if (!isMap(tree) || Object.keys(tree).length === 0) return prefix.length === 0 ? [] : [prefix];
  return Object.entries(tree).flatMap(([k, v]) => fromFieldsV1(v, [...prefix, k]));
}

function step(cur: unknown, seg: string): unknown {
  if (seg === ".") return cur;
  if (seg.startsWith("f:")) return isMap(cur) ? cur[seg.slice(2)] : undefined;
  if (!Array.isArray(cur)) return undefined;
  const want = JSON.parse(seg.slice(2)) as unknown;
  if (seg.startsWith("v:")) return cur.find((x) => deepEqual(x, want));
  return cur.find((x) => isMap(x) && isMap(want) && Object.entries(want).every(([k, v]) => deepEqual(x[k], v)));
}

function valueAt(obj: unknown, segs: Segments): unknown {
  return segs.reduce(step, obj);
}

function removeAt(obj: unknown, segs: Segments): void {
  const last = segs[segs.length - 1] ?? "";
  const ownsItem = last === ".";
  const parentSegs = ownsItem ? segs.slice(0, -2) : segs.slice(0, -1);
  const leaf = ownsItem ? (segs[segs.length - 2] ?? "") : last;
  const parent = valueAt(obj, parentSegs);
  if (leaf.startsWith("f:")) {
    if (isMap(parent)) delete parent[leaf.slice(2)];
  } else if (Array.isArray(parent)) {
    const item = step(parent, leaf);
    const at = parent.indexOf(item);
    if (at >= 0) parent.splice(at, 1);
  }
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Owner {
  readonly entry: Omit<ManagedFieldsEntry, "fieldsV1" | "time">;
  readonly fields: Map<string, Segments>;
}

function owners(obj: KObject | undefined): Owner[] {
  const entries = (obj?.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
  return entries.map(({ fieldsV1, time: _time, ...entry }) => ({ entry, fields: new Map(fromFieldsV1(fieldsV1).map((s) => [id(s), s])) }));
}

function ownerFor(list: Owner[], manager: string, operation: "Apply" | "Update", apiVersion: string, subresource: string | undefined): Owner {
  let o = list.find((x) => x.entry.manager === manager && x.entry.operation === operation && x.entry.subresource === subresource);
  if (o === undefined) list.push((o = { entry: { manager, operation, apiVersion, fieldsType: "FieldsV1", ...(subresource === undefined ? {} : { subresource }) }, fields: new Map() }));
  return o;
}

function store(obj: KObject, list: readonly Owner[], now: string): void {
  const meta = (obj.metadata ??= {});
  meta.managedFields = list.filter((o) => o.fields.size > 0).map((o) => ({ ...o.entry, time: now, fieldsV1: toFieldsV1(o.fields.values()) }));
}

export interface WriteContext {
  readonly manager: string;
  readonly apiVersion: string;
  readonly keys: MergeKeys;
  readonly now: string;
  readonly subresource?: string;
}

/**
 * Records a create, update or patch: the fields it changed go to its
 * manager; fields gone from the object leave every set. As the real server
 * does, a write that carries managedFields of its own (kubectl's upgrade from
 * client-side apply patches them) starts from those, otherwise from the
 * stored object's.
 */
export function recordUpdate(before: KObject | undefined, after: KObject, ctx: WriteContext): void {
  const given = after.metadata?.managedFields;
  const list = owners(Array.isArray(given) && given.length > 0 ? after : before);
  const present = new Set(leafFields(after, ctx.keys).map(id));
  const changed = leafFields(after, ctx.keys).filter((s) => before === undefined || !deepEqual(valueAt(before, s), valueAt(after, s)) || s[s.length - 1] === "." && valueAt(before, s) === undefined);
  for (const o of list) for (const k of [...o.fields.keys()]) if (!present.has(k) || changed.some((c) => id(c) === k)) o.fields.delete(k);
  const mine = ownerFor(list, ctx.manager, "Update", ctx.apiVersion, ctx.subresource);
  for (const s of changed) mine.fields.set(id(s), s);
  store(after, list, ctx.now);
}

/**
 * Server-side apply of `applied` over `current` (undefined: create). Throws
 * 409 Conflict naming each field another manager owns with another value,
 * unless `force`, which takes those fields over.
 */
export function apply(current: KObject | undefined, applied: KObject, ctx: WriteContext & { readonly force: boolean }): KObject {
  const list = owners(current);
  const appliedFields = leafFields(applied, ctx.keys);
  const conflicts: { owner: Owner; field: Segments }[] = [];
  for (const o of list) {
    if (o.entry.manager === ctx.manager && o.entry.operation === "Apply") continue;
    for (const s of appliedFields) {
      // Owning a list item (".") or a set member ("v:") conflicts with nobody: only values can differ.
      if (!o.fields.has(id(s)) || s[s.length - 1] === "." || s[s.length - 1]?.startsWith("v:") === true) continue;
      if (!deepEqual(valueAt(current, s), valueAt(applied, s))) conflicts.push({ owner: o, field: s });
    }
  }
  if (conflicts.length > 0 && !ctx.force && !upgradesClientSideApply(current, ctx, conflicts.map((c) => c.field))) {
    const causes = conflicts.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with "${c.owner.entry.manager}" using ${c.owner.entry.apiVersion}`, field: dotted(c.field) }));
    const lines = causes.map((c) => `${c.message}: ${c.field}`).join("\n- ");
    throw new ApiError(409, "Conflict", `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"}: ${conflicts.length === 1 ? lines : "\n- " + lines}`, { causes });
  }
  for (const c of conflicts) c.owner.fields.delete(id(c.field));
  const mine = ownerFor(list, ctx.manager, "Apply", ctx.apiVersion, ctx.subresource);
  const merged = strategicMerge(current === undefined ? {} : clone(current), applied, ctx.keys) as KObject;
  const now = new Set(appliedFields.map(id));
  const ownedByOthers = new Set(list.filter((o) => o !== mine).flatMap((o) => [...o.fields.keys()]));
  const dropped = [...mine.fields.entries()].filter(([k]) => !now.has(k) && !ownedByOthers.has(k)).map(([, s]) => s);
  for (const s of dropped.sort((a, b) => b.length - a.length)) removeAt(merged, s);
  mine.fields.clear();
  for (const s of appliedFields) mine.fields.set(id(s), s);
  store(merged, list, ctx.now);
  return merged;
}

/**
 * The API server's upgrade path from client-side to server-side apply: an
 * apply by the manager "kubectl" may take, without conflict, the fields the
 * object's last-applied-configuration annotation lists.
 */
function upgradesClientSideApply(current: KObject | undefined, ctx: WriteContext, fields: readonly Segments[]): boolean {
  const lastApplied = current?.metadata?.annotations?.["kubectl.kubernetes.io/last-applied-configuration"];
  if (ctx.manager !== "kubectl" || lastApplied === undefined) return false;
  let config: unknown;
  try {
    config = JSON.parse(lastApplied);
  } catch {
    return false;
  }
  const allowed = new Set(leafFields(config, ctx.keys).map(id));
  return fields.every((f) => allowed.has(id(f)));
}

/** `["f:spec","f:replicas"]` → `.spec.replicas`, as conflict messages name fields. */
function dotted(segs: Segments): string {
  return segs.map((s) => (s.startsWith("f:") ? `.${s.slice(2)}` : s === "." ? "" : `[${s.slice(2)}]`)).join("");
}
