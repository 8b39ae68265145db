/**
 * The three patch formats the API server takes besides apply:
 * JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a subset of
 * strategic merge patch: maps merge, lists with a merge key (from the kind's
 * table entry) merge by that key, primitive lists marked for merging take
 * the union, every other list is replaced; the directives `$patch`
 * (replace/delete/merge), `$retainKeys`, `$setElementOrder/…` (accepted, the
 * order is not enforced) and `$deleteFromPrimitiveList/…` are honoured.
 */
import { ApiError } from "./status.ts";

type Json = unknown;
type JsonMap = Record<string, Json>;

export function isMap(v: unknown): v is JsonMap {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 7386: maps merge, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return clone(patch);
  const out: JsonMap = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const invalid = (message: string) => new ApiError(422, "Invalid", message);

function unescapePointer(path: string): (string | number)[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw invalid(`JSON pointer must start with '/': ${path}`);
  return path
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: Json, tokens: readonly (string | number)[], path: string): { parent: JsonMap | Json[]; last: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    const next: Json = Array.isArray(cur) ? (cur as Json[])[Number(t)] : isMap(cur) ? cur[String(t)] : undefined;
    if (next === undefined || next === null || typeof next !== "object") throw invalid(`doc is missing path: "${path}": missing value`);
    cur = next;
  }
  if (cur === null || typeof cur !== "object") throw invalid(`doc is missing path: "${path}"`);
  return { parent: cur as JsonMap | Json[], last: String(tokens[tokens.length - 1] ?? "") };
}

function arrayIndex(arr: readonly Json[], last: string, forAdd: boolean, path: string): number {
  if (forAdd && last === "-") return arr.length;
  const i = Number(last);
  if (!/^\d+$/.test(last) || i > arr.length || (!forAdd && i === arr.length)) throw invalid(`Unable to access invalid index: ${last} (path ${path})`);
  return i;
}

function readPointer(doc: Json, path: string): Json {
  let cur = doc;
  for (const t of unescapePointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isMap(cur) ? cur[String(t)] : undefined;
    if (cur === undefined) throw invalid(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, unescapePointer(path), path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, path), 1)[0];
  if (!Object.hasOwn(parent, last)) throw invalid(`doc is missing key: "${path}": missing value`);
  const old = parent[last];
  delete parent[last];
  return old;
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = unescapePointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, !replace, path);
    parent.splice(i, replace ? 1 : 0, clone(value));
  } else {
    if (replace && !Object.hasOwn(parent, last)) throw invalid(`replace operation does not apply: doc is missing key: ${path}: missing value`);
    parent[last] = clone(value);
  }
  return doc;
}

interface JsonPatchOp {
  readonly op: string;
  readonly path: string;
  readonly from?: string;
  readonly value?: Json;
}

/** RFC 6902: add, remove, replace, move, copy, test; a failing operation is 422 Invalid, as the API server answers. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new ApiError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    const { op, path } = raw;
    if (typeof path !== "string") throw new ApiError(400, "BadRequest", `invalid JSON patch operation: ${JSON.stringify(raw)}`);
    switch (op) {
      case "add":
        doc = addAt(doc, path, raw.value, false);
        break;
      case "replace":
        doc = addAt(doc, path, raw.value, true);
        break;
      case "remove":
        removeAt(doc, path);
        break;
      case "move":
        doc = addAt(doc, path, removeAt(doc, raw.from ?? ""), false);
        break;
      case "copy":
        doc = addAt(doc, path, readPointer(doc, raw.from ?? ""), false);
        break;
      case "test":
        if (!deepEqual(readPointer(doc, path), raw.value)) throw invalid(`testing value ${path} failed: test failed`);
        break;
      default:
        throw new ApiError(400, "BadRequest", `Unexpected kind: ${String(op)}`);
    }
  }
  return doc;
}

/**
 * How the lists of a kind merge, by dotted path with `[]` for "each item of
 * a list" (`spec.template.spec.containers[].env`): the merge key, or "" for
 * a list of primitives merged as a set.
 */
export type MergeKeys = Readonly<Record<string, string>>;

const DIRECTIVE = "$patch";
const RETAIN = "$retainKeys";
const ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => !(isMap(x) && x[DIRECTIVE] !== undefined && Object.keys(x).length === 1)).map(stripDirectives);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}

function mergeList(original: Json, patch: readonly Json[], path: string, keys: MergeKeys): Json[] {
  const key = keys[path];
  if (key === undefined) return stripDirectives(patch) as Json[];
  if (patch.some((x) => isMap(x) && x[DIRECTIVE] === "replace")) return stripDirectives(patch) as Json[];
  const out = Array.isArray(original) ? [...(original as Json[])] : [];
  for (const item of patch) {
    if (key === "") {
      if (!out.some((x) => deepEqual(x, item))) out.push(item);
      continue;
    }
    if (!isMap(item)) throw invalid(`${path}: a list merged by "${key}" takes objects`);
    const at = out.findIndex((x) => isMap(x) && deepEqual(x[key], item[key]));
    if (item[DIRECTIVE] === "delete") {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) out[at] = strategicMerge(out[at], item, keys, `${path}[]`);
    else out.push(stripDirectives(item));
  }
  return out;
}

/** Strategic merge patch over `original` (which is not changed). */
export function strategicMerge(original: Json, patch: Json, keys: MergeKeys, path = ""): Json {
  if (!isMap(patch)) return clone(patch);
  if (patch[DIRECTIVE] === "replace") return stripDirectives(patch);
  if (patch[DIRECTIVE] === "delete") return undefined;
  const out: JsonMap = isMap(original) ? { ...original } : {};
  const retain = patch[RETAIN];
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k) && !Object.hasOwn(patch, k)) delete out[k];
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const list = out[field];
      if (Array.isArray(list) && Array.isArray(v)) out[field] = list.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (k.startsWith("$") || k.startsWith(ORDER)) continue;
    const p = child(path, k);
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(out[k], v, p, keys);
    else if (isMap(v)) {
      const merged = strategicMerge(out[k], v, keys, p);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}
