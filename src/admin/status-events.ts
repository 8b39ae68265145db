/**
 * `GET /api/events`: the status view as server-sent events, for the
 * dashboard. Each event is the whole view (`event: status`), so a client
 * that misses some loses nothing: the next one is complete.
 *
 * The view is computed once per refresh and shared by every client, and
 * sent only when it changed. Refreshes come from nudges (`changes`: the
 * ticket core's events, debounced) and from a periodic refresh that picks up
 * what nobody nudges (gateways ACKing, the reconciler's decisions). Timers
 * run only while a client is connected.
 *
 * Per client the buffer is bounded: a view is written only while the
 * socket's own buffer holds less than `maxBufferedBytes`; otherwise the
 * client is marked behind and gets the latest view when its socket drains.
 * A comment line every `heartbeatMs` keeps proxies from closing an idle
 * stream and tells the server when the client has gone. A disconnect (or
 * `close()`) removes the client at once.
 */
import type { Request, Response } from "express";
import type { Clock, Timer } from "../common/clock.js";

export interface StatusEventsOptions {
  readonly clock: Clock;
  /** The view, JSON-safe; computed once per refresh. */
  readonly view: () => unknown;
  /** Calls the listener when something the view shows may have changed. Returns an unsubscribe function. */
  readonly changes?: (listener: () => void) => () => void;
  /** Periodic refresh (default 1 s). */
  readonly refreshMs?: number;
  /** Coalesces nudges (default 100 ms). */
  readonly debounceMs?: number;
  /** Heartbeat comment (default 15 s). */
  readonly heartbeatMs?: number;
  /** Per client (default 256 KiB). */
  readonly maxBufferedBytes?: number;
  /** More concurrent clients are answered 503 (default 64). */
  readonly maxClients?: number;
}

interface Client {
  readonly res: Response;
  /** A view was skipped while the socket was full: send the latest on drain. */
  behind: boolean;
}

export class StatusEvents {
  readonly #o: StatusEventsOptions;
  readonly #clients = new Set<Client>();
  #frame = "";
  #json = "";
  #timers: Timer[] = [];
  #debounce: Timer | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(options: StatusEventsOptions) {
    this.#o = options;
  }

  /** Connected clients. */
  clients(): number {
    return this.#clients.size;
  }

  /** The largest socket buffer of any client now (bytes), to check the bound. */
  bufferedBytes(): number {
    let max = 0;
    for (const c of this.#clients) max = Math.max(max, c.res.writableLength);
    return max;
  }

  /** Express handler for `GET /api/events`. */
  readonly handle = (req: Request, res: Response): void => {
    if (this.#closed || this.#clients.size >= (this.#o.maxClients ?? 64)) {
      res.status(503).set("retry-after", "5").json({ error: "too many dashboard clients" });
      return;
    }
    res.status(200).set({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.flushHeaders();
    res.write("retry: 2000\n\n");
    const client: Client = { res, behind: false };
    this.#clients.add(client);
    res.on("drain", () => {
      if (client.behind) this.#send(client);
    });
    req.on("close", () => this.#remove(client));
    res.on("error", () => this.#remove(client));
    if (this.#clients.size === 1) this.#startTimers();
    this.#compute();
    this.#send(client);
  };

  /** Recomputes the view now and sends it to every client if it changed. */
  refresh(): void {
    if (this.#clients.size === 0) return;
    if (this.#compute()) for (const c of this.#clients) this.#send(c);
  }

  /** Ends every stream and stops the timers (the admin server is stopping). */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#clients]) {
      c.res.end();
      this.#remove(c);
    }
  }

  /** True when the view changed since the last computation. */
  #compute(): boolean {
    const json = JSON.stringify(this.#o.view());
    if (json === this.#json) return false;
    this.#json = json;
    this.#frame = `event: status\ndata: ${json}\n\n`;
    return true;
  }

  #send(client: Client): void {
    const { res } = client;
    // An empty socket buffer always takes the view, however large; a full one skips it until it drains.
    if (res.writableLength > 0 && res.writableLength + this.#frame.length > (this.#o.maxBufferedBytes ?? 256 * 1024)) {
      client.behind = true;
      return;
    }
    client.behind = false;
    res.write(this.#frame);
  }

  #startTimers(): void {
    const { clock } = this.#o;
    this.#timers = [
      clock.setInterval(() => this.refresh(), this.#o.refreshMs ?? 1_000),
      clock.setInterval(() => {
        for (const c of this.#clients) if (c.res.writableLength === 0) c.res.write(": heartbeat\n\n");
      }, this.#o.heartbeatMs ?? 15_000),
    ];
    this.#unsubscribe = this.#o.changes?.(() => {
      this.#debounce ??= clock.setTimeout(() => {
        this.#debounce = undefined;
        this.refresh();
      }, this.#o.debounceMs ?? 100);
    });
  }

  #remove(client: Client): void {
    if (!this.#clients.delete(client) || this.#clients.size > 0) return;
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    this.#debounce?.cancel();
    this.#debounce = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    // The next first client computes afresh.
    this.#json = "";
  }
}
