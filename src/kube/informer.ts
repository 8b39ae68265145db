/**
 * Informer: a list+watch cache of one collection (pods in a namespace,
 * Deployments everywhere, …) that survives what real API servers do.
 *
 * - List (in pages) → the cache and a resourceVersion; watch from it with
 *   bookmarks and a bounded `timeoutSeconds`; a clean end re-watches from
 *   the last resourceVersion seen.
 * - 410 Gone (on the watch, as an ERROR event or a status) → relist.
 * - 429, 5xx and network errors (the server went away) → retry with
 *   exponential backoff and jitter, honouring Retry-After; the watch
 *   resumes from its resourceVersion, a list from scratch.
 * - A watch that silently stops delivering: the server must end a watch at
 *   its `timeoutSeconds`; one still open a grace period later is abandoned
 *   and the collection relisted. A periodic relist catches anything else.
 * - Never throws out of a callback, never stops by itself: only `stop()`
 *   ends it. client-node's own informer stops on any error but 410 and
 *   reports untyped errors; here every failure is typed (TicketplaneError,
 *   through toKubeError) and shown as a readiness reason while it lasts.
 *
 * Objects are stripped (src/kube/strip.ts) before they are cached; an update
 * whose stripped form equals the cached one is not a change. Changes are
 * reported in batches: one per watch event, one per (re)list with the
 * difference to what was cached.
 *
 * Timers (backoff, stall detection, periodic relist) run on the Clock port.
 */
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once } from "../common/runnable.js";
import type { Runnable } from "../common/runnable.js";
import { Backoff } from "./backoff.js";
import type { BackoffOptions } from "./backoff.js";
import { describeKubeError, isForbidden, isGone, isNotFound, retryAfterMs, statusCode, toKubeError } from "./errors.js";
import { sameStripped } from "./strip.js";

/** One page of a list. */
export interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  /** The continue token of the next page, when there is one. */
  readonly continue?: string;
}

/** One collection on the API server: how to list it, where to watch it. */
export interface ResourceSource {
  /** For logs and readiness: "pods in namespace shop", "Deployments in every namespace". */
  readonly description: string;
  /** The collection's path, which is also the watch's: /api/v1/namespaces/shop/pods. */
  readonly path: string;
  /** What narrows the watch as it narrows the list (`labelSelector`, `fieldSelector`). */
  readonly selectors?: Readonly<Record<string, string>>;
  list(page: { readonly limit: number; readonly continue?: string }): Promise<ListPage>;
}

/** client-node's `Watch` fits this: events as parsed JSON, `done` once with the reason the stream ended (null: a clean end). */
export interface WatchPort {
  watch(path: string, query: Record<string, string | number | boolean>, onEvent: (type: string, object: unknown) => void, done: (err: unknown) => void): Promise<{ abort(): void }>;
}

/** One cached object that changed: added (no before), updated, or deleted (no after). */
export interface Change<T> {
  readonly key: string;
  readonly before?: T;
  readonly after?: T;
}

export interface InformerOptions<T> {
  readonly source: ResourceSource;
  /** API object → what is cached; undefined: not usable (no name), skipped. */
  readonly strip: (object: unknown) => T | undefined;
  /** The cache key of a stripped object (`namespace/name`). */
  readonly keyOf: (object: T) => string;
  readonly watch: WatchPort;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onChange?: (changes: readonly Change<T>[]) => void;
  readonly backoff?: BackoffOptions;
  /** The watch's `timeoutSeconds` (default 300: real servers end watches every few minutes anyway). */
  readonly watchTimeoutSeconds?: number;
  /** How long past its timeout a watch may stay open before it counts as stalled (default 30 s). */
  readonly stallGraceMs?: number;
  /** A full relist this often, whatever the watch says (default 10 min). */
  readonly relistIntervalMs?: number;
  /** Items per list page (default 500). */
  readonly pageSize?: number;
  /** A watch that ends cleanly sooner than this, having delivered nothing, counts as a failure (default 1 s): a server that ends every watch at once must not make us loop. */
  readonly minWatchMs?: number;
}

interface Failure {
  readonly since: number;
  readonly what: "list" | "watch";
  readonly error: TicketplaneError;
}

