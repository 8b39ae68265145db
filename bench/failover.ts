/**
 * bench:failover (run by bench:replicas) — hand-over and the followers'
 * ledger mirror, on the test API server over loopback:
 *
 * - release propagation: the owner (TicketCore, LedgerKeeper, ApiLedgerStore)
 *   releases a ticket; how long until a follower's ticket core (fed by
 *   ApiLedgerMirror) stops verifying it — the bound on a released ticket
 *   still validating somewhere. Against one ConfigMap GET round trip,
 *   measured in alternating rounds (information), goal ≤ 250 ms absolute.
 * - crash: three `serve --kubernetes` processes; the owner SIGKILLed; time
 *   until the first ticket issued by the new owner, as a ratio to the lease
 *   duration (goal ≤ 1.5: the lease must expire, then one retry at most).
 * - graceful: the owner SIGTERMed (saves the ledger, releases the Lease);
 *   time until the first ticket issued by the new owner (goal < 1000 ms).
 */
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { systemClock } from "../src/common/clock.js";
import { silentLogger } from "../src/common/logger.js";
import { ApiLedgerMirror } from "../src/kube/ledger-mirror.js";
import { ApiLedgerStore } from "../src/kube/ledger-store.js";
import { kubeApis } from "../src/kube/resources.js";
import { LedgerKeeper } from "../src/runtime/ledger-keeper.js";
import { TicketCore, admit } from "../src/tickets/index.js";
import { makeSpec } from "../test/support/app-spec.js";
import { Browser } from "../test/e2e/check-client.js";
import { Replica } from "../test/e2e/kube-replica.js";
import { KUBE_PROCESS_CONFIG, tempDir } from "../test/e2e/serve-process.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { ReplicaController } from "../test/support/kube-api/replica-controller.js";
import { seedTicketedApp } from "../test/support/kube-api/objects.js";
import { alternate, figure, info, median, report } from "./lib/rounds.js";

const PROPAGATION_ROUNDS = 9;
const FAILOVER_ROUNDS = Number(process.env["TP_BENCH_FAILOVER_ROUNDS"] ?? 3);
const LEASE_MS = 4_000;
const LEASE = ["--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "1s"];
const KEYS = { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(1) }] };

function kubeConfig(server: KubeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: "b", server: server.url, skipTLSVerify: true }], users: [{ name: "b", token: "bench" }], contexts: [{ name: "b", cluster: "b", user: "b", namespace: "default" }], currentContext: "b" });
  return kc;
}

function core(): TicketCore {
  const c = new TicketCore({ clock: systemClock, keys: KEYS, routableByDefault: true });
  c.setApps([makeSpec({ name: "shiny", ticketsPerPod: 1000 })]);
  c.setPods("ns/shiny", [{ name: "shiny-a", host: "10.0.0.1", port: 80, ready: true }]);
  return c;
}

/** Resolves when `follower` emits a release of ticket `id`, with the time it did. */
function released(follower: TicketCore, id: string): Promise<number> {
  return new Promise((resolve) => {
    const off = follower.subscribe((e) => {
      if (e.kind !== "released" || e.ticket.id !== id) return;
      off();
      resolve(performance.now());
    });
  });
}

async function propagation(): Promise<void> {
  const server = await KubeApiServer.start();
  const kc = kubeConfig(server);
  const coreApi = kc.makeApiClient(CoreV1Api);
  const owner = core();
  const claim = { identity: "owner", isLeader: () => true, term: () => 1, holder: () => "owner" };
  const store = new ApiLedgerStore({ core: coreApi, namespace: "default", claim, clock: systemClock, logger: silentLogger, registry: new Registry() });
  const keeper = new LedgerKeeper({ store, tickets: owner, clock: systemClock, logger: silentLogger });
  await keeper.start();
  const follower = core();
  const mirror = new ApiLedgerMirror({ apis: kubeApis(kc), watch: new Watch(kc), namespace: "default", clock: systemClock, logger: silentLogger, registry: new Registry() });
  mirror.feed(follower, () => true);
  await mirror.start(new AbortController().signal);
  const object = store.objectName("ns/shiny");
  const roundTrip = async (): Promise<number> => {
    const t0 = performance.now();
    await coreApi.readNamespacedConfigMap({ name: object, namespace: "default" });
    return performance.now() - t0;
  };
  const release = async (): Promise<number> => {
    const issued = admit(owner, "ns/shiny", {});
    if (issued.kind !== "issued") throw new Error(`no ticket: ${issued.kind}`);
    const id = issued.ticket.id;
    while (!follower.verify("ns/shiny", issued.token).ok) await new Promise((r) => setTimeout(r, 5));
    const seen = released(follower, id);
    const t0 = performance.now();
    // The owner releases it (as a sweep would): the snapshot without it, which emits the release the keeper journals.
    owner.restore({ ...owner.snapshot(), tickets: owner.snapshot().tickets.filter((t) => t.id !== id) }, ["ns/shiny"]);
    return (await seen) - t0;
  };
  // The release first: the app's ConfigMap exists once its first ticket is written.
  const s = await alternate(PROPAGATION_ROUNDS, release, roundTrip);
  report(figure("failover.release_propagation_ms", s.a, { op: "<=", limit: 250 }, "ms"));
  report(info("failover.release_propagation_per_round_trip", median(s.a) / median(s.b), "x"));
  await mirror.stop();
  await keeper.stop();
  await server.close();
}

