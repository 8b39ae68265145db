/**
 * /api/events over a real HTTP server on port 0, timers on the fake clock:
 * the first view at once, then only changes; nudges coalesced; heartbeats;
 * a slow client's buffer bounded (it gets the latest view when it drains);
 * a disconnect cleans up.
 */
import assert from "node:assert/strict";
import { get, type IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { waitFor } from "../../test/support/wait-for.js";
import { silentLogger } from "../common/logger.js";
import { AdminServer } from "./admin-server.js";

/** One EventSource-like client: keeps the parsed events and comments. */
class EventReader {
  readonly events: { event: string; data: string }[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: IncomingMessage["headers"] = {};
  response: IncomingMessage | undefined;
  #buffer = "";
  readonly #request;

  constructor(url: string) {
    this.#request = get(url, (res) => {
      this.response = res;
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => this.#parse(chunk));
      res.on("error", () => undefined);
    });
    this.#request.on("error", () => undefined);
  }

  data(): unknown[] {
    return this.events.filter((e) => e.event === "status").map((e) => JSON.parse(e.data) as unknown);
  }

  close(): void {
    this.#request.destroy();
  }

  #parse(chunk: string): void {
    this.#buffer += chunk;
    let end: number;
    while ((end = this.#buffer.indexOf("\n\n")) >= 0) {
      const frame = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        else if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: data.join("\n") });
    }
  }
}

async function start(view: () => unknown, options: { maxBufferedBytes?: number; onChange?: (nudge: () => void) => void } = {}) {
  const clock = new FakeClock();
  const server = new AdminServer(
    { host: "127.0.0.1", port: 0 },
    {
      registry: new Registry(),
      readiness: () => ({ ready: true, reasons: [] }),
      config: () => ({}),
      apps: () => ({ apps: [] }),
      xds: () => ({}),
      logger: silentLogger,
      defaultMetrics: false,
      dashboard: {
        clock,
        status: view,
        refreshMs: 1_000,
        heartbeatMs: 15_000,
        ...(options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }),
        changes: (listener) => {
          options.onChange?.(listener);
          return () => options.onChange?.(() => undefined);
        },
      },
    },
  );
  await server.start();
  return { clock, server, base: `http://${server.address() ?? ""}` };
}

const adminBuffered = (server: AdminServer): number => server.statusEvents()?.bufferedBytes() ?? -1;
const adminClients = (server: AdminServer): number => server.statusEvents()?.clients() ?? -1;

describe("/api/events: the dashboard's live status", () => {
  it("sends the view at once, then only when it changes; heartbeats keep the stream open", async () => {
    let n = 1;
    const { clock, server, base } = await start(() => ({ n }));
    const reader = new EventReader(`${base}/api/events`);
    try {
      await waitFor(() => reader.events.length === 1, { what: "the first view" });
      assert.equal(reader.status, 200);
      assert.match(String(reader.headers["content-type"]), /^text\/event-stream/);
      assert.equal(reader.headers["cache-control"], "no-store");
      assert.deepEqual(reader.data(), [{ n: 1 }]);
      clock.advance(3_000);
      n = 2;
      clock.advance(1_000);
      await waitFor(() => reader.events.length === 2, { what: "the changed view" });
      clock.advance(5_000);
      n = 3;
      clock.advance(1_000);
      await waitFor(() => reader.events.length === 3, { what: "the next change" });
      assert.deepEqual(reader.data(), [{ n: 1 }, { n: 2 }, { n: 3 }], "unchanged views are not sent again");
      clock.advance(15_000);
      await waitFor(() => reader.comments.includes("heartbeat"), { what: "a heartbeat" });
    } finally {
      reader.close();
      await server.stop();
    }
  });

  it("coalesces nudges from the ticket core into one update", async () => {
    let n = 0;
    let nudge: () => void = () => undefined;
    const { clock, server, base } = await start(() => ({ n }), { onChange: (l) => (nudge = l) });
    const reader = new EventReader(`${base}/api/events`);
    try {
      await waitFor(() => reader.events.length === 1);
      for (let i = 0; i < 10; i++) {
        n++;
        nudge();
      }
      clock.advance(100);
      await waitFor(() => reader.events.length === 2, { what: "one update for ten nudges" });
      assert.deepEqual(reader.data().at(-1), { n: 10 });
    } finally {
      reader.close();
      await server.stop();
    }
  });

  it("bounds a slow client's buffer and sends it the latest view once it reads again", async () => {
    let n = 0;
    const pad = "x".repeat(64 * 1024);
    const { clock, server, base } = await start(() => ({ n, pad }), { maxBufferedBytes: 128 * 1024 });
    const reader = new EventReader(`${base}/api/events`);
    try {
      await waitFor(() => reader.response !== undefined && reader.events.length === 1);
      reader.response?.pause();
      // 400 changed views of 64 KiB: 25 MiB if each were buffered for a client that does not read.
      let maxBuffered = 0;
      for (let i = 0; i < 400; i++) {
        n++;
        clock.advance(1_000);
        maxBuffered = Math.max(maxBuffered, adminBuffered(server));
      }
      assert.ok(maxBuffered <= 128 * 1024 + 70 * 1024, `the server buffered at most one view past the bound (${maxBuffered} bytes)`);
      reader.response?.resume();
      await waitFor(() => (reader.data().at(-1) as { n?: number } | undefined)?.n === 400, { what: () => `the latest view after draining (have ${JSON.stringify((reader.data().at(-1) as { n?: number } | undefined)?.n)})` });
      assert.ok(reader.events.length < 400, `views were skipped, not queued (${reader.events.length})`);
    } finally {
      reader.close();
      await server.stop();
    }
  });

  it("forgets a client that disconnects, and ends every stream when the server stops", async () => {
    const { clock, server, base } = await start(() => ({ ok: true }));
    const a = new EventReader(`${base}/api/events`);
    const b = new EventReader(`${base}/api/events`);
    await waitFor(() => a.events.length === 1 && b.events.length === 1);
    assert.equal(adminClients(server), 2);
    a.close();
    await waitFor(() => adminClients(server) === 1, { what: "the closed client removed" });
    const timers = clock.pendingTimers;
    b.close();
    await waitFor(() => adminClients(server) === 0, { what: "the last client removed" });
    assert.ok(clock.pendingTimers < timers, "no client: no refresh or heartbeat timers");
    const c = new EventReader(`${base}/api/events`);
    await waitFor(() => c.events.length === 1, { what: "a new client gets the view at once" });
    const ended = new Promise<void>((resolve) => c.response?.on("end", () => resolve()));
    await server.stop();
    await ended;
  });
});

describe("the dashboard's files and /api/status", () => {
  it("serves the page, its CSS and script (no asset from elsewhere) and the status view", async () => {
    const { server, base } = await start(() => ({ apps: [], gateways: [], generatedAt: "t" }));
    try {
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      const html = await page.text();
      assert.match(html, /<script src="dashboard.js"><\/script>/);
      assert.ok(!/(src|href)="(https?:)?\/\//.test(html), "nothing from another origin");
      for (const [path, type] of [["/dashboard.css", /^text\/css/], ["/dashboard.js", /^text\/javascript/]] as const) {
        const res = await fetch(`${base}${path}`);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get("content-type") ?? "", type);
        assert.ok(!/https?:\/\//.test(await res.text()), `${path} loads nothing from elsewhere`);
      }
      assert.deepEqual(await (await fetch(`${base}/api/status`)).json(), { apps: [], gateways: [], generatedAt: "t" });
    } finally {
      await server.stop();
    }
  });
});
