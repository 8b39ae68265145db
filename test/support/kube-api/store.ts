/**
 * The test API server's in-memory storage and its semantics, without HTTP:
 * one global resourceVersion counter, a bounded history of changes (what
 * watches and exact-version lists are served from), metadata the server
 * owns (uid, creationTimestamp, generation, managedFields), optimistic
 * concurrency, finalizers, owner-reference garbage collection, status and
 * scale subresources, the patch formats and server-side apply.
 *
 * Stored objects are never mutated: every write stores a new object, so an
 * event or a list may share them; callers get copies.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { apply, recordUpdate } from "./fields.ts";
import { apiVersionOf, getPath, KINDS, METADATA_MERGE_KEYS, setPath } from "./kinds.ts";
import type { KindSpec, KObject, ObjectMeta } from "./kinds.ts";
import { clone, deepEqual, isMap, jsonPatch, mergePatch, strategicMerge } from "./patch.ts";
import type { MergeKeys } from "./patch.ts";
import { formatLabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { ApiError, errors } from "./status.ts";
import type { StatusCause } from "./status.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly kind: KindSpec;
  readonly object: KObject;
  /** The object before this change (MODIFIED and DELETED). */
  readonly prev?: KObject;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export interface WriteOptions {
  /** `metadata.managedFields` manager (the `fieldManager` parameter). */
  readonly manager?: string;
  readonly dryRun?: boolean;
  /** "status" or "scale": the subresource written through. */
  readonly subresource?: string;
}

export interface ListOptions {
  readonly labelSelector?: string | null;
  readonly fieldSelector?: string | null;
  readonly limit?: number;
  readonly continue?: string | null;
  readonly resourceVersion?: string | null;
  readonly resourceVersionMatch?: string | null;
}

export interface ListResult {
  readonly items: KObject[];
  readonly resourceVersion: number;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface DeleteOptions extends WriteOptions {
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly propagationPolicy?: "Orphan" | "Background" | "Foreground";
}

export interface StoreOptions {
  /** How many changes the history keeps (the watch cache / compaction window); older resourceVersions are 410 Gone. Default 1000. */
  readonly historyWindow?: number;
  readonly kinds?: readonly KindSpec[];
}

/** A filter over one kind, as a list or a watch asks for it. */
export interface Filter {
  readonly kind: KindSpec;
  readonly namespace?: string;
  readonly labelSelector?: string | null;
  readonly fieldSelector?: string | null;
}

export type Matcher = (obj: KObject) => boolean;

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const INITIAL_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export function meta(obj: KObject): ObjectMeta {
  return (obj.metadata ??= {});
}

export function nameOf(obj: KObject): string {
  return String(obj.metadata?.name ?? "");
}

export function namespaceOf(obj: KObject): string {
  return String(obj.metadata?.namespace ?? "");
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** What a spec change is: anything but metadata and status. */
function specOf(obj: KObject): KObject {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/** An object without what every write changes (resourceVersion, the managedFields times): equal means the write changed nothing. */
function withoutVolatile(obj: KObject): KObject {
  const { resourceVersion: _rv, managedFields, ...m } = obj.metadata ?? {};
  const fields = Array.isArray(managedFields) ? managedFields.map((e: Record<string, unknown>) => ({ ...e, time: "" })) : managedFields;
  return { ...obj, metadata: { ...m, managedFields: fields } };
}

function continueToken(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start }), "utf8").toString("base64url");
}

function parseContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { v?: string; rv?: number; start?: string };
    if (t.v === "meta.k8s.io/v1" && typeof t.rv === "number" && typeof t.start === "string") return { rv: t.rv, start: t.start };
  } catch {
    // falls through to the error below
  }
  throw errors.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
}

function parseRv(text: string, what = "resourceVersion"): number {
  if (!/^\d+$/.test(text)) throw new ApiError(400, "BadRequest", `${what}: Invalid value: "${text}": must be a non-negative integer`);
  return Number(text);
}

