import type { TypeUrl } from "../resources/type-urls.js";
import { computeDelta, deltaForNames, deltaFromChange, isEmptyDelta, type DeltaResult, type DeltaSubscription } from "./delta.js";
import type { EncodedResource } from "./encoded-resource.js";
import { deltaBody, sotwBody } from "./response-body.js";
import type { Snapshot } from "./snapshot.js";
import { changeBetween, type TypeChange } from "./snapshot-diff.js";
import { hasRemovals, sotwForNames, sotwFromChange, sotwResponse, withoutRemovals, type SotwResult } from "./sotw.js";
import type { DeltaCacheResponse, DeltaStreamView, Respond, SotwCacheResponse, SotwStreamView, Watch } from "./watch.js";

/** One open watch as the cache drives it. */
export interface CacheWatch extends Watch {
  readonly typeUrl: TypeUrl;
  /** Evaluates the watch against `next`; `change` is the shared prev→next diff of its type. */
  update(prev: Snapshot | undefined, next: Snapshot, change: TypeChange): void;
}

/**
 * What both protocols share: the snapshot the stream is in step with (for
 * the fast path, from the shared snapshot change), and back-pressure. A
 * watch whose response the stream could not take is *behind*: it computes
 * nothing on later updates, and `resume()` answers once against the
 * snapshot current then (the change from the last snapshot the stream took
 * to the current one is computed once and shared by every stream catching
 * up from the same place).
 */
abstract class BaseWatch<Result, Response> implements CacheWatch {
  /** The snapshot whose resources of this type the stream holds (as far as this watch covers them); undefined when unknown. */
  #base: Snapshot | undefined;
  #behind = false;
  #cancelled = false;
  /** Names asked for while behind. */
  #pendingNames: Set<string> | undefined;

  constructor(
    readonly typeUrl: TypeUrl,
    private readonly current: () => Snapshot | undefined,
    private readonly respond: Respond<Response>,
    private readonly onCancel: (w: CacheWatch) => void,
  ) {}

  protected abstract full(next: Snapshot): Result | undefined;
  protected abstract fromChange(next: Snapshot, change: TypeChange): Result | undefined;
  protected abstract forNames(next: Snapshot, names: Iterable<string>): Result | undefined;
  protected abstract merge(a: Result, b: Result): Result;
  protected abstract removes(result: Result): boolean;
  protected abstract withoutRemovals(result: Result): Result | undefined;
  protected abstract response(next: Snapshot, result: Result): Response;

