/**
 * Kubernetes mode whole, end to end: real `ticketplane serve --kubernetes`
 * child processes against the test API server (in this process, so the test
 * can count writes and inject faults) and its simulated ReplicaSet
 * controller, gateways on ADS that ACK like Envoy, users through Check
 * (Envoy's own protos). One story, in order:
 *
 *   two controllers → one leader, and only it acts;
 *   users arrive → the Deployment scales up ahead of demand;
 *   the API server fails (500, 429, dropped watches) → convergence, no crash;
 *   the leader is killed (-9) → the follower takes over within the lease
 *     duration, restores the ledger (the ticket still validates, on its pod),
 *     and nothing is scaled twice;
 *   users leave → after the cooldown exactly idle pods go, the busy one stays;
 *   SIGTERM and a fresh process → no ticket lost, no slot given twice.
 *
 * The RBAC recorder watches every request of the run: nothing the code does
 * may be denied by deploy/rbac.yaml.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { Browser, checkClient } from "./check-client.js";
import { RawGateway } from "./raw-gateway.js";
import { KUBE_PROCESS_CONFIG as PROCESS_CONFIG, ServeProcess, tempDir } from "./serve-process.js";
import type { TempDir } from "./serve-process.js";
import { KubeApiServer } from "../support/kube-api/server.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { seedTicketedApp } from "../support/kube-api/objects.js";
import type { KObject } from "../support/kube-api/kinds.js";
import { RbacRecorder, shippedRules } from "../support/rbac.js";
import { waitFor } from "../support/wait-for.js";

const NS = "demo";
const SCALE_PATH = `/apis/apps/v1/namespaces/${NS}/deployments/shiny/scale`;
/** client-go's lease duration, which the CLI uses; the follower may need one retry period (2 s × 2.2 jitter) more to see it expire. */
const LEASE_MS = 15_000;
const TAKEOVER_BOUND_MS = LEASE_MS + 5_000;

/** One controller process with its gateway and Check client. */
class Controller {
  readonly serve: ServeProcess;
  gateway: RawGateway | undefined;
  client: grpc.Client | undefined;

  constructor(
    readonly name: string,
    kubeconfig: string,
    config: string,
  ) {
    this.serve = new ServeProcess(["serve", "--kubernetes", "--kubeconfig", kubeconfig, "--namespace", NS, "--config", config, "--log-format", "json", "--log-level", "debug"]);
  }

  async ready(): Promise<this> {
    await this.serve.listening();
    this.gateway = new RawGateway(this.serve.addresses.xds ?? "");
    this.client = checkClient(this.serve.addresses.authz ?? "");
    return this;
  }

