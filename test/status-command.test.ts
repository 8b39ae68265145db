import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { StatusView } from "../src/runtime/api-views.js";
import { adminBaseUrl, fetchStatus, renderStatus } from "../src/status-command.js";

const STATUS: StatusView = {
  generatedAt: "2026-03-01T10:00:00.000Z",
  apps: [
    {
      app: "default/shiny",
      pathPrefix: "/shiny/",
      gateway: "default",
      figures: { app: "default/shiny", pods: 2, servingPods: 1, capacity: 4, used: 3, onProbation: 0, free: 0, queued: 1, desiredPods: 3, issuedTotal: 9 },
      queueLength: 1,
      queue: [{ id: "q", position: 1, reserved: true }],
      connections: 2,
      mode: "Serve",
      decisions: [{ time: "2026-03-01T09:59:00.000Z", deployment: "shiny", from: 1, to: 2, reason: "3 tickets + 1 waiting + 0 spare at 2 per pod → 2 pods" }],
      pods: [
        { name: "shiny-a", address: "10.0.0.1:3838", ready: true, draining: false, routable: true, serving: true, slots: 2, used: 2, free: 0, connections: 2 },
        { name: "shiny-b", address: "10.0.0.2:3838", ready: true, draining: true, routable: true, serving: false, slots: 2, used: 1, free: 0, connections: 0 },
      ],
    },
  ],
  gateways: [
    { nodeId: "envoy-1", group: "default", protocol: "delta", connectedSince: "2026-03-01T09:00:00.000Z", waitingForConfig: false, inSync: false, types: [{ type: "Cluster", ackedVersion: "abcdef0123456789", currentVersion: "x", inSync: false, nack: "bad" }] },
  ],
};

describe("ticketplane status: the tables", () => {
  it("lays out apps, pods, the queue, decisions and gateways", () => {
    const lines = renderStatus(STATUS);
    assert.deepEqual(lines.slice(0, 2), [
      "APP            MODE   PODS  USED/CAPACITY  FREE  WAITING  WEBSOCKETS  PREFIX",
      "default/shiny  Serve  2     3/4            0     1        2           /shiny/",
    ]);
    const text = lines.join("\n");
    assert.ok(lines.includes("  shiny-a  10.0.0.1:3838  serving   2      2     0     2"), text);
    assert.ok(lines.includes("  shiny-b  10.0.0.2:3838  draining  2      1     0     0"), text);
    assert.match(text, /queue: 1 waiting, 1 with a slot held/);
    assert.ok(text.includes("    2026-03-01T09:59:00.000Z  shiny  1 → 2  3 tickets + 1 waiting"), text);
    assert.ok(lines.includes("envoy-1  default  delta     behind  Cluster=abcdef01 (NACK)"), text);
  });

  it("has a readable empty state", () => {
    const lines = renderStatus({ generatedAt: "t", apps: [], gateways: [] });
    assert.match(lines[0] ?? "", /^No apps yet/);
    assert.equal(lines.at(-1), "No gateway connected to xDS.");
  });

  it("takes HOST:PORT or a URL for --admin", () => {
    assert.equal(adminBaseUrl("127.0.0.1:9090"), "http://127.0.0.1:9090");
    assert.equal(adminBaseUrl("http://tp.example:80/admin/"), "http://tp.example/admin");
    assert.equal(adminBaseUrl("https://[::1]:9443"), "https://[::1]:9443");
    assert.equal(adminBaseUrl("http://"), undefined);
  });
});

describe("ticketplane status: fetching", () => {
  async function serverAnswering(status: number, body: string): Promise<{ base: string; close: () => Promise<void> }> {
    const server = createServer((_req, res) => res.writeHead(status, { "content-type": "application/json" }).end(body));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    return { base: `http://127.0.0.1:${String(port)}`, close: () => new Promise((r) => server.close(() => r())) };
  }

  it("reads the status view", async () => {
    const s = await serverAnswering(200, JSON.stringify(STATUS));
    try {
      assert.deepEqual(await fetchStatus(s.base), { ok: true, status: STATUS });
    } finally {
      await s.close();
    }
  });

  it("names the address and the cause for every failure", async () => {
    const notFound = await serverAnswering(404, '{"error":"not found"}');
    const notJson = await serverAnswering(200, "<html>");
    const notStatus = await serverAnswering(200, '{"apps":"x"}');
    try {
      const r404 = await fetchStatus(notFound.base);
      assert.ok(!r404.ok && r404.error.includes(`${notFound.base}/api/status answered HTTP 404`), JSON.stringify(r404));
      const rHtml = await fetchStatus(notJson.base);
      assert.ok(!rHtml.ok && /did not answer JSON/.test(rHtml.error));
      const rShape = await fetchStatus(notStatus.base);
      assert.ok(!rShape.ok && /did not answer a status view/.test(rShape.error));
    } finally {
      await Promise.all([notFound.close(), notJson.close(), notStatus.close()]);
    }
    const closed = await serverAnswering(200, "{}");
    await closed.close();
    const unreachable = await fetchStatus(closed.base);
    assert.ok(!unreachable.ok && unreachable.error.startsWith(`cannot reach ${closed.base}/api/status: `) && /ECONNREFUSED/.test(unreachable.error), JSON.stringify(unreachable));
  });
});