interface Cluster {
  readonly replicas: Replica[];
  readonly server: KubeApiServer;
  close(): Promise<void>;
}

async function cluster(): Promise<Cluster> {
  const tmp = await tempDir();
  const server = await KubeApiServer.start();
  const controller = new ReplicaController(server.store, { readyAfterMs: 50 }).start();
  seedTicketedApp(server.store, { namespace: "demo", name: "shiny", replicas: 2, spec: { port: 8080, pathPrefix: "/shiny/", ticketsPerPod: 500, minPods: 2, maxPods: 2, spareTickets: 0, ticket: { cookieSecure: false } } });
  const config = await tmp.write("tp.yaml", KUBE_PROCESS_CONFIG);
  const replicas: Replica[] = [];
  for (const name of ["r1", "r2", "r3"]) replicas.push(new Replica(name, [...LEASE, "--kubeconfig", await server.writeKubeconfig(tmp.file(`kc-${name}`), "demo", name), "--namespace", "demo", "--config", config]));
  await replicas[0]?.start();
  await Promise.all(replicas.slice(1).map((r) => r.start()));
  return {
    replicas,
    server,
    async close() {
      for (const r of replicas) await r.kill("SIGKILL").catch(() => undefined);
      controller.stop();
      await server.close();
      await tmp.remove();
    },
  };
}

/** Asks every live replica for a new ticket (no cookie) until one issues; resolves with the time it did. */
async function firstIssue(replicas: readonly Replica[], deadlineMs = 60_000): Promise<number> {
  const until = performance.now() + deadlineMs;
  let i = 0;
  while (performance.now() < until) {
    const live = replicas.filter((r) => r.live && r.client !== undefined);
    const r = live[i++ % Math.max(1, live.length)];
    if (r?.client !== undefined) {
      const res = await new Browser(r.client, `probe-${i}`).get("/shiny/").catch(() => undefined);
      if (res?.kind === "ok") return performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Number.NaN;
}

async function failover(c: Cluster, signal: "SIGKILL" | "SIGTERM"): Promise<number> {
  const owner = c.replicas.find((r) => r.leads());
  if (owner === undefined) throw new Error("no owner");
  // The owner issues before it goes (the app is warm), so what is timed is the hand-over.
  if (Number.isNaN(await firstIssue([owner]))) throw new Error("the owner issues nothing");
  const t0 = performance.now();
  // Asked from the moment the signal goes, not once the old process has exited: a new owner that issues
  // while the old one still drains its connections has taken over.
  const exited = owner.kill(signal);
  const t1 = await firstIssue(c.replicas.filter((r) => r !== owner));
  await exited;
  await owner.start();
  return t1 - t0;
}

await propagation();
const c = await cluster();
try {
  const crash: number[] = [];
  const graceful: number[] = [];
  for (let i = 0; i < FAILOVER_ROUNDS; i++) {
    // Alternating which goes first, as every bench does.
    if (i % 2 === 0) {
      crash.push(await failover(c, "SIGKILL"));
      graceful.push(await failover(c, "SIGTERM"));
    } else {
      graceful.push(await failover(c, "SIGTERM"));
      crash.push(await failover(c, "SIGKILL"));
    }
  }
  report(figure("failover.crash_takeover_per_lease_duration", crash.map((x) => x / LEASE_MS), { op: "<=", limit: 1.5 }, "x"));
  report(info("failover.crash_takeover_ms", median(crash), "ms"));
  report(figure("failover.graceful_handover_ms", graceful, { op: "<=", limit: 1000 }, "ms"));
} finally {
  await c.close();
}
