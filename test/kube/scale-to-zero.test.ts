/**
 * Scale to zero and back, whole: the reconciler over Kubernetes mode's real
 * adapters (its writes recorded in order), the test API server with its
 * simulated ReplicaSet controller, the resolver on a real port, and the
 * app's "pod" as a real child process on the port the TicketedApp names
 * (pods get 127.0.0.1 when a test marks them Ready). Timers run on a fake
 * clock; HTTP, watches and processes are real. Every API call is checked
 * against deploy/rbac.yaml.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { appKey } from "../../src/config/app-spec.js";
import { startKubeActors, type KubeActors } from "../../src/kube/reconcile-ports.fixture.js";
import type { ReconcilePorts } from "../../src/reconcile/index.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { ResolverServer } from "../../src/resolver/resolver-server.js";
import { createTicketResolverPorts } from "../../src/resolver/ticket-ports.js";
import { soleReplica } from "../../src/runtime/ports.js";
import type { KObject } from "../support/kube-api/kinds.js";
import { useKubeApi } from "../support/kube-api/harness.js";
import { deployment, DEPLOYMENTS, TICKETED_APPS, ticketedApp } from "../support/kube-api/objects.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { RbacRecorder, shippedRules } from "../support/rbac.js";
import { httpGet } from "../support/http-get.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { freePort, spawnUpstream } from "../support/upstream-server.js";
import { eventually } from "../support/wait-for.js";

const S = 1000;
const APP = appKey("default", "web");
const VSS = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";
const RESOLVER_SERVICE = { host: "ticketplane-resolver.ticketplane-system.svc.cluster.local", port: 9006 };
const GATEWAY = [{ destination: { host: "ticket-gateway.ticketplane-system.svc.cluster.local", port: { number: 8080 } } }];

const kube = useKubeApi();

const ok = (r: { status: number; body: KObject }, what: string): KObject => {
  assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

function virtualService(): KObject {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "web" },
    spec: { hosts: ["*"], gateways: ["istio-system/ingress"], http: [{ name: "docs", route: [{ destination: { host: "docs" } }] }, { name: "ticketplane-web", match: [{ uri: { prefix: "/web/" } }], route: GATEWAY }] },
  };
}

async function world(options: { virtualService?: boolean; holdTimeout?: string } = {}) {
  const port = await freePort();
  ok(await kube.api.post(DEPLOYMENTS, deployment("web", 1)), "deployment");
  ok(await kube.api.post(TICKETED_APPS, ticketedApp("web", { deployment: "web", pathPrefix: "/web/", port, ticketsPerPod: 2, spareTickets: 1, minPods: 0, maxPods: 3, podCooldown: "10s", scaleDown: { pods: 1, period: "15s", stabilizationWindow: "0s" }, resolver: { holdTimeout: options.holdTimeout ?? "2m", waitingPage: false } })), "ticketed app");
  if (options.virtualService !== false) ok(await kube.api.post(VSS, virtualService()), "virtual service");
  const controller = new ReplicaController(kube.server.store).start();
  const rbac = new RbacRecorder(kube.server, { ignoreTestClient: true });
  const actors: KubeActors = await startKubeActors(kube.server, { resolver: RESOLVER_SERVICE });
  const { clock, core } = actors;
  /** The reconciler's writes, in the order they reached the API server. */
  const writes: string[] = [];
  const real = actors.ports;
  const routes = real.routes;
  assert.ok(routes !== undefined);
  const ports: ReconcilePorts = {
    ...real,
    scale: { read: (ref) => real.scale.read(ref), write: async (ref, n, rv) => (await real.scale.write(ref, n, rv), void writes.push(`replicas=${String(n)}`)) },
    routes: { read: (app, spec) => routes.read(app, spec), write: async (app, spec, mode, rv) => (await routes.write(app, spec, mode, rv), void writes.push(`route=${mode}`)) },
  };
  const reconciler = new Reconciler({ clock, logger: new RecordingLogger(), registry: new Registry(), leadership: soleReplica(), views: core, ports, backoff: { random: () => 0.5 } });
  const resolverPorts = createTicketResolverPorts({ views: core, tickets: core, wake: (a) => reconciler.wake(a), serving: (a) => reconciler.serving(a) });
  const resolver = new ResolverServer({ ports: resolverPorts, listen: { host: "127.0.0.1", port: 0 }, clock, logger: new RecordingLogger(), registry: new Registry() });
  await resolver.start();
  await eventually(() => core.apps().some((s) => s.name === "web") || undefined, { what: "the app" });
  const replicas = async () => Number((ok(await kube.api.get(`${DEPLOYMENTS}/web/scale`), "scale").spec as { replicas: number }).replicas);
  const podsOf = () => controller.podsOf("default", "web");
  /** Marks every Pending pod Ready at 127.0.0.1 (where the app's process listens, or will). */
  const markReady = () => {
    for (const p of podsOf()) if ((p.status as { phase?: string } | undefined)?.phase !== "Running") controller.markReady("default", String(p.metadata?.name), "127.0.0.1");
  };
  const vsRoute = async (): Promise<unknown> => {
    const spec = ok(await kube.api.get(`${VSS}/web`), "vs").spec as { http: { route: unknown }[] };
    return spec.http[1]?.route;
  };
  /** One second of fake time: timers fire, the sweeper runs, the reconciler finishes what it started. */
  const tick = async () => {
    await clock.advanceAsync(S);
    core.sweep();
    await reconciler.idle();
    await actors.recorder.flush();
  };
  /** Ticks until `done` holds. */
  const until = async (what: string, done: () => boolean | Promise<boolean>) => {
    await eventually(async () => {
      if (await done()) return true;
      await tick();
      return false;
    }, { what, intervalMs: 1 });
  };
  const upstreams: { stop(): Promise<void> }[] = [];
  await reconciler.start(new AbortController().signal);
  return {
    port, clock, core, controller, reconciler, resolver, writes, replicas, podsOf, markReady, vsRoute, tick, until, actors,
    async app(name: string) {
      const u = await spawnUpstream(name, port);
      upstreams.push(u);
      return u;
    },
    send(path: string) {
      return httpGet("127.0.0.1", resolver.address().port, path);
    },
    async stop() {
      await resolver.stop();
      resolverPorts.close();
      await reconciler.stop();
      await actors.stop();
      controller.stop();
      for (const u of upstreams) await u.stop();
      rbac.detach();
      assert.deepEqual(rbac.denied(shippedRules()), [], "every call is one deploy/rbac.yaml allows");
    },
  };
}

describe("scale to zero and back (Kubernetes mode, the resolver, a real app process)", () => {
  it("idles to zero route-first, holds a request at zero, and answers it from a pod that was Ready before it listened; API errors in both flips only delay them", async () => {
    const w = await world();
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
      let done = false;
      void answer.then(() => (done = true));
      await w.until("the held request's answer", () => done);
      const a = await answer;
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
    const w = await world({ virtualService: false });
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
    const w = await world({ holdTimeout: "20s" });
    try {
      w.markReady();
      const first = await w.app("web-1");
      await w.until("replicas 0", async () => (await w.replicas()) === 0);
      await first.stop();
      await w.until("the pod gone", () => w.core.pods(APP).length === 0);
      const answer = w.send("/web/x");
      let done = false;
      void answer.then(() => (done = true));
      await w.until("the answer", () => done);
      const a = await answer;
      assert.equal(a.status, 504);
      assert.match(a.body, /default\/web did not start within 20 s/);
      assert.ok(!w.writes.includes("route=Serve"));
    } finally {
      await w.stop();
    }
  });
});
