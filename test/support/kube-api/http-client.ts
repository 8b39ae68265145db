/**
 * Plain `fetch` against the test API server for tests: JSON requests that
 * return status, headers and body, and a watch reader that yields the
 * newline-delimited events one at a time, each wait bounded.
 */
import type { KObject } from "./kinds.ts";

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: KObject;
}

/** The User-Agent of every ApiClient request: a test's own set-up calls, which the RBAC recorder can leave out (`ignoreTestClient`). */
export const TEST_CLIENT_USER_AGENT = "kube-api-test-client";

export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, body?: unknown, contentType = "application/json", headers: Record<string, string> = {}): Promise<Reply> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers: { "User-Agent": TEST_CLIENT_USER_AGENT, ...(payload === undefined ? {} : { "Content-Type": contentType }), ...headers }, ...(payload === undefined ? {} : { body: payload }), signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text === "" ? {} : JSON.parse(text)) as KObject };
  }

  get(path: string, headers?: Record<string, string>): Promise<Reply> {
    return this.request("GET", path, undefined, undefined, headers);
  }

  post(path: string, body: unknown): Promise<Reply> {
    return this.request("POST", path, body);
  }

  put(path: string, body: unknown): Promise<Reply> {
    return this.request("PUT", path, body);
  }

  patch(path: string, body: unknown, contentType: string): Promise<Reply> {
    return this.request("PATCH", path, body, contentType);
  }

  delete(path: string, body?: unknown): Promise<Reply> {
    return this.request("DELETE", path, body);
  }

  /** Opens a watch (`path` with its query, `watch=true` added) and resolves once the response headers are in. */
  async watch(path: string): Promise<WatchReader> {
    const controller = new AbortController();
    const sep = path.includes("?") ? "&" : "?";
    const res = await fetch(`${this.baseUrl}${path}${sep}watch=true`, { headers: { "User-Agent": TEST_CLIENT_USER_AGENT }, signal: controller.signal });
    if (res.body === null) throw new Error("watch response without a body");
    return new WatchReader(res, controller);
  }
}

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: KObject;
}

export class WatchReader {
  readonly status: number;
  readonly headers: Headers;
  readonly #events: WatchEvent[] = [];
  readonly #waiters = new Set<() => void>();
  #ended = false;
  #error: unknown;
  readonly #controller: AbortController;
  readonly done: Promise<void>;

  constructor(res: Response, controller: AbortController) {
    this.status = res.status;
    this.headers = res.headers;
    this.#controller = controller;
    this.done = this.#pump(res);
  }

  /** True once the server ended the stream (or the connection broke). */
  get ended(): boolean {
    return this.#ended;
  }

  /** How the stream ended, if it broke (an abort by close() is not an error). */
  get error(): unknown {
    return this.#error;
  }

  async #pump(res: Response): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line !== "") this.#events.push(JSON.parse(line) as WatchEvent);
        }
        this.#wake();
      }
    } catch (err) {
      if (!this.#controller.signal.aborted) this.#error = err;
    } finally {
      this.#ended = true;
      this.#wake();
    }
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** The next event, or undefined when the stream ends or `timeoutMs` passes first. */
  async nextOrUndefined(timeoutMs: number): Promise<WatchEvent | undefined> {
    if (this.#events.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const waiters = this.#waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    return this.#events.shift();
  }

  /** The next event; rejects when none comes within `timeoutMs` (default 5 s). */
  async next(timeoutMs = 5_000): Promise<WatchEvent> {
    const e = await this.nextOrUndefined(timeoutMs);
    if (e === undefined) throw new Error(this.#ended ? "the watch ended" : `no watch event within ${timeoutMs} ms`);
    return e;
  }

  /** Events until one satisfies `pred` (that one included), bounded. */
  async until(pred: (e: WatchEvent) => boolean, timeoutMs = 5_000): Promise<WatchEvent[]> {
    const deadline = Date.now() + timeoutMs;
    const seen: WatchEvent[] = [];
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      seen.push(e);
      if (pred(e)) return seen;
    }
  }

  /** Waits (bounded) for the server to end the stream. */
  async waitEnded(timeoutMs = 5_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the watch did not end within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([this.done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the client side (safe to call twice). */
  async close(): Promise<void> {
    this.#controller.abort();
    await this.done;
  }
}
