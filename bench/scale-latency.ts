/**
 * bench:scale-latency — how soon the reconciler asks for a pod once a
 * ticket crosses the spare threshold, as a ratio to one round trip to the
 * test API server in the same run (goal ≤ 3×).
 *
 * Each round starts a fresh app on the test API server (a Deployment at one
 * replica, a TicketedApp) with the reconciler running on the real clock
 * through the thin HTTP adapter of the tests, then issues the ticket that
 * leaves fewer than `spareTickets` free slots and measures the time until
 * the scale write is sent (the median of nine apps per round). The baseline
 * is one GET of the Deployment's scale subresource (the median of twenty).
 * After a warm-up, rounds alternate which is measured first; the figure is
 * the median ratio. The HTTP adapter reads the scale and the pods' annotations
 * from the server on every run (about two round trips before the write); the
 * Kubernetes adapters read pods from informer caches, which is cheaper.
 */
import { performance } from "node:perf_hooks";
import { Registry } from "prom-client";
import { systemClock } from "../src/common/clock.js";
import { silentLogger } from "../src/common/logger.js";
import { appKey } from "../src/config/app-spec.js";
import { Reconciler } from "../src/reconcile/reconciler.js";
import { soleReplica } from "../src/runtime/ports.js";
import { admit, TicketCore } from "../src/tickets/index.js";
import { makeSpec } from "../test/support/app-spec.js";
import { check, HttpPorts } from "../test/support/http-reconcile-ports.js";
import { ApiClient } from "../test/support/kube-api/http-client.js";
import { deployment, DEPLOYMENTS, pod, PODS, TICKETED_APPS, ticketedApp } from "../test/support/kube-api/objects.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";

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

async function crossingToWriteMs(api: ApiClient, n: number): Promise<number> {
  const name = `web${n}`;
  check(await api.post(DEPLOYMENTS, deployment(name, 1)), "deployment");
  check(await api.post(TICKETED_APPS, ticketedApp(name, { deployment: name, ticketsPerPod: 2 })), "app");
  // The pod the ticket core knows, on the server too, so that its deletion cost lands.
  check(await api.post(PODS, pod(`${name}-0`, { app: name })), "pod");
  const spec = makeSpec({ namespace: "default", name, deployment: name, ticketsPerPod: 2, spareTickets: 1, minPods: 1, maxPods: 10 });
  const app = appKey("default", name);
  const core = new TicketCore({ clock: systemClock, keys: RING, routableByDefault: true });
  core.setApps([spec]);
  core.setPods(app, [{ name: `${name}-0`, host: "127.0.0.1", port: 8080, ready: true }]);
  const http = new HttpPorts(api, name);
  const reconciler = new Reconciler({ clock: systemClock, logger: silentLogger, registry: new Registry(), leadership: soleReplica(), views: core, ports: http.ports });
  await reconciler.start(new AbortController().signal);
  await reconciler.idle();
  if (http.writesSentAt.length !== 0) throw new Error("the app scaled before the ticket");
  // One ticket on a pod of two slots leaves one free: still ≥ spareTickets 1. The second leaves none.
  admit(core, app, {});
  await reconciler.idle();
  if (http.writesSentAt.length !== 0) throw new Error("the first ticket should not scale");
  const t1 = performance.now();
  admit(core, app, {});
  while (http.writesSentAt.length === 0) await new Promise((r) => setImmediate(r));
  const sent = (http.writesSentAt[0] ?? Number.NaN) - t1;
  await reconciler.idle();
  await reconciler.stop();
  return sent;
}

async function main(): Promise<void> {
  const server = await KubeApiServer.start();
  const api = new ApiClient(server.url);
  try {
    check(await api.post(DEPLOYMENTS, deployment("web", 1)), "deployment");
    let n = 0;
    const crossings = async (): Promise<number> => {
      const samples: number[] = [];
      for (let i = 0; i < PER_ROUND; i++) samples.push(await crossingToWriteMs(api, ++n));
      return median(samples);
    };
    // Warm-up (JIT, sockets), not measured.
    await roundTripMs(api);
    await crossings();
    const s = await alternate(ROUNDS, () => roundTripMs(api), crossings);
    report(info("scale_latency.round_trip_ms", median(s.a), "ms"));
    report(info("scale_latency.crossing_to_write_ms", median(s.b), "ms"));
    report(figure("scale_latency.ratio_to_round_trip", ratios(s), { op: "<=", limit: 3 }));
  } finally {
    await server.close();
  }
}

await main();
