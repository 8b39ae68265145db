/**
 * Scale to zero and back, whole (the world of ./zero-world.ts: the
 * reconciler over Kubernetes mode's real adapters, the test API server and
 * its ReplicaSet controller, the resolver, a real app process).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useKubeApi } from "../support/kube-api/harness.js";
import { TICKETED_APPS } from "../support/kube-api/objects.js";
import { APP, GATEWAY, ok, RESOLVER_SERVICE, VSS, world } from "./zero-world.js";

const kube = useKubeApi();

describe("scale to zero and back (Kubernetes mode, the resolver, a real app process)", () => {
  it("idles to zero route-first, holds a request at zero, and answers it from a pod that was Ready before it listened; API errors in both flips only delay them", async () => {
    const w = await world(kube);
    try {
      w.markReady();
      const first = await w.app("web-1");
      await w.until("the pod in the ticket core", () => w.core.pods(APP).some((p) => p.ready));
      // Going: a 500 on the first flip, and someone edits the VirtualService while it flips (a 409 when the edit lands between read and write).
      kube.server.failNext(1, { status: 500, method: "PATCH", path: `${VSS}/web` });
      let edited = false;
      const off = kube.server.onRequest((r) => {
        if (!edited && r.method === "PATCH" && r.path === `${VSS}/web` && kube.server.requests.filter((x) => x.method === "PATCH" && x.path === `${VSS}/web`).length >= 2) {
          edited = true;
          void kube.api.patch(`${VSS}/web`, { metadata: { labels: { edited: "yes" } } }, "application/merge-patch+json");
        }
      });
      await w.until("replicas 0", async () => (await w.replicas()) === 0);
      off();
      assert.deepEqual(w.writes, ["route=Proxy", "replicas=0"], "the route went to the resolver before the last replica");
      assert.deepEqual(await w.vsRoute(), [{ destination: { host: RESOLVER_SERVICE.host, port: { number: RESOLVER_SERVICE.port } } }]);
      await first.stop();
      await w.until("the pod gone", () => w.core.pods(APP).length === 0);
      const status = ok(await kube.api.get(`${TICKETED_APPS}/web`), "app").status as { mode?: string };
      assert.equal(status.mode, "Proxy");

      // Coming back: a request at zero is held; the Deployment goes to 1.
      const answer = w.send("/web/hello");
      kube.server.failNext(1, { status: 500, method: "PATCH", path: `${VSS}/web` });
      await w.until("replicas 1", async () => (await w.replicas()) === 1);
      assert.equal(w.resolver.heldCount(APP), 1);
      await w.until("the new pod", () => w.podsOf().length === 1);
      w.markReady(); // Ready as the watch sees it, but the app does not listen yet
      await w.until("the ready pod in the ticket core", () => w.core.pods(APP).some((p) => p.ready));
      for (let i = 0; i < 3; i++) await w.tick();
      assert.equal(w.resolver.heldCount(APP), 1, "still held: the probe found nothing listening");
      assert.equal(w.writes.at(-1), "replicas=1", "the route still points at the resolver");
      await w.app("web-2");
      const a = await w.settled("the held request's answer", answer);
      assert.equal(a.status, 200);
      const pod = w.core.pods(APP)[0]?.name ?? "";
      assert.equal(a.body, `web-2 GET /hello pod=${pod}`);
      assert.match(a.cookie[0] ?? "", /^ticketplane=t1\./, "the user got a ticket on the first pod");
      await w.until("the route back at the app", async () => JSON.stringify(await w.vsRoute()) === JSON.stringify(GATEWAY));
      assert.deepEqual(w.writes, ["route=Proxy", "replicas=0", "replicas=1", "route=Serve"]);
      const back = ok(await kube.api.get(`${VSS}/web`), "vs");
      assert.equal(back.metadata?.labels?.edited, "yes", "the person's edit survived both flips");
    } finally {
      await w.stop();
    }
  });

  it("a missing VirtualService: a False condition and an Event, and the app keeps its pod", async () => {
    const w = await world(kube, { virtualService: false });
    try {
      w.markReady();
      await w.until("the pod in the ticket core", () => w.core.pods(APP).some((p) => p.ready));
      await w.until("the condition", async () => {
        const s = ok(await kube.api.get(`${TICKETED_APPS}/web`), "app").status as { conditions?: { type: string; status: string; reason: string }[] } | undefined;
        return s?.conditions?.some((c) => c.type === "ScaleToZeroReady" && c.status === "False" && c.reason === "VirtualServiceMissing") === true;
      });
      for (let i = 0; i < 20; i++) await w.tick();
      assert.equal(await w.replicas(), 1);
      assert.ok(!w.writes.includes("replicas=0"));
      const events = ok(await kube.api.get("/apis/events.k8s.io/v1/namespaces/default/events"), "events").items as { reason?: string }[];
      assert.ok(events.some((e) => e.reason === "VirtualServiceMissing"));
    } finally {
      await w.stop();
    }
  });

  it("a pod that never becomes Ready: the held request gets a 504 after the hold timeout, the route stays at the resolver", async () => {
    const w = await world(kube, { holdTimeout: "20s" });
    try {
      w.markReady();
      const first = await w.app("web-1");
      await w.until("replicas 0", async () => (await w.replicas()) === 0);
      await first.stop();
      await w.until("the pod gone", () => w.core.pods(APP).length === 0);
      const answer = w.send("/web/x");
      const a = await w.settled("the answer", answer);
      assert.equal(a.status, 504);
      assert.match(a.body, /default\/web did not start within 20 s/);
      assert.ok(!w.writes.includes("route=Serve"));
    } finally {
      await w.stop();
    }
  });
});
