/**
 * bench:scale-latency — how soon the reconciler asks for a pod once a
 * ticket crosses the spare threshold, as a ratio to one round trip to the
 * test API server in the same run (goal ≤ 3×).
 *
 * Kubernetes mode as it runs: a KubeInventory (informers) feeding the ticket
 * core, the reconciler acting through createKubeReconcilePorts, all on the
 * real clock, against the test API server and its ReplicaSet controller.
 * Each crossing starts a fresh app (a Deployment at one ready replica, a
 * TicketedApp), then issues the ticket that leaves fewer than
 * `spareTickets` free slots and measures the time until the scale write is
 * sent (the median of nine apps per round). The baseline is one GET of a
 * Deployment's scale subresource (the median of twenty). After a warm-up,
 * rounds alternate which is measured first; the figure is the median ratio.
 * Pods, costs, drain marks and the scale (once each Deployment has been
 * read live) come from the informers' caches: no round trip precedes the
 * write.
 */
import { AppsV1Api, EventsV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { performance } from "node:perf_hooks";
import { Registry } from "prom-client";
import { systemClock } from "../src/common/clock.js";
import { silentLogger } from "../src/common/logger.js";
import { appKey } from "../src/config/app-spec.js";
import { EventRecorder } from "../src/kube/events.js";
import { KubeInventory } from "../src/kube/inventory.js";
import { createKubeReconcilePorts } from "../src/kube/reconcile-ports.js";
import { kubeApis } from "../src/kube/resources.js";
import type { ReconcilePorts } from "../src/reconcile/ports.js";
import { Reconciler } from "../src/reconcile/reconciler.js";
import { soleReplica } from "../src/runtime/ports.js";
import { admit, TicketCore } from "../src/tickets/index.js";
import { ApiClient, type Reply } from "../test/support/kube-api/http-client.js";
import { deployment, DEPLOYMENTS, TICKETED_APPS, ticketedApp } from "../test/support/kube-api/objects.js";
import { ReplicaController } from "../test/support/kube-api/replica-controller.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";

function check(r: Reply, what: string): Reply {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

const ROUNDS = 7;
/** Crossings per round, each on a fresh app; the round's value is their median. */
const PER_ROUND = 9;
const RING = { active: "k1", keys: [{ id: "k1", secret: Buffer.alloc(32, 7) }] };

async function roundTripMs(api: ApiClient): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    check(await api.get(`${DEPLOYMENTS}/web/scale`), "scale");
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

/** Kubernetes mode's watching and acting side, with a hook on scale writes. */
interface Actors {
  readonly kubeConfig: KubeConfig;
  readonly core: TicketCore;
  readonly reconciler: Reconciler;
  /** When the scale write of a Deployment was sent (performance.now()), by name. */
  readonly writesSentAt: Map<string, number>;
  stop(): Promise<void>;
}

async function startActors(server: KubeApiServer): Promise<Actors> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({ clusters: [{ name: "bench", server: server.url, skipTLSVerify: true }], users: [{ name: "bench", token: "bench" }], contexts: [{ name: "bench", cluster: "bench", user: "bench" }], currentContext: "bench" });
  const registry = new Registry();
  const core = new TicketCore({ clock: systemClock, keys: RING, routableByDefault: true });
  const watch = new Watch(kubeConfig);
  const inventory = new KubeInventory({ apis: kubeApis(kubeConfig), watch, namespaces: [], clock: systemClock, logger: silentLogger });
  inventory.feed(core);
  const events = new EventRecorder({ events: kubeConfig.makeApiClient(EventsV1Api), reportingController: "ticketplane.dev/reconciler", reportingInstance: "bench", clock: systemClock, logger: silentLogger, registry });
  const kubePorts = createKubeReconcilePorts({ kubeConfig, inventory, events, clock: systemClock, logger: silentLogger, registry, watch });
  const writesSentAt = new Map<string, number>();
  const ports: ReconcilePorts = {
    ...kubePorts,
    scale: {
      read: (ref) => kubePorts.scale.read(ref),
      write: (ref, replicas, rv) => {
        if (!writesSentAt.has(ref.deployment)) writesSentAt.set(ref.deployment, performance.now());
        return kubePorts.scale.write(ref, replicas, rv);
      },
    },
  };
  const signal = new AbortController().signal;
  await inventory.start(signal);
  await kubePorts.start(signal);
  const reconciler = new Reconciler({ clock: systemClock, logger: silentLogger, registry, leadership: soleReplica(), views: core, ports });
  await reconciler.start(signal);
  return {
    kubeConfig, core, reconciler, writesSentAt,
    async stop() {
      await reconciler.stop();
      await kubePorts.stop();
      await events.stop();
      await inventory.stop();
    },
  };
}

/** The same GET through client-node, which the adapters use (informational: its own overhead). */
async function clientRoundTripMs(apps: AppsV1Api): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await apps.readNamespacedDeploymentScale({ name: "web", namespace: "default" });
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function crossingToWriteMs(api: ApiClient, actors: Actors, n: number): Promise<number> {
  const { core, reconciler, writesSentAt } = actors;
  const name = `web${n}`;
  const app = appKey("default", name);
  check(await api.post(DEPLOYMENTS, deployment(name, 1)), "deployment");
  check(await api.post(TICKETED_APPS, ticketedApp(name, { deployment: name, pathPrefix: `/${name}/`, port: 8080, ticketsPerPod: 2, spareTickets: 1, minPods: 1, maxPods: 10 })), "app");
  await until(() => core.pods(app).some((p) => p.ready), `${name}'s pod, ready, in the ticket core`);
  await reconciler.idle();
  if (writesSentAt.has(name)) throw new Error("the app scaled before the ticket");
  // One ticket on a pod of two slots leaves one free: still ≥ spareTickets 1. The second leaves none.
  admit(core, app, {});
  await reconciler.idle();
  if (writesSentAt.has(name)) throw new Error("the first ticket should not scale");
  const t1 = performance.now();
  admit(core, app, {});
  while (!writesSentAt.has(name)) await new Promise((r) => setImmediate(r));
  const sent = (writesSentAt.get(name) ?? Number.NaN) - t1;
  await reconciler.idle();
  return sent;
}

async function main(): Promise<void> {
  const server = await KubeApiServer.start();
  const controller = new ReplicaController(server.store, { readyAfterMs: 1 }).start();
  const api = new ApiClient(server.url);
  const actors = await startActors(server);
  try {
    check(await api.post(DEPLOYMENTS, deployment("web", 1)), "deployment");
    let n = 0;
    const crossings = async (): Promise<number> => {
      const samples: number[] = [];
      for (let i = 0; i < PER_ROUND; i++) samples.push(await crossingToWriteMs(api, actors, ++n));
      return median(samples);
    };
    // Warm-up (JIT, sockets), not measured.
    await roundTripMs(api);
    await crossings();
    const s = await alternate(ROUNDS, () => roundTripMs(api), crossings);
    report(info("scale_latency.round_trip_ms", median(s.a), "ms"));
    report(info("scale_latency.crossing_to_write_ms", median(s.b), "ms"));
    report(info("scale_latency.client_node_round_trip_ms", await clientRoundTripMs(actors.kubeConfig.makeApiClient(AppsV1Api)), "ms"));
    report(figure("scale_latency.ratio_to_round_trip", ratios(s), { op: "<=", limit: 3 }));
  } finally {
    await actors.stop();
    controller.stop();
    await server.close();
  }
}

await main();