  update(prev: Snapshot | undefined, next: Snapshot, change: TypeChange): void {
    if (this.#behind || this.#cancelled) return;
    const fast = this.#base !== undefined && this.#base === prev;
    // In step and the type unchanged (most types of most updates): nothing to compute or send.
    if (fast && change.upserted.length === 0 && change.removed.length === 0) this.#base = next;
    else this.#deliver(next, fast ? this.fromChange(next, change) : this.full(next));
  }

  resume(holdRemovals = false): boolean {
    if (this.#cancelled) return false;
    this.#behind = false;
    const next = this.current();
    if (!next) return false;
    const names = this.#pendingNames;
    this.#pendingNames = undefined;
    const result = this.#catchUp(next, names);
    if (holdRemovals && result && this.removes(result)) {
      const now = this.withoutRemovals(result);
      // What the client holds is then neither `base` nor `next`: the next evaluation is a full one.
      if (now && this.#send(next, now)) this.#base = undefined;
      else if (now) this.#pendingNames = names;
      return true;
    }
    // Refused again (the stream's writes filled up meanwhile): the names asked for while behind are still owed.
    if (!this.#deliver(next, result)) this.#pendingNames = names;
    return false;
  }

  /** What the client lacks of `next`: the change since the snapshot it holds (or all of it), and the names asked for while behind. */
  #catchUp(next: Snapshot, names: ReadonlySet<string> | undefined): Result | undefined {
    const base = this.#base;
    const result = base === next ? undefined : base ? this.fromChange(next, changeBetween(base, next, this.typeUrl)) : this.full(next);
    if (!names || !base) return result;
    const more = this.forNames(next, names);
    if (!more) return result;
    return result ? this.merge(result, more) : more;
  }

  subscribe(names: readonly string[]): void {
    if (this.#cancelled || names.length === 0) return;
    if (this.#behind) {
      this.#pendingNames ??= new Set();
      for (const n of names) this.#pendingNames.add(n);
      return;
    }
    const next = this.current();
    if (!next) return;
    if (this.#base !== next) {
      this.#deliver(next, this.full(next));
      return;
    }
    const result = this.forNames(next, names);
    if (result && !this.#send(next, result)) this.#pendingNames = new Set(names);
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.onCancel(this);
  }

  /** Sends `result` (if any); the stream is then in step with `next` (true), or behind when it could not take it (false). */
  #deliver(next: Snapshot, result: Result | undefined): boolean {
    if (result !== undefined && !this.#send(next, result)) return false;
    this.#base = next;
    return true;
  }

  #send(next: Snapshot, result: Result): boolean {
    if (this.respond(this.response(next, result))) return true;
    this.#behind = true;
    return false;
  }
}

export class SotwWatch extends BaseWatch<SotwResult, SotwCacheResponse> {
  constructor(
    typeUrl: TypeUrl,
    private readonly stream: SotwStreamView,
    current: () => Snapshot | undefined,
    respond: Respond<SotwCacheResponse>,
    onCancel: (w: CacheWatch) => void,
  ) {
    super(typeUrl, current, respond, onCancel);
  }

  protected full(next: Snapshot): SotwResult | undefined {
    return sotwResponse(this.stream.subscription(this.typeUrl), this.typeUrl, next);
  }

  protected fromChange(next: Snapshot, change: TypeChange): SotwResult | undefined {
    return sotwFromChange(this.stream.subscription(this.typeUrl), this.typeUrl, next, change);
  }

  protected forNames(next: Snapshot, names: Iterable<string>): SotwResult | undefined {
    const sub = this.stream.subscription(this.typeUrl);
    // Names asked for while behind may have been dropped since.
    return sub.wildcard ? undefined : sotwForNames(sub, this.typeUrl, next, [...names].filter((n) => sub.names.has(n)));
  }

  protected merge(a: SotwResult, b: SotwResult): SotwResult {
    if (a.replace) return a;
    return { ...a, resources: union(a.resources, b.resources), removed: [...new Set([...a.removed, ...b.removed])] };
  }

  protected removes(result: SotwResult): boolean {
    return hasRemovals(result, this.stream.subscription(this.typeUrl));
  }

  protected withoutRemovals(result: SotwResult): SotwResult | undefined {
    return withoutRemovals(result, this.stream.subscription(this.typeUrl));
  }

  protected response(_next: Snapshot, r: SotwResult): SotwCacheResponse {
    const typeUrl = this.typeUrl;
    return { typeUrl, ...r, body: () => sotwBody(r.version, typeUrl, r.resources) };
  }
}

export class DeltaWatch extends BaseWatch<DeltaResult, DeltaCacheResponse> {
  /** The stream's live subscription of the type, the same object for the watch's life (DeltaStreamView): read once, not looked up per update. */
  readonly #sub: DeltaSubscription;

  constructor(
    typeUrl: TypeUrl,
    stream: DeltaStreamView,
    current: () => Snapshot | undefined,
    respond: Respond<DeltaCacheResponse>,
    onCancel: (w: CacheWatch) => void,
  ) {
    super(typeUrl, current, respond, onCancel);
    this.#sub = stream.subscription(typeUrl);
  }

  protected full(next: Snapshot): DeltaResult | undefined {
    return nonEmpty(computeDelta(this.#sub, next.resources(this.typeUrl), () => next.list(this.typeUrl)));
  }

  protected fromChange(_next: Snapshot, change: TypeChange): DeltaResult | undefined {
    return nonEmpty(deltaFromChange(this.#sub, change));
  }

  protected forNames(next: Snapshot, names: Iterable<string>): DeltaResult | undefined {
    const sub = this.#sub;
    // Names subscribed while behind may have been unsubscribed since.
    const wanted = [...names].filter((n) => sub.wildcard || sub.subscribed.has(n));
    // The whole list only when the answer is every resource (a first subscription): building it is a pass over the fleet.
    return nonEmpty(deltaForNames(sub, next.resources(this.typeUrl), wanted, () => next.list(this.typeUrl)));
  }

  protected merge(a: DeltaResult, b: DeltaResult): DeltaResult {
    return { changed: union(a.changed, b.changed), removed: [...new Set([...a.removed, ...b.removed])] };
  }

  protected removes(result: DeltaResult): boolean {
    return result.removed.length > 0;
  }

  protected withoutRemovals(result: DeltaResult): DeltaResult | undefined {
    return result.changed.length === 0 ? undefined : { changed: result.changed, removed: [] };
  }

  protected response(next: Snapshot, r: DeltaResult): DeltaCacheResponse {
    return new DeltaResponse(this.typeUrl, next, r);
  }
}

/**
 * A delta response as the cache hands it to a stream, one per stream and
 * update: a class rather than an object literal with a closure, so the
 * per-stream cost of a fan-out is one small object.
 */
class DeltaResponse implements DeltaCacheResponse {
  readonly systemVersion: string;
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
  readonly resources: ReadonlyMap<string, EncodedResource>;

  constructor(
    readonly typeUrl: TypeUrl,
    next: Snapshot,
    r: DeltaResult,
  ) {
    this.systemVersion = next.typeVersion(typeUrl);
    this.changed = r.changed;
    this.removed = r.removed;
    this.resources = next.resources(typeUrl);
  }

  body(): Buffer {
    return deltaBody(this.systemVersion, this.typeUrl, this.changed, this.removed);
  }
}

function nonEmpty(d: DeltaResult): DeltaResult | undefined {
  return isEmptyDelta(d) ? undefined : d;
}

/** `a` and the resources of `b` not named in `a`. */
function union(a: readonly EncodedResource[], b: readonly EncodedResource[]): readonly EncodedResource[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const names = new Set(a.map((r) => r.name));
  return [...a, ...b.filter((r) => !names.has(r.name))];
}