  leads(): boolean {
    return /ticketplane: this replica leads \(Lease/.test(this.serve.stderr);
  }

  startedLeaderParts(): boolean {
    return /leading: starting leader-only parts/.test(this.serve.stderr);
  }

  browser(name: string, cookies?: ReadonlyMap<string, string>): Browser {
    const b = new Browser(this.client as grpc.Client, name);
    for (const [k, v] of cookies ?? []) b.cookies.set(k, v);
    return b;
  }

  close(): void {
    this.client?.close();
    this.gateway?.close();
  }
}

describe("Kubernetes mode whole: leadership, scaling, failover, restart", { timeout: 240_000 }, () => {
  let tmp: TempDir;
  let server: KubeApiServer;
  let replicas: ReplicaController;
  let rbac: RbacRecorder;
  let kubeconfig: string;
  let config: string;
  const controllers: Controller[] = [];
  /** Successful scale writes, in order, with the replicas each set. */
  const scaleWrites: number[] = [];
  const deletedPods: string[] = [];
  let a: Controller;
  let b: Controller;
  let alice: Browser;
  let alicePod: string | undefined;
  /** Users who keep using the app: each asks every 500 ms (a user leaves by being removed). */
  const active = new Map<string, Browser>();
  let activity: NodeJS.Timeout | undefined;

  const kind = (plural: string) => server.store.kindNamed(plural);
  const specReplicas = (): number => Number((server.store.get(kind("deployments"), NS, "shiny").spec as { replicas?: number }).replicas);
  const podNames = (): string[] => server.store.all(kind("pods"), NS).map((p) => String(p.metadata?.name));
  const start = async (name: string): Promise<Controller> => {
    const c = new Controller(name, kubeconfig, config);
    controllers.push(c);
    return c.ready();
  };

  before(async () => {
    tmp = await tempDir();
    server = await KubeApiServer.start();
    rbac = new RbacRecorder(server);
    // Count what reached the store, not what was asked: a failed write changes nothing.
    let last = -1;
    server.store.subscribe((e) => {
      if (e.kind === kind("deployments") && e.object.metadata?.name === "shiny") {
        const n = Number((e.object.spec as { replicas?: number }).replicas);
        if (n !== last && last !== -1) scaleWrites.push(n);
        last = n;
      }
      if (e.kind === kind("pods") && e.type === "DELETED") deletedPods.push(String(e.object.metadata?.name));
    });
    replicas = new ReplicaController(server.store, { readyAfterMs: 100 }).start();
    seedTicketedApp(server.store, {
      namespace: NS,
      name: "shiny",
      replicas: 1,
      spec: {
        port: 8080,
        pathPrefix: "/shiny/",
        ticketsPerPod: 1,
        spareTickets: 1,
        minPods: 1,
        maxPods: 6,
        podCooldown: "1s",
        ticket: { cookieSecure: false, probation: "2s", idleTimeout: "3s" },
        scaleUp: { pods: 4, period: "1s" },
        scaleDown: { pods: 4, period: "1s", stabilizationWindow: "0s" },
      },
    });
    kubeconfig = await server.writeKubeconfig(tmp.file("kubeconfig"), NS);
    config = await tmp.write("tp.yaml", PROCESS_CONFIG);
  });

  after(async () => {
    if (activity !== undefined) clearInterval(activity);
    for (const c of controllers) {
      c.close();
      await c.serve.kill();
    }
    replicas?.stop();
    rbac?.detach();
    await server?.close();
    await tmp?.remove();
  });

  it("two controller processes: exactly one leads, and only the leader starts the leader-only parts", async () => {
    a = await start("a");
    await waitFor(() => a.leads(), { what: () => `a leads; stderr:\n${a.serve.stderr}` });
    b = await start("b");
    await waitFor(() => /campaigning for the leader Lease/.test(b.serve.stderr), { what: "b campaigns" });
    // b keeps trying every retry period; over three of them it must not lead while a renews.
    const lease = (): KObject => server.store.get(kind("leases"), "ticketplane-system", "ticketplane-leader");
    const holderA = (lease().spec as { holderIdentity?: string }).holderIdentity;
    const renewedBefore = (lease().spec as { renewTime?: string }).renewTime;
    await waitFor(() => (lease().spec as { renewTime?: string }).renewTime !== renewedBefore, { timeoutMs: 10_000, what: "a renewal by a" });
    assert.equal((lease().spec as { holderIdentity?: string }).holderIdentity, holderA, "a still holds the Lease");
    assert.equal(b.leads(), false, "b does not lead");
    assert.equal(b.startedLeaderParts(), false, "b runs no leader-only part (no ledger, sweeper, reconciler, Events)");
  });

  it("an invalid TicketedApp gets a Warning Event naming the field, recorded by the leader; the other app is unaffected", async () => {
    server.store.create(kind("ticketedapps"), NS, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: "broken" }, spec: { deployment: "shiny", port: 8080, pathPrefix: "/broken/", ticketsPerPod: 0 } });
    const warning = (): KObject | undefined =>
      server.store.all(server.store.kinds.find((k) => k.plural === "events" && k.group === "events.k8s.io") ?? kind("events"), NS).find((e) => (e as { reason?: string }).reason === "InvalidConfig" && (e as { regarding?: { name?: string } }).regarding?.name === "broken");
    await waitFor(() => warning() !== undefined, { what: "the InvalidConfig Warning on TicketedApp broken" });
    assert.match(String((warning() as { note?: string }).note), /spec\.ticketsPerPod: 0 — /);
    assert.equal((warning() as { type?: string }).type, "Warning");
    assert.equal((warning() as { reportingInstance?: string }).reportingInstance, /identity (\S+)\)/.exec(a.serve.stderr)?.[1], "recorded by the leader");
    server.store.delete(kind("ticketedapps"), NS, "broken");
  });

  it("users arrive: the Deployment scales up ahead of demand (one spare slot free), through the leader", async () => {
    await waitFor(() => (a.gateway?.podsFor("/shiny/").length ?? 0) >= 1 && (b.gateway?.podsFor("/shiny/").length ?? 0) >= 1, { what: "both gateways route the first pod" });
    alice = a.browser("alice");
    await waitFor(async () => (await alice.get("/shiny/")).kind === "ok", { what: "alice gets a ticket" });
    alicePod = (await alice.get("/shiny/")).pod;
    assert.ok(alicePod !== undefined);
    // Users who stay keep asking (a ticket nobody presents ends after the probation, then the idle timeout).
    active.set("alice", alice);
    activity = setInterval(() => {
      for (const user of active.values()) void user.get("/shiny/").catch(() => undefined);
    }, 500);
    // One user on one-slot pods with one spare slot: two pods, before anyone else asks.
    await waitFor(() => specReplicas() === 2, { what: () => `replicas 2 ahead of demand (now ${specReplicas()})` });
    await waitFor(() => (a.gateway?.podsFor("/shiny/").length ?? 0) === 2, { what: "the gateway routes the spare pod" });
    const bob = a.browser("bob");
    // The spare pod takes tickets once the ticket core has it Ready and the gateway ACKed it.
    await waitFor(async () => (await bob.get("/shiny/")).kind === "ok", { what: "bob gets the spare slot" });
    active.set("bob", bob);
    await waitFor(() => specReplicas() === 3, { what: () => `replicas 3 once bob took the spare (now ${specReplicas()})` });
    assert.deepEqual(scaleWrites, [2, 3], "one write per change");
    assert.equal(b.startedLeaderParts(), false, "the follower never acted");
  });

  it("the API server fails (500 and 429 on scale writes, dropped and reset watches): convergence, no crash, no tight loop", async () => {
    const before = server.requests.length;
    server.failNext(2, { status: 500, path: SCALE_PATH, method: "PUT" });
    server.failNext(2, { status: 429, path: SCALE_PATH, method: "PUT", retryAfterSeconds: 1 });
    server.dropWatches({ abrupt: true });
    const carol = a.browser("carol");
    await waitFor(async () => (await carol.get("/shiny/")).kind === "ok", { what: "carol gets a ticket" });
    active.set("carol", carol);
    server.dropWatches();
    await waitFor(() => specReplicas() === 4, { timeoutMs: 30_000, what: () => `replicas 4 despite the faults (now ${specReplicas()})` });
    assert.equal(a.serve.child.exitCode, null, "a is alive");
    assert.equal(b.serve.child.exitCode, null, "b is alive");
    const calls = server.requests.slice(before).filter((r) => r.path === SCALE_PATH && r.method === "PUT");
    assert.deepEqual(calls.filter((r) => r.status >= 400).map((r) => r.status), [500, 500, 429, 429], "every injected failure was met");
    const scaleCalls = calls.length;
    assert.ok(scaleCalls <= 10, `retries back off: ${scaleCalls} scale writes attempted`);
    assert.deepEqual(scaleWrites, [2, 3, 4]);
  });

  it("kill -9 the leader: the follower takes over within the lease duration, the ticket still validates on its pod, nothing is scaled twice", async () => {
    const writesBefore = scaleWrites.length;
    const replicasBefore = specReplicas();
    const killedAt = Date.now();
    a.serve.child.kill("SIGKILL");
    await a.serve.exited;
    await waitFor(() => b.leads(), { timeoutMs: TAKEOVER_BOUND_MS, what: () => `b leads within ${TAKEOVER_BOUND_MS} ms; stderr:\n${b.serve.stderr.slice(-3000)}` });
    const took = Date.now() - killedAt;
    assert.ok(took <= TAKEOVER_BOUND_MS, `took over in ${took} ms`);
    // Everyone now goes through b: the ledger b restored from the API server holds their tickets.
    for (const [name, user] of active) active.set(name, b.browser(name, user.cookies));
    alice = active.get("alice") as Browser;
    await waitFor(async () => (await alice.get("/shiny/")).kind === "ok", { what: "alice's ticket validates at b" });
    assert.equal((await alice.get("/shiny/")).pod, alicePod, "same pod");
    assert.equal(specReplicas(), replicasBefore, "the new leader does not scale what the old one already scaled");
    assert.equal(scaleWrites.length, writesBefore);
  });

  it("users leave: after the idle timeout and the cooldown exactly idle pods go; alice's pod stays", async () => {
    // bob and carol stop asking; their tickets end after the 3 s idle timeout, their pods after the 1 s cooldown.
    active.delete("bob");
    active.delete("carol");
    await waitFor(() => specReplicas() === 2, { timeoutMs: 60_000, what: () => `replicas back to 2 (alice + one spare; now ${specReplicas()})` });
    await waitFor(() => podNames().length === 2, { timeoutMs: 30_000, what: () => `two pods left (${podNames().join(", ")})` });
    assert.ok(alicePod !== undefined && podNames().includes(alicePod), `alice's pod ${alicePod} stays; deleted: ${deletedPods.join(", ")}`);
    assert.ok(!deletedPods.includes(alicePod), "alice's pod was never deleted");
    assert.equal((await alice.get("/shiny/")).pod, alicePod);
  });

  it("SIGTERM the leader and start a new process: no ticket lost, and the slot is not given to another user", async () => {
    if (activity !== undefined) clearInterval(activity);
    b.serve.signal("SIGTERM");
    assert.equal((await b.serve.waitExit()).code, 0);
    const c = await start("c");
    await waitFor(() => c.leads(), { timeoutMs: 10_000, what: () => `c leads (b released the Lease); stderr:\n${c.serve.stderr.slice(-2000)}` });
    await waitFor(() => (c.gateway?.podsFor("/shiny/").length ?? 0) === 2, { what: "c's gateway routes both pods" });
    alice = c.browser("alice", alice.cookies);
    await waitFor(async () => (await alice.get("/shiny/")).kind === "ok", { what: "alice's ticket validates after the restart" });
    assert.equal((await alice.get("/shiny/")).pod, alicePod);
    const dave = c.browser("dave");
    const daves = await dave.get("/shiny/");
    assert.equal(daves.kind, "ok");
    assert.notEqual(daves.pod, alicePod, "dave does not get alice's one-slot pod");
  });

  it("nothing the controllers did is denied by deploy/rbac.yaml", () => {
    assert.deepEqual(rbac.denied(shippedRules()), []);
  });
});