export class ObjectStore {
  readonly kinds: readonly KindSpec[];
  readonly historyWindow: number;
  #rv = 0;
  /** Events with rv > #compactedRv are in #history. */
  #compactedRv = 0;
  #history: StoreEvent[] = [];
  readonly #objects = new Map<KindSpec, Map<string, KObject>>();
  readonly #listeners = new Set<(e: StoreEvent) => void>();

  constructor(options: StoreOptions = {}) {
    this.kinds = options.kinds ?? KINDS;
    this.historyWindow = options.historyWindow ?? 1000;
    for (const k of this.kinds) this.#objects.set(k, new Map());
    const ns = this.kindOf("", "v1", "namespaces");
    if (ns !== undefined) for (const name of INITIAL_NAMESPACES) this.create(ns, "", { metadata: { name } }, { manager: "kube-apiserver" });
  }

  /** The newest resourceVersion the store has handed out. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** The oldest resourceVersion a watch or an exact list may still start from. */
  get oldestResourceVersion(): number {
    return this.#compactedRv;
  }

  kindOf(group: string, version: string, plural: string): KindSpec | undefined {
    return this.kinds.find((k) => k.group === group && k.version === version && k.plural === plural);
  }

  /** The first kind served under `plural` (`deployments`, `leases`); throws when none is (a test's typo, not a case to handle). */
  kindNamed(plural: string): KindSpec {
    const k = this.kinds.find((x) => x.plural === plural);
    if (k === undefined) throw new Error(`the store serves no ${plural}`);
    return k;
  }

  /** The kind by its kind name and apiVersion (`apps/v1`, `Deployment`). */
  kindFor(apiVersion: string, kind: string): KindSpec | undefined {
    return this.kinds.find((k) => apiVersionOf(k) === apiVersion && k.kind === kind);
  }

  mergeKeys(kind: KindSpec): MergeKeys {
    return { ...METADATA_MERGE_KEYS, ...kind.mergeKeys };
  }

