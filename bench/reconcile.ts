/**
 * bench:reconcile — Kubernetes mode's reconcile path at the issue's scale:
 * 10,000 pods in 500 apps on the test API server (RECONCILE_BENCH_APPS,
 * RECONCILE_BENCH_PODS_PER_APP). One JSON line per figure (bench/lib/rounds.ts).
 *
 * - reconcile.pod_cache_bytes_per_pod (goal ≤ 4096): heap per cached pod
 *   after stripping, and reconcile.relist_10k_pods_ms: one full paged list
 *   of every pod into the stripped cache (both from bench/lib/pod-cache-memory,
 *   which bench:pod-cache also reports).
 * - reconcile.ratio_to_round_trip (goal ≤ 3): the time from the ticket that
 *   leaves fewer than `spareTickets` free slots to the scale write arriving
 *   at the API server, over one round trip (GET of a scale subresource) in
 *   the same run, through client-node (what every call of this process
 *   costs; the goal figure) and, for comparison, through a bare fetch
 *   (reconcile.ratio_to_bare_fetch_round_trip). Unlike bench:scale-latency (the tests' thin HTTP adapter),
 *   this runs the real wiring: KubeInventory's informers over all 500 apps
 *   feed the ticket core, and the Reconciler acts through
 *   createKubeReconcilePorts (scale and pods read from informer caches).
 *   Each crossing is on a fresh app; a round's value is the median of
 *   PER_ROUND crossings; rounds alternate which side goes first.
 */
import { performance } from "node:perf_hooks";
import { Watch } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { systemClock } from "../src/common/clock.js";
import { silentLogger } from "../src/common/logger.js";
import { appKey } from "../src/config/app-spec.js";
import { loadConnection } from "../src/kube/client.js";
import { EventRecorder } from "../src/kube/events.js";
import { KubeInventory } from "../src/kube/inventory.js";
import { createKubeReconcilePorts } from "../src/kube/reconcile-ports.js";
import { kubeApis } from "../src/kube/resources.js";
import { Reconciler } from "../src/reconcile/reconciler.js";
import type { ReconcilePorts } from "../src/reconcile/ports.js";
import { soleReplica } from "../src/runtime/ports.js";
import { admit, TicketCore } from "../src/tickets/index.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { measurePodCache, realisticPod } from "./lib/pod-cache-memory.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";
import { EventsV1Api } from "@kubernetes/client-node";

const APPS = Number(process.env["RECONCILE_BENCH_APPS"] ?? 500);
const PODS_PER_APP = Number(process.env["RECONCILE_BENCH_PODS_PER_APP"] ?? 20);
const ROUNDS = 5;
const PER_ROUND = 5;
const NS = "default";
const RING = { active: "k1", keys: [{ id: "k1", secret: Buffer.alloc(32, 7) }] };

