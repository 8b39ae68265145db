import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { silentLogger } from "../common/logger.js";
import { AdminServer } from "./admin-server.js";
import type { DrainOutcome, PodDrainer } from "./drain-route.js";

/** Pods that exist and which are marked, as a drainer port would keep them. */
class MarkingDrainer implements PodDrainer {
  readonly marked = new Set<string>();
  fail = false;
  constructor(readonly pods: readonly string[]) {}
  drain(namespace: string, pod: string): Promise<DrainOutcome> {
    if (this.fail) return Promise.reject(new Error("API server unavailable"));
    const key = `${namespace}/${pod}`;
    if (!this.pods.includes(key)) return Promise.resolve("not_found");
    if (this.marked.has(key)) return Promise.resolve("already");
    this.marked.add(key);
    return Promise.resolve("drained");
  }
}

async function withAdmin(drain: PodDrainer | undefined, body: (base: string) => Promise<void>): Promise<void> {
  const server = new AdminServer({ host: "127.0.0.1", port: 0 }, { registry: new Registry(), readiness: () => ({ ready: true, reasons: [] }), config: () => ({}), apps: () => ({}), xds: () => ({}), logger: silentLogger, defaultMetrics: false, ...(drain ? { drain } : {}) });
  await server.start();
  try {
    await body(`http://${server.address() ?? ""}`);
  } finally {
    await server.stop();
  }
}

describe("POST /drain/<namespace>/<pod>", () => {
  it("marks the pod draining through the port, and answers 200 again when it already is (idempotent)", async () => {
    const drainer = new MarkingDrainer(["ns/web-7d9f-abcde"]);
    await withAdmin(drainer, async (base) => {
      const first = await fetch(`${base}/drain/ns/web-7d9f-abcde`, { method: "POST" });
      assert.equal(first.status, 200);
      assert.deepEqual(await first.json(), { namespace: "ns", pod: "web-7d9f-abcde", draining: true, already: false });
      assert.deepEqual([...drainer.marked], ["ns/web-7d9f-abcde"]);
      const again = await fetch(`${base}/drain/ns/web-7d9f-abcde`, { method: "POST" });
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as { already: boolean }).already, true);
    });
  });

  it("404 for a pod no app lists; 400 for names that are not Kubernetes names; GET is not a drain", async () => {
    const drainer = new MarkingDrainer([]);
    await withAdmin(drainer, async (base) => {
      const missing = await fetch(`${base}/drain/ns/ghost`, { method: "POST" });
      assert.equal(missing.status, 404);
      assert.match(((await missing.json()) as { error: string }).error, /ns\/ghost/);
      assert.equal((await fetch(`${base}/drain/NS/web`, { method: "POST" })).status, 400);
      assert.equal((await fetch(`${base}/drain/ns/web_1`, { method: "POST" })).status, 400);
      assert.equal((await fetch(`${base}/drain/ns/web`)).status, 404);
      assert.equal(drainer.marked.size, 0);
    });
  });

  it("503 naming the pod when the mark cannot be written; the server keeps serving", async () => {
    const drainer = new MarkingDrainer(["ns/web"]);
    drainer.fail = true;
    await withAdmin(drainer, async (base) => {
      const res = await fetch(`${base}/drain/ns/web`, { method: "POST" });
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: string }).error, /ns\/web.*API server unavailable/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    });
  });

  it("without a drainer (a mode whose pods cannot be drained) the route does not exist", async () => {
    await withAdmin(undefined, async (base) => {
      assert.equal((await fetch(`${base}/drain/ns/web`, { method: "POST" })).status, 404);
    });
  });
});
