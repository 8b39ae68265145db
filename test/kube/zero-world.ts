/**
 * The world of the scale-to-zero tests (test/kube/): the reconciler over
 * Kubernetes mode's real adapters (its writes recorded in order), the test
 * API server with its simulated ReplicaSet controller, the resolver on a
 * real port, and the app's "pod" as a real child process on the port the
 * TicketedApp names (pods get 127.0.0.1 when a test marks them Ready).
 * Timers run on a fake clock; HTTP, watches and processes are real. Every
 * API call is checked against deploy/rbac.yaml.
 */
import assert from "node:assert/strict";
import { httpGet } from "../support/http-get.js";
import { Registry } from "prom-client";
import { appKey } from "../../src/config/app-spec.js";
import { startKubeActors, type KubeActors } from "../../src/kube/reconcile-ports.fixture.js";
import type { ReconcilePorts } from "../../src/reconcile/index.js";
import { Reconciler } from "../../src/reconcile/reconciler.js";
import { ResolverServer } from "../../src/resolver/resolver-server.js";
import { createTicketResolverPorts } from "../../src/resolver/ticket-ports.js";
import { soleReplica } from "../../src/runtime/ports.js";
import type { KObject } from "../support/kube-api/kinds.js";
import type { KubeApiHarness } from "../support/kube-api/harness.js";
import { deployment, DEPLOYMENTS, TICKETED_APPS, ticketedApp } from "../support/kube-api/objects.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { RbacRecorder, shippedRules } from "../support/rbac.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { freePort, spawnUpstream } from "../support/upstream-server.js";
import { eventually } from "../support/wait-for.js";

const S = 1000;
export const APP = appKey("default", "web");
export const VSS = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";
export const RESOLVER_SERVICE = { host: "ticketplane-resolver.ticketplane-system.svc.cluster.local", port: 9006 };
export const GATEWAY = [{ destination: { host: "ticket-gateway.ticketplane-system.svc.cluster.local", port: { number: 8080 } } }];

export const ok = (r: { status: number; body: KObject }, what: string): KObject => {
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

export type ZeroWorld = Awaited<ReturnType<typeof world>>;

/**
 * One app `default/web` (minPods 0, its VirtualService unless told
 * otherwise), the reconciler and the resolver, started. The resolver's
 * waiting page is off unless `waitingPageAfter` is given.
 */
export async function world(kube: KubeApiHarness, options: { virtualService?: boolean; holdTimeout?: string; waitingPageAfter?: string; podCooldown?: string } = {}) {
  const port = await freePort();
  ok(await kube.api.post(DEPLOYMENTS, deployment("web", 1)), "deployment");
  ok(await kube.api.post(TICKETED_APPS, ticketedApp("web", { deployment: "web", pathPrefix: "/web/", port, ticketsPerPod: 2, spareTickets: 1, minPods: 0, maxPods: 3, podCooldown: options.podCooldown ?? "10s", scaleDown: { pods: 1, period: "15s", stabilizationWindow: "0s" }, resolver: { holdTimeout: options.holdTimeout ?? "2m", ...(options.waitingPageAfter === undefined ? { waitingPage: false } : { waitingPageAfter: options.waitingPageAfter }) } })), "ticketed app");
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
  /** Ticks until `done` holds; `realMsPerTick` slows fake time down where a real peer (a browser's timers) must keep up. */
  const until = async (what: string, done: () => boolean | Promise<boolean>, realMsPerTick = 1) => {
    await eventually(async () => {
      if (await done()) return true;
      await tick();
      return false;
    }, { what, intervalMs: realMsPerTick, timeoutMs: Math.max(15_000, realMsPerTick * 300) });
  };
  /** Ticks until `pending` settles (a held request's answer), then returns it. */
  const settled = async <T>(what: string, pending: Promise<T>): Promise<T> => {
    let done = false;
    void pending.then(() => (done = true), () => (done = true));
    await until(what, () => done);
    return pending;
  };
  const upstreams: { stop(): Promise<void> }[] = [];
  await reconciler.start(new AbortController().signal);
  return {
    port, clock, core, controller, reconciler, resolver, writes, replicas, podsOf, markReady, vsRoute, tick, until, settled, actors,
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