async function until(condition: () => boolean, what: string | (() => string), timeoutMs = 60_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`bench:reconcile: timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function deploymentObject(name: string, replicas: number): Record<string, unknown> {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels: { app: name } }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [] } } } };
}

async function main(): Promise<void> {
  const cache = await measurePodCache(APPS * PODS_PER_APP, APPS);
  report(figure("reconcile.pod_cache_bytes_per_pod", [cache.strippedBytesPerPod], { op: "<=", limit: 4096 }, "B"));
  report(info("reconcile.relist_10k_pods_ms", cache.listMs, "ms"));

  const server = await KubeApiServer.start();
  const k = (plural: string) => {
    const kind = server.store.kinds.find((x) => x.plural === plural && (plural !== "events" || x.group === "events.k8s.io"));
    if (kind === undefined) throw new Error(`no ${plural}`);
    return kind;
  };
  // The 500 apps at their bounds (minPods = replicas): the reconciler has nothing to scale in them, only to watch.
  for (let a = 0; a < APPS; a++) {
    server.store.create(k("deployments"), NS, deploymentObject(`app${a}`, PODS_PER_APP));
    server.store.create(k("ticketedapps"), NS, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: `app${a}` }, spec: { deployment: `app${a}`, pathPrefix: `/app${a}/`, port: 3838, minPods: PODS_PER_APP, maxPods: PODS_PER_APP } });
  }
  // The API server keeps a new pod's status out of a create (it is the kubelet's); written through the status subresource, as a kubelet does.
  const createRunningPod = (body: Record<string, unknown>): void => {
    const created = server.store.create(k("pods"), NS, body);
    server.store.patch(k("pods"), NS, String(created.metadata?.name), "merge", { status: body["status"] }, { subresource: "status" });
  };
  for (let i = 0; i < APPS * PODS_PER_APP; i++) createRunningPod(realisticPod(i, `app${i % APPS}`));
  const connection = loadConnection({ kubeconfig: await server.writeKubeconfig(), env: {} });
  const registry = new Registry();
  const inventory = new KubeInventory({ apis: kubeApis(connection.kubeConfig), watch: new Watch(connection.kubeConfig), namespaces: [NS], clock: systemClock, logger: silentLogger });
  const core = new TicketCore({ clock: systemClock, keys: RING, routableByDefault: true, canAddPods: true });
  inventory.feed(core);
  const events = new EventRecorder({ events: connection.kubeConfig.makeApiClient(EventsV1Api), reportingController: "ticketplane.dev/controller", reportingInstance: "bench", clock: systemClock, logger: silentLogger, registry });
  const ports = createKubeReconcilePorts({ kubeConfig: connection.kubeConfig, inventory, events, namespaces: [NS], clock: systemClock, logger: silentLogger, registry });
  // Where a crossing's time goes: when the reconciler starts and ends its scale read for each app.
  const readStartAt = new Map<string, number>();
  const readEndAt = new Map<string, number>();
  const timedPorts: ReconcilePorts = {
    ...ports,
    scale: {
      read: async (ref) => {
        if (!readStartAt.has(ref.deployment) || !scaleWriteAt.has(ref.deployment)) readStartAt.set(ref.deployment, performance.now());
        const r = await ports.scale.read(ref);
        if (!scaleWriteAt.has(ref.deployment)) readEndAt.set(ref.deployment, performance.now());
        return r;
      },
      write: (ref, replicas, rv) => ports.scale.write(ref, replicas, rv),
    },
  };
  const reconciler = new Reconciler({ clock: systemClock, logger: silentLogger, registry, leadership: soleReplica(), views: core, ports: timedPorts });
  const signal = new AbortController().signal;
  // When each app's scale write arrived (the request's arrival at the API server).
  const scaleWriteAt = new Map<string, number>();
  server.onRequest((r) => {
    const m = /\/deployments\/([^/]+)\/scale$/.exec(r.path);
    if (m?.[1] !== undefined && r.method === "PUT" && !scaleWriteAt.has(m[1])) scaleWriteAt.set(m[1], performance.now());
  });
  try {
    const t0 = performance.now();
    await inventory.start(signal);
    await ports.start(signal);
    const last = appKey(NS, `app${APPS - 1}`);
    await until(() => core.apps().length === APPS && core.pods(last).length === PODS_PER_APP, () => `every app's pods in the ticket core (apps ${core.apps().length}, pods of ${last}: ${core.pods(last).length})`);
    await reconciler.start(signal);
    await reconciler.idle();
    report(info("reconcile.start_to_first_pass_ms", performance.now() - t0, "ms"));

    // One round trip, two ways: a bare fetch (the floor), and the same call through client-node, the client this process uses for every API call.
    const fetchTrip = async (): Promise<number> => {
      const t = performance.now();
      const res = await fetch(`${server.url}/apis/apps/v1/namespaces/${NS}/deployments/app0/scale`);
      await res.arrayBuffer();
      return performance.now() - t;
    };
    const appsApi = kubeApis(connection.kubeConfig).apps;
    const clientTrip = async (): Promise<number> => {
      const t = performance.now();
      await appsApi.readNamespacedDeploymentScale({ name: "app0", namespace: NS });
      return performance.now() - t;
    };
    const fetchTrips: number[] = [];
    const roundTrip = async (): Promise<number> => {
      const samples: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < 20; i++) {
        samples.push(await clientTrip());
        bare.push(await fetchTrip());
      }
      fetchTrips.push(median(bare));
      return median(samples);
    };
    let n = 0;
    const toRead: number[] = [];
    const read: number[] = [];
    const readToWrite: number[] = [];
    const crossing = async (): Promise<number> => {
      const name = `fresh${++n}`;
      const app = appKey(NS, name);
      server.store.create(k("deployments"), NS, deploymentObject(name, 1));
      const p = realisticPod(1_000_000 + n, name) as { metadata: { name: string } };
      p.metadata.name = `${name}-0`;
      createRunningPod(p);
      server.store.create(k("ticketedapps"), NS, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name }, spec: { deployment: name, pathPrefix: `/${name}/`, port: 3838, ticketsPerPod: 2, spareTickets: 1, minPods: 1, maxPods: 10 } });
      await until(() => core.pods(app).some((x) => x.ready), `${name}'s pod in the ticket core`);
      await reconciler.idle();
      if (scaleWriteAt.has(name)) throw new Error(`${name} scaled before its ticket`);
      admit(core, app, {}); // one of two slots used: one free, still ≥ spareTickets
      await reconciler.idle();
      if (scaleWriteAt.has(name)) throw new Error(`${name} scaled on the first ticket`);
      const t1 = performance.now();
      admit(core, app, {}); // none free: crosses the threshold
      await until(() => scaleWriteAt.has(name), `${name}'s scale write`, 10_000);
      await reconciler.idle();
      const rs = readStartAt.get(name) ?? Number.NaN;
      const re = readEndAt.get(name) ?? Number.NaN;
      toRead.push(rs - t1);
      read.push(re - rs);
      readToWrite.push((scaleWriteAt.get(name) ?? Number.NaN) - re);
      return (scaleWriteAt.get(name) ?? Number.NaN) - t1;
    };
    const crossings = async (): Promise<number> => {
      const samples: number[] = [];
      for (let i = 0; i < PER_ROUND; i++) samples.push(await crossing());
      return median(samples);
    };
    await roundTrip();
    await crossings(); // warm-up
    fetchTrips.length = 0;
    const s = await alternate(ROUNDS, roundTrip, crossings);
    report(info("reconcile.round_trip_client_node_ms", median(s.a), "ms"));
    report(info("reconcile.round_trip_fetch_ms", median(fetchTrips), "ms"));
    report(info("reconcile.crossing_to_scale_write_ms", median(s.b), "ms"));
    report(info("reconcile.crossing.ticket_to_scale_read_ms", median(toRead), "ms"));
    report(info("reconcile.crossing.scale_read_ms", median(read), "ms"));
    report(info("reconcile.crossing.read_to_write_arrival_ms", median(readToWrite), "ms"));
    report(figure("reconcile.ratio_to_round_trip", ratios(s), { op: "<=", limit: 3 }));
    report(figure("reconcile.ratio_to_bare_fetch_round_trip", ratios({ a: fetchTrips, b: s.b }), { op: "<=", limit: 3 }));
  } finally {
    await reconciler.stop();
    await ports.stop();
    await events.stop();
    await inventory.stop();
    await server.close();
  }
}

await main();
process.exit(0);