export class Informer<T> implements Runnable {
  readonly name: string;
  readonly #o: InformerOptions<T>;
  readonly #backoff: Backoff;
  #items = new Map<string, T>();
  #resourceVersion = "";
  #synced = false;
  #stopped = false;
  #failure: Failure | undefined;
  /** Bumped whenever the current list or watch is superseded: callbacks of older ones are ignored. */
  #generation = 0;
  #watch: { abort(): void } | undefined;
  #retry: Timer | undefined;
  #stall: Timer | undefined;
  #relist: Timer | undefined;
  #goneInARow = 0;
  #firstList: { resolve: () => void; reject: (err: Error) => void } | undefined;
  readonly stop: () => Promise<void>;

  constructor(options: InformerOptions<T>) {
    this.#o = options;
    this.name = `informer(${options.source.description})`;
    this.#backoff = new Backoff(options.backoff);
    this.stop = once(() => this.#stop());
  }

  /**
   * Lists, then watches. Resolves after the first successful list. Rejects
   * (typed) when that list is refused for good — 401/403 (RBAC), 404 (the
   * kind is not served: a CRD not installed) — or when stopped or aborted
   * first; other failures are retried with backoff until the list succeeds.
   */
  start(signal: AbortSignal): Promise<void> {
    const first = new Promise<void>((resolve, reject) => (this.#firstList = { resolve, reject }));
    const onAbort = (): void => this.#firstList?.reject(new TicketplaneError(ERROR_CODES.UNAVAILABLE, `start of ${this.name} cancelled`, { resource: this.#o.source.description }));
    signal.addEventListener("abort", onAbort, { once: true });
    this.#relist = this.#o.clock.setInterval(() => this.#periodicRelist(), this.#o.relistIntervalMs ?? 600_000);
    void this.#list("start");
    return first.finally(() => signal.removeEventListener("abort", onAbort));
  }

  /** Lists again now (SIGHUP), whatever the watch says. Never throws: failures retry as usual. */
  relist(): void {
    if (!this.#stopped && this.#firstList !== undefined) void this.#list("relist requested");
  }

  /** True once a list has succeeded. */
  synced(): boolean {
    return this.#synced;
  }

  /** The cached objects, by key. Read-only: the informer replaces them, never mutates one. */
  items(): ReadonlyMap<string, T> {
    return this.#items;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** The resourceVersion the cache is at. */
  resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** The failure in progress (typed), if any. */
  lastError(): TicketplaneError | undefined {
    return this.#failure?.error;
  }

  /** Why this cache is not to be trusted now: "watch of pods in namespace shop failing since …: 503 …"; undefined when fine. */
  readinessReason(): string | undefined {
    const f = this.#failure;
    if (f !== undefined) return `${f.what} of ${this.#o.source.description} failing since ${new Date(f.since).toISOString()}: ${f.error.message}`;
    if (!this.#synced) return `${this.#o.source.description}: not listed yet`;
    return undefined;
  }

  // ── list ──────────────────────────────────────────────────────────────

  async #list(reason: string): Promise<void> {
    const generation = this.#supersede();
    this.#o.logger.debug("listing", { resource: this.#o.source.description, reason });
    let page: ListPage | undefined;
    const items: unknown[] = [];
    try {
      do {
        page = await this.#o.source.list({ limit: this.#o.pageSize ?? 500, ...(page?.continue === undefined ? {} : { continue: page.continue }) });
        if (generation !== this.#generation) return;
        items.push(...page.items);
      } while (page.continue !== undefined && page.continue !== "");
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#listFailed(err);
      return;
    }
    this.#replace(items, page.resourceVersion);
    this.#recovered();
    this.#goneInARow = 0;
    if (!this.#synced) {
      this.#synced = true;
      this.#firstList?.resolve();
    }
    this.#startWatch();
  }

  #listFailed(err: unknown): void {
    // Before the first list, a refusal that retrying cannot fix stops the start with a clear error.
    if (!this.#synced && (isForbidden(err) || isNotFound(err))) {
      const cause = isNotFound(err) ? "the API server does not serve this kind (is its CustomResourceDefinition installed?)" : describeKubeError(err);
      this.#firstList?.reject(new TicketplaneError(toKubeError(err, {}).code, `cannot list ${this.#o.source.description}: ${cause}`, { resource: this.#o.source.description, status: statusCode(err) }, { cause: err }));
    }
    this.#failed("list", err, () => void this.#list("retry"));
  }

  /** Replaces the cache with a list's items, reporting the difference. */
  #replace(objects: readonly unknown[], resourceVersion: string): void {
    const next = new Map<string, T>();
    for (const object of objects) {
      const item = this.#o.strip(object);
      if (item !== undefined) next.set(this.#o.keyOf(item), item);
    }
    const changes: Change<T>[] = [];
    for (const [key, before] of this.#items) if (!next.has(key)) changes.push({ key, before });
    for (const [key, after] of next) {
      const before = this.#items.get(key);
      if (before === undefined) changes.push({ key, after });
      else if (!sameStripped(before, after)) changes.push({ key, before, after });
      else next.set(key, before);
    }
    this.#items = next;
    this.#resourceVersion = resourceVersion;
    this.#emit(changes);
  }

  #periodicRelist(): void {
    // A relist already pending (a retry) makes this one redundant.
    if (this.#stopped || !this.#synced || this.#retry !== undefined) return;
    void this.#list("periodic relist");
  }

  // ── watch ─────────────────────────────────────────────────────────────

  #startWatch(): void {
    const generation = this.#supersede();
    const { clock } = this.#o;
    const timeoutSeconds = this.#o.watchTimeoutSeconds ?? 300;
    const startedAt = clock.now();
    let delivered = false;
    this.#stall = clock.setTimeout(() => {
      if (generation !== this.#generation) return;
      this.#o.logger.warn("watch stalled: still open past its timeout, nothing delivered; relisting", { resource: this.#o.source.description, timeoutSeconds });
      void this.#list("stalled watch");
    }, timeoutSeconds * 1000 + (this.#o.stallGraceMs ?? 30_000));
    const onEvent = (type: string, object: unknown): void => {
      if (generation !== this.#generation) return;
      delivered = true;
      this.#onEvent(type, object);
    };
    const done = (err: unknown): void => {
      if (generation !== this.#generation) return;
      this.#watchEnded(err, delivered || clock.now() - startedAt >= (this.#o.minWatchMs ?? 1000));
    };
    const query = { ...this.#o.source.selectors, resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
    this.#o.watch.watch(this.#o.source.path, query, onEvent, done).then(
      (handle) => {
        if (generation === this.#generation) this.#watch = handle;
        else handle.abort();
      },
      (err: unknown) => done(err),
    );
  }

  #onEvent(type: string, object: unknown): void {
    if (type === "ERROR") {
      this.#watchError(object);
      return;
    }
    const rv = resourceVersionOf(object);
    if (rv !== undefined) this.#resourceVersion = rv;
    this.#goneInARow = 0;
    this.#recovered();
    if (type === "BOOKMARK") return;
    const item = this.#o.strip(object);
    if (item === undefined) return;
    const key = this.#o.keyOf(item);
    const before = this.#items.get(key);
    if (type === "DELETED") {
      if (before === undefined) return;
      this.#items.delete(key);
      this.#emit([{ key, before }]);
    } else if (type === "ADDED" || type === "MODIFIED") {
      if (before !== undefined && sameStripped(before, item)) return;
      this.#items.set(key, item);
      this.#emit([{ key, ...(before === undefined ? {} : { before }), after: item }]);
    }
  }

  /** An ERROR event carries a Status: 410 → relist, anything else → retry the watch after a backoff. */
  #watchError(status: unknown): void {
    const error = { body: status };
    this.#supersede();
    if (isGone(error)) this.#gone();
    else this.#failed("watch", error, () => this.#startWatch());
  }

  #watchEnded(err: unknown, lasted: boolean): void {
    this.#supersede();
    if (err === null || err === undefined || isInactivityTimeout(err)) {
      // The server ended the watch (its timeout, a restart of a proxy): carry on from where it was.
      if (lasted) this.#startWatch();
      else this.#failed("watch", new TicketplaneError(ERROR_CODES.UNAVAILABLE, "the watch ended at once, having delivered nothing"), () => this.#startWatch());
      return;
    }
    if (isGone(err)) this.#gone();
    else this.#failed("watch", err, () => this.#startWatch());
  }

  /** The resourceVersion is too old: relist at once, but not in a loop if the server keeps saying so. */
  #gone(): void {
    this.#goneInARow++;
    this.#o.logger.info("watch resourceVersion expired (410 Gone); relisting", { resource: this.#o.source.description, resourceVersion: this.#resourceVersion });
    if (this.#goneInARow === 1) void this.#list("410 Gone");
    else this.#failed("watch", new TicketplaneError(ERROR_CODES.GONE, "410 Gone again right after a relist"), () => void this.#list("410 Gone"));
  }

  // ── failures ──────────────────────────────────────────────────────────

  /** Records a failure (readiness shows it from now on), then retries after the backoff. */
  #failed(what: "list" | "watch", err: unknown, retry: () => void): void {
    if (this.#stopped) return;
    const error = toKubeError(err, { resource: this.#o.source.description, call: what });
    const wait = this.#backoff.next(retryAfterMs(err));
    const first = this.#failure === undefined;
    this.#failure = { since: this.#failure?.since ?? this.#o.clock.now(), what, error };
    const fields = { resource: this.#o.source.description, error: error.message, failures: this.#backoff.failures, retryInMs: wait };
    // The first failure of a streak is news; the retries that follow are not.
    if (first) this.#o.logger.warn(`${what} failed; retrying with backoff`, fields);
    else this.#o.logger.debug(`${what} failed; retrying with backoff`, fields);
    this.#retry?.cancel();
    this.#retry = this.#o.clock.setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) retry();
    }, wait);
  }

  #recovered(): void {
    if (this.#failure !== undefined) this.#o.logger.info("recovered", { resource: this.#o.source.description, failedSince: new Date(this.#failure.since).toISOString() });
    this.#failure = undefined;
    this.#backoff.reset();
  }

  /** Ends the current list or watch (its callbacks become no-ops) and its timers; returns the new generation. */
  #supersede(): number {
    this.#generation++;
    this.#stall?.cancel();
    this.#stall = undefined;
    this.#retry?.cancel();
    this.#retry = undefined;
    const watch = this.#watch;
    this.#watch = undefined;
    watch?.abort();
    return this.#generation;
  }

  #emit(changes: readonly Change<T>[]): void {
    if (changes.length === 0 || this.#o.onChange === undefined) return;
    try {
      this.#o.onChange(changes);
    } catch (err) {
      // A consumer's bug must not stop the cache; it is logged loudly.
      this.#o.logger.error("change handler threw", { resource: this.#o.source.description, error: err instanceof Error ? err.message : String(err) });
    }
  }

  #stop(): Promise<void> {
    this.#stopped = true;
    this.#supersede();
    this.#relist?.cancel();
    this.#firstList?.reject(new TicketplaneError(ERROR_CODES.UNAVAILABLE, `${this.name} stopped before its first list`, { resource: this.#o.source.description }));
    return Promise.resolve();
  }
}

function resourceVersionOf(object: unknown): string | undefined {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" ? rv : undefined;
}

/** client-node ends a watch that received nothing for 30 s with a TimeoutError: a quiet watch, not a failure. */
function isInactivityTimeout(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "TimeoutError";
}

/**
 * Starts an informer on a kind that may not be served (a CRD not
 * installed): true once it listed; false when the list was 404 (logged once
 * as `absent`, the informer stopped); any other failure rejects.
 */
export async function startIfServed<T>(informer: Informer<T>, signal: AbortSignal, logger: Logger, absent: string): Promise<boolean> {
  try {
    await informer.start(signal);
    return true;
  } catch (err) {
    await informer.stop();
    if (!isNotFound(err) && !(err instanceof TicketplaneError && err.code === ERROR_CODES.NOT_FOUND)) throw err;
    logger.info(absent, { informer: informer.name, detail: errorMessage(err) });
    return false;
  }
}