  /** Called with every committed change, synchronously, in resourceVersion order. */
  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The changes after `rv` (for a watch that starts there); undefined when they are no longer kept (410 Gone). */
  changesSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.#compactedRv) return undefined;
    return this.#history.filter((e) => e.rv > rv);
  }

  /** Forgets the history (as a compaction or an API server restart does): every resourceVersion before now is 410 Gone. */
  compact(): void {
    this.#history = [];
    this.#compactedRv = this.#rv;
  }

  /** A predicate for the filter's namespace, label and field selectors (400 BadRequest on a bad selector). */
  matcher(f: Filter): Matcher {
    const labels = parseLabelSelector(f.labelSelector);
    const fields = parseFieldSelector(f.fieldSelector, ["metadata.name", "metadata.namespace", ...(f.kind.selectableFields ?? [])]);
    return (obj) =>
      (f.namespace === undefined || f.namespace === "" || namespaceOf(obj) === f.namespace) &&
      matchesLabels(labels, obj.metadata?.labels) &&
      matchesFields(fields, obj);
  }

  get(kind: KindSpec, namespace: string, name: string): KObject {
    return clone(this.#require(kind, namespace, name));
  }

  /** The object, or undefined (no error). */
  find(kind: KindSpec, namespace: string, name: string): KObject | undefined {
    const obj = this.#objects.get(kind)?.get(key(kind.namespaced ? namespace : "", name));
    return obj === undefined ? undefined : clone(obj);
  }

  /** Every object of a kind (in a namespace), newest state, as copies. */
  all(kind: KindSpec, namespace?: string): KObject[] {
    return [...(this.#objects.get(kind)?.values() ?? [])].filter((o) => namespace === undefined || namespaceOf(o) === namespace).map((o) => clone(o));
  }

  list(f: Filter, options: ListOptions = {}): ListResult {
    const match = this.matcher(f);
    const { rv, start } = this.#listVersion(options);
    const state = rv === this.#rv ? (this.#objects.get(f.kind) ?? new Map<string, KObject>()) : this.#stateAt(f.kind, rv);
    const matching = [...state.entries()]
      .filter(([k, o]) => k > start && match(o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : matching.length;
    const page = matching.slice(0, limit);
    const items = page.map(([, o]) => clone(o));
    if (page.length === matching.length) return { items, resourceVersion: rv };
    const last = page[page.length - 1]?.[0] ?? start;
    const selectors = (options.labelSelector ?? "") !== "" || (options.fieldSelector ?? "") !== "";
    return { items, resourceVersion: rv, continue: continueToken(rv, last), ...(selectors ? {} : { remainingItemCount: matching.length - page.length }) };
  }

  /** Which resourceVersion a list is served at, and after which key it starts. */
  #listVersion(options: ListOptions): { rv: number; start: string } {
    if (options.continue !== undefined && options.continue !== null && options.continue !== "") {
      const token = parseContinue(options.continue);
      if (token.rv < this.#compactedRv) {
        throw errors.gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
      }
      return { rv: token.rv, start: token.start };
    }
    const match = options.resourceVersionMatch ?? "";
    const text = options.resourceVersion ?? "";
    if (match !== "" && text === "") throw errors.invalid({ plural: "lists", group: "", kind: "ListOptions" }, "", [{ reason: "FieldValueForbidden", field: "resourceVersionMatch", message: "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided" }]);
    if (match !== "" && match !== "Exact" && match !== "NotOlderThan") throw errors.invalid({ plural: "lists", group: "", kind: "ListOptions" }, "", [{ reason: "FieldValueNotSupported", field: "resourceVersionMatch", message: `Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"` }]);
    if (text === "" || text === "0") {
      if (match === "Exact") throw errors.invalid({ plural: "lists", group: "", kind: "ListOptions" }, "", [{ reason: "FieldValueForbidden", field: "resourceVersionMatch", message: `Forbidden: resourceVersionMatch "Exact" is forbidden for resourceVersion "0"` }]);
      return { rv: this.#rv, start: "" };
    }
    const rv = parseRv(text);
    if (rv > this.#rv) throw errors.timeout(`Too large resource version: ${rv}, current: ${this.#rv}`, "ResourceVersionTooLarge");
    if (match !== "Exact") return { rv: this.#rv, start: "" };
    if (rv < this.#compactedRv) throw errors.gone(`The resourceVersion for the provided list is too old.`);
    return { rv, start: "" };
  }

  /** A kind's objects as they were at `rv` (kept history only): today's, with the later changes undone. */
  #stateAt(kind: KindSpec, rv: number): Map<string, KObject> {
    const state = new Map(this.#objects.get(kind));
    for (const e of [...this.#history].reverse()) {
      if (e.rv <= rv) break;
      if (e.kind !== kind) continue;
      const k = key(namespaceOf(e.object), nameOf(e.object));
      if (e.type === "ADDED") state.delete(k);
      else if (e.prev !== undefined) state.set(k, e.prev);
    }
    return state;
  }

  create(kind: KindSpec, namespace: string, body: unknown, options: WriteOptions = {}): KObject {
    return this.#create(kind, namespace, body, options, undefined);
  }

  #create(kind: KindSpec, namespace: string, body: unknown, options: WriteOptions, managedFields: unknown): KObject {
    const obj = this.#decode(kind, body);
    const m = meta(obj);
    const ns = this.#namespaceFor(kind, namespace, m.namespace);
    if (kind.namespaced) m.namespace = ns;
    else delete m.namespace;
    if ((m.name === undefined || m.name === "") && typeof m.generateName === "string") m.name = `${m.generateName}${randomBytes(4).toString("hex").slice(0, 5)}`;
    const name = String(m.name ?? "");
    if (kind.namespaced) this.#requireLiveNamespace(ns);
    if (this.#objects.get(kind)?.has(key(ns, name)) === true) throw errors.alreadyExists(kind, name);
    for (const f of ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"]) delete m[f];
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(new Date());
    if (kind.generation === true) m.generation = 1;
    else delete m.generation;
    if (kind.status === true) obj.status = {};
    return this.#commit(kind, undefined, obj, options, managedFields);
  }

  /** PUT: replaces the object (or its status), with optimistic concurrency on metadata.resourceVersion. */
  update(kind: KindSpec, namespace: string, name: string, body: unknown, options: WriteOptions = {}): KObject {
    const current = this.#require(kind, namespace, name);
    const incoming = this.#decode(kind, body);
    const m = meta(incoming);
    if (m.name !== undefined && m.name !== name) throw errors.badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    const rv = m.resourceVersion;
    if (rv === undefined || rv === "") {
      if (kind.custom === true) throw errors.invalid(kind, name, [{ reason: "FieldValueInvalid", field: "metadata.resourceVersion", message: "Invalid value: 0x0: must be specified for an update" }]);
    } else if (rv !== current.metadata?.resourceVersion) throw errors.conflict(kind, name);
    if (m.uid !== undefined && m.uid !== current.metadata?.uid) throw errors.conflict(kind, name, `Precondition failed: UID in precondition: ${String(m.uid)}, UID in object meta: ${String(current.metadata?.uid)}`);
    return this.#commit(kind, current, this.#merge(kind, current, incoming, options.subresource), options);
  }

  patch(kind: KindSpec, namespace: string, name: string, type: PatchType, body: unknown, options: WriteOptions & { readonly force?: boolean } = {}): KObject {
    const existing = this.#objects.get(kind)?.get(key(kind.namespaced ? namespace : "", name));
    if (type === "apply") return this.#apply(kind, namespace, name, existing, body, options);
    if (existing === undefined) throw errors.notFound(kind, name);
    if (type === "strategic" && kind.custom === true) throw errors.unsupportedMediaType("application/strategic-merge-patch+json", ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]);
    const patched = type === "json" ? jsonPatch(existing, body) : type === "merge" ? mergePatch(existing, body) : strategicMerge(existing, body, this.mergeKeys(kind));
    if (!isMap(patched)) throw errors.badRequest("the patch did not produce an object");
    const rv = (patched.metadata as Record<string, unknown> | undefined)?.resourceVersion;
    if (rv !== undefined && rv !== existing.metadata?.resourceVersion) throw errors.conflict(kind, name);
    return this.#commit(kind, existing, this.#merge(kind, existing, patched, options.subresource), options);
  }

  #apply(kind: KindSpec, namespace: string, name: string, existing: KObject | undefined, body: unknown, options: WriteOptions & { readonly force?: boolean }): KObject {
    const manager = options.manager;
    if (manager === undefined || manager === "") throw errors.badRequest("PATCH, application/apply-patch+yaml requests require fieldManager to be set");
    const applied = this.#decode(kind, body);
    if (nameOf(applied) !== name) throw errors.badRequest(`the name of the object (${nameOf(applied)}) does not match the name on the URL (${name})`);
    const ctx = { manager, apiVersion: apiVersionOf(kind), keys: this.mergeKeys(kind), now: rfc3339(new Date()), force: options.force === true, ...(options.subresource === undefined ? {} : { subresource: options.subresource }) };
    if (existing === undefined) {
      if (options.subresource !== undefined) throw errors.notFound(kind, name);
      const created = apply(undefined, applied, ctx);
      return this.#create(kind, namespace, created, options, created.metadata?.managedFields);
    }
    const merged = apply(existing, applied, ctx);
    return this.#commit(kind, existing, this.#merge(kind, existing, merged, options.subresource), options, merged.metadata?.managedFields);
  }

  /** The scale subresource (autoscaling/v1 Scale) of an object whose kind has one. */
  getScale(kind: KindSpec, namespace: string, name: string): KObject {
    return this.#scaleOf(kind, this.#require(kind, namespace, name));
  }

  /** Writes spec.replicas through the scale subresource: PUT (a Scale) or a merge/JSON patch of the Scale. */
  writeScale(kind: KindSpec, namespace: string, name: string, write: (scale: KObject) => unknown, options: WriteOptions = {}): KObject {
    const spec = kind.scale;
    if (spec === undefined) throw errors.notFound(kind, name);
    const current = this.#require(kind, namespace, name);
    const scale = write(this.#scaleOf(kind, current));
    if (!isMap(scale)) throw errors.badRequest("a Scale must be an object");
    const rv = (scale.metadata as Record<string, unknown> | undefined)?.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== current.metadata?.resourceVersion) throw errors.conflict(kind, name);
    const replicas = getPath(scale, "spec.replicas");
    if (!Number.isInteger(replicas) || (replicas as number) < 0) throw errors.invalid({ plural: "scale", group: "autoscaling", kind: "Scale" }, name, [{ reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    const next = clone(current);
    setPath(next, spec.specReplicasPath, replicas);
    const written = this.#commit(kind, current, this.#merge(kind, current, next, undefined), { ...options, subresource: "scale" });
    return this.#scaleOf(kind, written);
  }

  #scaleOf(kind: KindSpec, obj: KObject): KObject {
    const spec = kind.scale;
    if (spec === undefined) throw errors.notFound(kind, nameOf(obj));
    const m = obj.metadata ?? {};
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: getPath(obj, spec.specReplicasPath) ?? 0 },
      status: { replicas: getPath(obj, spec.statusReplicasPath) ?? 0, selector: formatLabelSelector(getPath(obj, spec.labelSelectorPath)) },
    };
  }

  /**
   * DELETE: with finalizers the object only gets its deletionTimestamp (and
   * goes once the last finalizer is removed); otherwise it goes at once, and
   * its dependents (ownerReferences) with it unless the policy is Orphan.
   * Returns the object (as it stays, or as it was last) and whether it is gone.
   */
  delete(kind: KindSpec, namespace: string, name: string, options: DeleteOptions = {}): { object: KObject; gone: boolean } {
    const current = this.#require(kind, namespace, name);
    const pre = options.preconditions;
    if (pre?.uid !== undefined && pre.uid !== current.metadata?.uid) throw errors.conflict(kind, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(current.metadata?.uid)}`);
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata?.resourceVersion) throw errors.conflict(kind, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${String(current.metadata?.resourceVersion)}`);
    if (options.dryRun === true) return { object: clone(current), gone: true };
    if (kind.kind === "Namespace" && kind.group === "") this.#emptyNamespace(name);
    const finalizers = current.metadata?.finalizers;
    if (finalizers !== undefined && finalizers.length > 0) {
      if (current.metadata?.deletionTimestamp !== undefined) return { object: clone(current), gone: false };
      const next = clone(current);
      Object.assign(meta(next), { deletionTimestamp: rfc3339(new Date()), deletionGracePeriodSeconds: 0 });
      return { object: this.#commit(kind, current, next, {}), gone: false };
    }
    return { object: this.#remove(kind, current, options.propagationPolicy ?? "Background"), gone: true };
  }

  /** Removes the stored `current`; the DELETED event shows `last` (the object as its last write left it). */
  #remove(kind: KindSpec, current: KObject, policy: DeleteOptions["propagationPolicy"], last: KObject = current): KObject {
    const rv = ++this.#rv;
    const gone = clone(last);
    meta(gone).resourceVersion = String(rv);
    this.#objects.get(kind)?.delete(key(namespaceOf(current), nameOf(current)));
    this.#record({ rv, type: "DELETED", kind, object: gone, prev: current });
    this.#collectDependents(String(current.metadata?.uid), policy);
    return clone(gone);
  }

  /** The garbage collector, at once: dependents of a deleted owner are deleted, or lose the reference (Orphan). */
  #collectDependents(uid: string, policy: DeleteOptions["propagationPolicy"]): void {
    for (const [kind, objects] of this.#objects) {
      for (const obj of [...objects.values()]) {
        const refs = obj.metadata?.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === uid)) continue;
        if (!objects.has(key(namespaceOf(obj), nameOf(obj)))) continue;
        if (policy === "Orphan") {
          const next = clone(obj);
          meta(next).ownerReferences = refs.filter((r) => r.uid !== uid);
          this.#commit(kind, obj, next, { manager: "kube-controller-manager" });
        } else this.delete(kind, namespaceOf(obj), nameOf(obj), { propagationPolicy: policy });
      }
    }
  }

  /** The namespace controller, at once: everything in a deleted namespace goes with it. */
  #emptyNamespace(namespace: string): void {
    for (const kind of this.kinds) {
      if (!kind.namespaced) continue;
      for (const obj of this.all(kind, namespace)) {
        const current = this.#objects.get(kind)?.get(key(namespace, nameOf(obj)));
        if (current !== undefined) this.#remove(kind, current, "Background");
      }
    }
  }

  deleteCollection(f: Filter, options: DeleteOptions = {}): KObject[] {
    const match = this.matcher(f);
    const targets = [...(this.#objects.get(f.kind)?.values() ?? [])].filter(match);
    return targets.flatMap((o) => (this.find(f.kind, namespaceOf(o), nameOf(o)) === undefined ? [] : [this.delete(f.kind, namespaceOf(o), nameOf(o), options).object]));
  }

  #require(kind: KindSpec, namespace: string, name: string): KObject {
    const obj = this.#objects.get(kind)?.get(key(kind.namespaced ? namespace : "", name));
    if (obj === undefined) throw errors.notFound(kind, name);
    return obj;
  }

  #decode(kind: KindSpec, body: unknown): KObject {
    if (!isMap(body)) throw errors.badRequest("the request body must be a JSON or YAML object");
    const obj = clone(body) as KObject;
    const apiVersion = apiVersionOf(kind);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
    if (obj.kind !== undefined && obj.kind !== kind.kind) throw errors.badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${kind.kind})`);
    if (obj.metadata !== undefined && !isMap(obj.metadata)) throw errors.badRequest("metadata must be an object");
    return { apiVersion, kind: kind.kind, ...obj };
  }

  #namespaceFor(kind: KindSpec, fromPath: string, fromBody: unknown): string {
    if (!kind.namespaced) return "";
    const body = typeof fromBody === "string" ? fromBody : "";
    if (fromPath !== "" && body !== "" && body !== fromPath) throw errors.badRequest("the namespace of the provided object does not match the namespace sent on the request");
    const ns = fromPath !== "" ? fromPath : body !== "" ? body : "default";
    return ns;
  }

  #requireLiveNamespace(namespace: string): void {
    const nsKind = this.kindOf("", "v1", "namespaces");
    if (nsKind === undefined) return;
    const ns = this.#objects.get(nsKind)?.get(key("", namespace));
    if (ns === undefined) throw errors.notFound(nsKind, namespace);
    if (ns.metadata?.deletionTimestamp !== undefined) throw new ApiError(403, "Forbidden", `unable to create new content in namespace ${namespace} because it is being terminated`);
  }

  /**
   * What a write through the object (or `status`) may change: the fields the
   * server owns stay; with a status subresource, writes to the object keep the
   * old status and writes to `status` keep everything else.
   */
  #merge(kind: KindSpec, current: KObject, incoming: KObject, subresource: string | undefined): KObject {
    if (subresource === "status") {
      const next = clone(current);
      if (incoming.status === undefined) delete next.status;
      else next.status = clone(incoming.status);
      return next;
    }
    const next = clone(incoming);
    const m = meta(next);
    const cm = current.metadata ?? {};
    for (const f of ["uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"]) {
      if (cm[f] === undefined) delete m[f];
      else m[f] = cm[f];
    }
    m.name = cm.name;
    if (cm.namespace !== undefined) m.namespace = cm.namespace;
    if (kind.status === true) {
      if (current.status === undefined) delete next.status;
      else next.status = clone(current.status);
    }
    return next;
  }

  #validate(kind: KindSpec, obj: KObject): void {
    const m = obj.metadata ?? {};
    const name = String(m.name ?? "");
    const causes: StatusCause[] = [];
    if (name === "") causes.push({ reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" });
    else if (name.length > 253 || !NAME.test(name)) causes.push({ reason: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
    for (const [k, v] of Object.entries((m.labels ?? {}) as Record<string, unknown>)) {
      if (!LABEL_KEY.test(k)) causes.push({ reason: "FieldValueInvalid", field: "metadata.labels", message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'` });
      if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) causes.push({ reason: "FieldValueInvalid", field: `metadata.labels`, message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'` });
    }
    for (const [k, v] of Object.entries((m.annotations ?? {}) as Record<string, unknown>)) {
      if (typeof v !== "string") causes.push({ reason: "FieldValueInvalid", field: `metadata.annotations.${k}`, message: "Invalid value: annotations are strings" });
    }
    causes.push(...(kind.validate?.(obj) ?? []));
    if (causes.length > 0) throw errors.invalid(kind, name, causes);
  }

  /**
   * Stores `next` in place of `current` (undefined: a create): normalizes,
   * validates, bumps generation, records managed fields (`managedFields` as
   * an apply computed them, else the write's manager's changes, else kept),
   * commits. A write that changes nothing commits nothing.
   */
  #commit(kind: KindSpec, current: KObject | undefined, next: KObject, options: WriteOptions, managedFields?: unknown): KObject {
    kind.normalize?.(next);
    this.#validate(kind, next);
    const m = meta(next);
    if (current !== undefined && kind.generation === true && !deepEqual(specOf(current), specOf(next))) m.generation = Number(current.metadata?.generation ?? 0) + 1;
    const manager = options.manager;
    if (managedFields !== undefined) m.managedFields = managedFields;
    else if (manager !== undefined) {
      const ctx = { manager, apiVersion: apiVersionOf(kind), keys: this.mergeKeys(kind), now: rfc3339(new Date()), ...(options.subresource === undefined ? {} : { subresource: options.subresource }) };
      recordUpdate(current, next, ctx);
    } else if (current?.metadata?.managedFields !== undefined) m.managedFields = current.metadata.managedFields;
    else delete m.managedFields;
    if (current !== undefined && deepEqual(withoutVolatile(next), withoutVolatile(current))) return clone(current);
    if (options.dryRun === true) return clone(next);
    const finalizers = m.finalizers as unknown[] | undefined;
    if (current !== undefined && m.deletionTimestamp !== undefined && (finalizers === undefined || finalizers.length === 0)) {
      return this.#remove(kind, this.#require(kind, namespaceOf(next), nameOf(next)), "Background", next);
    }
    const rv = ++this.#rv;
    m.resourceVersion = String(rv);
    this.#objects.get(kind)?.set(key(namespaceOf(next), nameOf(next)), next);
    this.#record(current === undefined ? { rv, type: "ADDED", kind, object: next } : { rv, type: "MODIFIED", kind, object: next, prev: current });
    return clone(next);
  }

  #record(e: StoreEvent): void {
    this.#history.push(e);
    while (this.#history.length > this.historyWindow) {
      const dropped = this.#history.shift();
      if (dropped !== undefined) this.#compactedRv = dropped.rv;
    }
    for (const l of [...this.#listeners]) l(e);
  }
}
