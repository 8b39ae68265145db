import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { Counter, Registry } from "prom-client";
import { silentLogger } from "../common/logger.js";
import type { Readiness } from "./admin-app.js";
import { AdminServer } from "./admin-server.js";

interface Started {
  readonly server: AdminServer;
  readonly base: string;
}

async function startAdmin(overrides: { readiness?: () => Readiness; apps?: () => unknown; registry?: Registry } = {}): Promise<Started> {
  const registry = overrides.registry ?? new Registry();
  const server = new AdminServer(
    { host: "127.0.0.1", port: 0 },
    {
      registry,
      readiness: overrides.readiness ?? (() => ({ ready: true, reasons: [] })),
      config: () => ({ source: "/etc/tp.yaml", disk: "same" }),
      apps: overrides.apps ?? (() => ({ apps: [] })),
      xds: () => ({ nodes: [] }),
      logger: silentLogger,
    },
  );
  await server.start();
  const address = server.address();
  assert.ok(address !== undefined);
  return { server, base: `http://${address}` };
}

/** Writes raw bytes to the admin port and returns all it answers before closing. */
function rawHttp(base: string, bytes: string): Promise<string> {
  const port = Number(base.split(":").at(-1));
  return new Promise((resolve) => {
    let reply = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    socket.on("data", (d: Buffer) => (reply += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.once("close", () => resolve(reply));
  });
}

describe("AdminServer", () => {
  it("binds port 0 to a real port and answers /healthz", async () => {
    const { server, base } = await startAdmin();
    try {
      assert.doesNotMatch(base, /:0$/);
      const res = await fetch(`${base}/healthz`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "ok\n");
    } finally {
      await server.stop();
    }
  });

  it("answers /readyz 200 when ready and 503 with the reasons when not", async () => {
    let state: Readiness = { ready: true, reasons: [] };
    const { server, base } = await startAdmin({ readiness: () => state });
    try {
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      state = { ready: false, reasons: ["config file on disk is invalid"] };
      const res = await fetch(`${base}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { ready: false, reasons: ["config file on disk is invalid"] });
    } finally {
      await server.stop();
    }
  });

  it("serves its own registry with default process metrics on /metrics", async () => {
    const registry = new Registry();
    new Counter({ name: "tp_test_total", help: "test", registers: [registry] }).inc(3);
    const { server, base } = await startAdmin({ registry });
    try {
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /^tp_test_total 3$/m);
      assert.match(text, /process_cpu_user_seconds_total/);
    } finally {
      await server.stop();
    }
  });

  it("serves the JSON providers on /api/config, /api/apps and /api/xds", async () => {
    const { server, base } = await startAdmin({ apps: () => ({ apps: [{ app: "default/shiny", queued: 2 }] }) });
    try {
      assert.deepEqual(await (await fetch(`${base}/api/config`)).json(), { source: "/etc/tp.yaml", disk: "same" });
      assert.deepEqual(await (await fetch(`${base}/api/apps`)).json(), { apps: [{ app: "default/shiny", queued: 2 }] });
      assert.deepEqual(await (await fetch(`${base}/api/xds`)).json(), { nodes: [] });
      assert.equal((await fetch(`${base}/nope`)).status, 404);
    } finally {
      await server.stop();
    }
  });

  it("answers 500 when a provider throws, and keeps serving", async () => {
    const { server, base } = await startAdmin({
      apps: () => {
        throw new Error("bug");
      },
    });
    try {
      assert.equal((await fetch(`${base}/api/apps`)).status, 500);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it("fails to start on a port in use with a TicketplaneError, and stops idempotently", async () => {
    const first = await startAdmin();
    const port = Number(first.base.split(":").at(-1));
    const second = new AdminServer({ host: "127.0.0.1", port }, { registry: new Registry(), readiness: () => ({ ready: true, reasons: [] }), config: () => ({}), apps: () => ({}), xds: () => ({}), logger: silentLogger, defaultMetrics: false });
    try {
      await assert.rejects(second.start(), { code: "TP_IO" });
    } finally {
      await second.stop();
      await first.server.stop();
      await first.server.stop();
    }
  });

  it("a second stop() settles only once the socket is closed, like the first", async () => {
    const { server, base } = await startAdmin();
    const port = Number(base.split(":").at(-1));
    const first = server.stop();
    const second = server.stop();
    assert.equal(first, second, "one stop, shared");
    await second;
    assert.equal(server.listening(), false);
    // The port is free again: a new server can bind it at once.
    const again = new AdminServer({ host: "127.0.0.1", port }, { registry: new Registry(), readiness: () => ({ ready: true, reasons: [] }), config: () => ({}), apps: () => ({}), xds: () => ({}), logger: silentLogger, defaultMetrics: false });
    await again.start();
    await again.stop();
  });

  it("counts 4xx answers by status code: unknown paths, and requests the HTTP parser refuses", async () => {
    const registry = new Registry();
    const { server, base } = await startAdmin({ registry });
    try {
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(`${base}/api/nope`)).status, 404);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.match(await rawHttp(base, "NOT HTTP AT ALL\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(await rawHttp(base, `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /^ticketplane_admin_client_errors_total\{code="404"\} 2$/m);
      assert.match(text, /^ticketplane_admin_client_errors_total\{code="400"\} 1$/m);
      assert.match(text, /^ticketplane_admin_client_errors_total\{code="431"\} 1$/m);
      assert.doesNotMatch(text, /code="200"/);
    } finally {
      await server.stop();
    }
  });
});
