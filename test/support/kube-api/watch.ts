/**
 * One watch: a chunked HTTP response of newline-delimited JSON events
 * `{"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": …}`, as the API
 * server streams them. It starts from a resourceVersion (replaying the kept
 * history; 410 Gone as an ERROR event when that is no longer kept), or with
 * the current state as ADDED events; an object that starts or stops matching
 * the selectors is ADDED or DELETED; bookmarks when allowed; ends after its
 * timeout. Tests can stall it (silent, open) or end it.
 */
import type { ServerResponse } from "node:http";
import { apiVersionOf } from "./kinds.ts";
import type { KObject } from "./kinds.ts";
import type { Filter, Matcher, ObjectStore, StoreEvent } from "./store.ts";
import { ApiError, errors } from "./status.ts";

export interface WatchSettings {
  readonly filter: Filter;
  /** "" or "0": start with the current state as ADDED events; N: the changes after N. */
  readonly resourceVersion: string;
  readonly resourceVersionMatch: string;
  /** The watch-list form: the current state, then a BOOKMARK annotated `k8s.io/initial-events-end`. */
  readonly sendInitialEvents: boolean;
  readonly allowBookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  readonly timeoutMs: number;
  /** How objects are written (a Table row for kubectl's human output); default as they are. */
  readonly render?: (obj: KObject) => unknown;
}

type WatchType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export class WatchStream {
  readonly closed: Promise<void>;
  readonly #store: ObjectStore;
  readonly #res: ServerResponse;
  readonly #s: WatchSettings;
  readonly #timers: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void) | undefined;
  #stalled = false;
  #ended = false;

  constructor(store: ObjectStore, res: ServerResponse, settings: WatchSettings) {
    this.#store = store;
    this.#res = res;
    this.#s = settings;
    this.closed = new Promise((resolve) => res.once("close", () => resolve(this.#cleanup())));
  }

  /** Validates the request (throws ApiError before anything is written), then streams. */
  start(): void {
    const match = this.#store.matcher(this.#s.filter);
    const { resourceVersion: rv, sendInitialEvents } = this.#s;
    if (sendInitialEvents && (!this.#s.allowBookmarks || this.#s.resourceVersionMatch !== "NotOlderThan")) {
      throw errors.invalid({ plural: "watches", group: "", kind: "ListOptions" }, "", [{ reason: "FieldValueForbidden", field: "sendInitialEvents", message: "Forbidden: sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan" }]);
    }
    if (rv !== "" && !/^\d+$/.test(rv)) throw errors.badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
    this.#res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    this.#res.flushHeaders();
    if (sendInitialEvents || rv === "" || rv === "0") {
      for (const obj of this.#store.list(this.#s.filter).items) this.#send("ADDED", obj);
      if (sendInitialEvents) this.#bookmark({ "k8s.io/initial-events-end": "true" });
    } else {
      const changes = this.#store.changesSince(Number(rv));
      if (changes === undefined) {
        const gone = new ApiError(410, "Expired", `too old resource version: ${rv} (${this.#store.oldestResourceVersion})`);
        this.#write("ERROR", gone.toStatus());
        this.end(false);
        return;
      }
      for (const e of changes) this.#deliver(e, match);
    }
    this.#unsubscribe = this.#store.subscribe((e) => this.#deliver(e, match));
    if (this.#s.allowBookmarks) this.#timers.push(setInterval(() => this.#bookmark(), this.#s.bookmarkIntervalMs));
    this.#timers.push(setTimeout(() => this.end(false), this.#s.timeoutMs));
  }

  /** Silent from now on: nothing is written and the timeout no longer ends it. */
  stall(): void {
    this.#stalled = true;
    this.#clearTimers();
  }

  /** Ends the stream: cleanly (the last chunk), or by resetting the connection. */
  end(abrupt: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cleanup();
    if (abrupt) this.#res.socket?.destroy();
    else this.#res.end();
  }

  #cleanup(): void {
    this.#clearTimers();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #clearTimers(): void {
    for (const t of this.#timers.splice(0)) clearTimeout(t);
  }

  /** Translates a change through the selectors: starting to match is ADDED, ceasing to match is DELETED. */
  #deliver(e: StoreEvent, match: Matcher): void {
    if (e.kind !== this.#s.filter.kind) return;
    const now = match(e.object);
    const before = e.prev !== undefined && match(e.prev);
    if (e.type === "ADDED") {
      if (now) this.#send("ADDED", e.object);
    } else if (e.type === "DELETED") {
      if (now || before) this.#send("DELETED", e.object);
    } else if (now) this.#send(before ? "MODIFIED" : "ADDED", e.object);
    else if (before) this.#send("DELETED", e.object);
  }

  #bookmark(annotations?: Record<string, string>): void {
    const k = this.#s.filter.kind;
    const metadata = { resourceVersion: String(this.#store.resourceVersion), ...(annotations === undefined ? {} : { annotations }) };
    this.#write("BOOKMARK", { kind: k.kind, apiVersion: apiVersionOf(k), metadata });
  }

  #send(type: WatchType, obj: KObject): void {
    this.#write(type, this.#s.render === undefined ? obj : this.#s.render(obj));
  }

  #write(type: WatchType, object: unknown): void {
    if (this.#stalled || this.#ended || this.#res.destroyed) return;
    this.#res.write(`${JSON.stringify({ type, object })}\n`);
  }
}
