/**
 * Three replicas under chaos, end to end: three `ticketplane serve
 * --kubernetes` processes against the test API server (in this process, so
 * the test sees every request and who sent it: each replica has its own
 * kubeconfig token), Check traffic round-robined across the live replicas by
 * a client built from Envoy's protos, users arriving and leaving. Seeded:
 *
 *   users arrive → the owner scales 1 → 3 pods, six hold tickets, two wait;
 *   a replica is SIGKILLed at a seeded moment and restarted (twice);
 *   the owner is SIGKILLed → a follower takes over after the lease expires;
 *   holders leave one at a time → the waiting users get slots in line order;
 *   rolling restart: each replica SIGTERMed (it saves the ledger and releases
 *   the Lease) and replaced, one after another.
 *
 * Afterwards: every ticket that was valid is still valid on its pod; no slot
 * holds two tickets (the ledger ConfigMaps, and each replica's /api/apps);
 * the queue kept its order; every scale write came from the Lease holder of
 * that moment; and no live, ready replica ever refused a valid ticket.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { decodeLedgerObject } from "../../src/kube/ledger-object.js";
import { replayJournal } from "../../src/tickets/index.js";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { Browser } from "./check-client.js";
import type { CheckResult } from "./check-client.js";
import { Replica } from "./kube-replica.js";
import { KUBE_PROCESS_CONFIG as PROCESS_CONFIG, getJson, tempDir } from "./serve-process.js";
import type { TempDir } from "./serve-process.js";
import { KubeApiServer } from "../support/kube-api/server.js";
import type { RequestRecord } from "../support/kube-api/server.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { seedTicketedApp } from "../support/kube-api/objects.js";
import { prng } from "../support/prng.js";
import { waitFor } from "../support/wait-for.js";

const NS = "demo";
const SEED = Number(process.env["TP_CHAOS_SEED"] ?? 20261201);
/** Short enough for a test, long enough for a loaded 2-core machine (every Lease call has the retry period as its deadline). */
const LEASE = ["--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "1500ms"];
const SCALE_PATH = `/apis/apps/v1/namespaces/${NS}/deployments/shiny/scale`;
/** A ticket counts as established (persisted, mirrored everywhere) this long after it was issued. */
const ESTABLISHED_MS = 2_000;

interface User {
  readonly name: string;
  readonly cookies: Map<string, string>;
  active: boolean;
  /** Each user goes round the live replicas in turn. */
  turn: number;
  ticket?: { id: string; pod: string; since: number };
  queuedAt?: number;
}

describe("Several replicas under chaos: kills, owner kill, rolling restart", { timeout: 300_000 }, () => {
  const random = prng(SEED);
  let tmp: TempDir;
  let server: KubeApiServer;
  let controller: ReplicaController;
  const replicas: Replica[] = [];
  const users: User[] = [];
  /** Valid tickets refused by a live, ready replica: must stay empty. */
  const violations: string[] = [];
  /** Scale writes with the client that sent them and the Lease holder when they arrived. */
  const scaleWrites: { record: RequestRecord; holder: string }[] = [];
  const issuedOrder: string[] = [];
  const queuedOrder: string[] = [];
  let driving: NodeJS.Timeout | undefined;

  const kind = (plural: string) => server.store.kindNamed(plural);
  const holder = (): string => {
    try {
      const spec = server.store.get(kind("leases"), "ticketplane-system", "ticketplane-leader").spec as { holderIdentity?: string };
      return (spec.holderIdentity ?? "").replace(/_[0-9a-f]{8}$/, "");
    } catch {
      return "";
    }
  };
  /** The replica holding the Lease (alive, and saying so). */
  const owner = (): Replica | undefined => replicas.find((r) => r.name === holder() && r.leads());
  const holding = (): User[] => users.filter((u) => u.active && u.ticket !== undefined);
  /** Users still in line, in the order they joined it; a user queued while the pods were coming up and then issued a ticket is no longer waiting. */
  const waitingInLine = (): string[] => queuedOrder.filter((name) => users.find((u) => u.name === name)?.ticket === undefined);

  /** One request of one user to the next live replica; judges the answer. */
  const ask = async (user: User): Promise<void> => {
    const live = replicas.filter((r) => r.live);
    const replica = live[user.turn++ % Math.max(1, live.length)];
    if (replica?.client === undefined) return;
    const generation = replica.generation;
    const established = user.ticket !== undefined && Date.now() - user.ticket.since >= ESTABLISHED_MS ? user.ticket : undefined;
    let result: CheckResult;
    try {
      result = await new Browser(replica.client, user.name, user.cookies).get("/shiny/");
    } catch (err) {
      if (replica.live && replica.generation === generation && established !== undefined) violations.push(`${replica.name}: ${user.name}'s Check failed: ${String(err)}`);
      return;
    }
    if (result.kind === "ok" && result.ticket !== undefined && result.pod !== undefined) {
      if (user.ticket === undefined) {
        user.ticket = { id: result.ticket, pod: result.pod, since: Date.now() };
        issuedOrder.push(user.name);
      } else if (user.ticket.id !== result.ticket || user.ticket.pod !== result.pod) {
        violations.push(`${replica.name}: ${user.name} held ${user.ticket.id} on ${user.ticket.pod} but got ${result.ticket} on ${result.pod}`);
      }
      return;
    }
    if (user.ticket === undefined && user.queuedAt === undefined && user.cookies.has("ticketplane-queue")) {
      user.queuedAt = Date.now();
      queuedOrder.push(user.name);
    }
    if (established !== undefined && replica.live && replica.generation === generation) violations.push(`${replica.name}: ${user.name}'s valid ticket ${established.id} refused: ${JSON.stringify(result)}`);
  };

  const drive = (): void => {
    driving = setInterval(() => {
      for (const user of users) if (user.active) void ask(user);
    }, 400);
  };

  before(async () => {
    tmp = await tempDir();
    server = await KubeApiServer.start();
    server.onRequest((record) => {
      if (record.path === SCALE_PATH && record.method === "PUT") scaleWrites.push({ record, holder: holder() });
    });
    controller = new ReplicaController(server.store, { readyAfterMs: 100 }).start();
    seedTicketedApp(server.store, {
      namespace: NS,
      name: "shiny",
      replicas: 1,
      spec: {
        port: 8080,
        pathPrefix: "/shiny/",
        ticketsPerPod: 2,
        spareTickets: 1,
        minPods: 1,
        maxPods: 3,
        podCooldown: "60s",
        ticket: { cookieSecure: false, probation: "5s", idleTimeout: "6s" },
        queue: { retryAfter: "2s" },
        scaleUp: { pods: 3, period: "1s" },
      },
    });
    const config = await tmp.write("tp.yaml", PROCESS_CONFIG);
    for (const name of ["r1", "r2", "r3"]) replicas.push(new Replica(name, [...LEASE, "--kubeconfig", await server.writeKubeconfig(tmp.file(`kubeconfig-${name}`), NS, name), "--namespace", NS, "--config", config]));
  });

  after(async () => {
    if (driving !== undefined) clearInterval(driving);
    if (process.env["TP_CHAOS_LOGS"] !== undefined) for (const r of replicas) await writeFile(`${process.env["TP_CHAOS_LOGS"]}-${r.name}.log`, [...r.logs, r.serve?.stderr ?? ""].join("\n=== next generation\n"));
    for (const r of replicas) await r.kill("SIGKILL").catch(() => undefined);
    controller?.stop();
    await server?.close();
    await tmp?.remove();
  });

  it("three replicas start; exactly one leads", { timeout: 120_000 }, async () => {
    await replicas[0]?.start();
    await waitFor(() => replicas[0]?.leads() === true, { what: "r1 leads" });
    await Promise.all(replicas.slice(1).map((r) => r.start()));
    assert.deepEqual(replicas.map((r) => r.leads()), [true, false, false]);
  });

  it("users arrive through any replica: six hold tickets on three pods, two wait in line (followers fail closed, never issue)", { timeout: 120_000 }, async () => {
    drive();
    for (let i = 0; i < 8; i++) {
      users.push({ name: `u${i}`, cookies: new Map(), active: true, turn: i });
      await waitFor(() => users[i]?.ticket !== undefined || users[i]?.queuedAt !== undefined, { timeoutMs: 30_000, what: () => `u${i} holds a ticket or waits (pods ${server.store.all(kind("pods"), NS).length})` });
    }
    await waitFor(() => holding().length === 6 && waitingInLine().length === 2, { timeoutMs: 30_000, what: () => `six holders, two waiting (holders ${holding().length}, waiting ${waitingInLine().join(",")}, ever queued ${queuedOrder.join(",")})` });
    const pods = new Set(holding().map((u) => u.ticket?.pod));
    assert.equal(pods.size, 3, "three pods, two tickets each");
    // Tickets were issued only by the owner: followers' own issue count stays 0.
    for (const r of replicas.filter((x) => !x.leads())) assert.doesNotMatch(r.serve?.stderr ?? "", /"message":"ticket issued"/);
  });

  it("a replica is SIGKILLed at seeded moments and restarted (twice): a new owner is elected when it was the owner", { timeout: 120_000 }, async () => {
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.floor(random() * 1500)));
      const victim = replicas[Math.floor(random() * replicas.length)];
      await victim.kill("SIGKILL");
      await waitFor(() => owner() !== undefined, { timeoutMs: 20_000, what: `an owner after ${victim.name} was killed` });
      await victim.start();
    }
    assert.equal(violations.length, 0, violations.join("\n"));
  });

  it("the owner is SIGKILLed: a follower takes over after the lease expires and issues again; the ticket holders never notice", { timeout: 120_000 }, async () => {
    const victim = owner() as Replica;
    const killedAt = Date.now();
    await victim.kill("SIGKILL");
    await waitFor(() => owner() !== undefined, { timeoutMs: 20_000, what: "a new owner" });
    assert.ok(Date.now() - killedAt >= 4_000, `not before the lease could expire (${Date.now() - killedAt} ms)`);
    await victim.start();
    assert.equal(violations.length, 0, violations.join("\n"));
  });

  it("holders leave one at a time: the waiting users get the freed slots in line order", { timeout: 120_000 }, async () => {
    const waiting = waitingInLine();
    for (const name of waiting) {
      const leaver = holding().find((u) => !waiting.includes(u.name));
      assert.ok(leaver !== undefined);
      leaver.active = false;
      const next = users.find((u) => u.name === name) as User;
      await waitFor(() => next.ticket !== undefined, { timeoutMs: 30_000, what: `${name} gets the slot ${leaver.name} left` });
    }
    assert.deepEqual(issuedOrder.slice(-waiting.length), waiting, "tickets in the order of the line");
  });

  it("rolling restart: each replica SIGTERMed (saves the ledger, releases the Lease) and replaced in turn; tickets stay valid", { timeout: 120_000 }, async () => {
    for (const r of replicas) {
      const serve = r.serve;
      const code = await r.kill("SIGTERM");
      // A leader that could not renew in time on a loaded machine has stepped down and exited 1 by itself: safe, and not a failure here.
      const steppedDown = code === 1 && /stopped: this replica no longer leads/.test(serve?.stderr ?? "");
      assert.ok(code === 0 || steppedDown, `${r.name} exits 0 on SIGTERM (${String(code)}); stderr:\n${serve?.stderr.slice(-3000) ?? ""}`);
      await waitFor(() => owner() !== undefined, { timeoutMs: 20_000, what: `an owner after ${r.name} stopped` });
      await r.start();
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(violations.length, 0, violations.join("\n"));
  });

  it("afterwards: every held ticket is valid on its pod at every replica, no slot holds two tickets, scale writes came from the owner of the moment", { timeout: 120_000 }, async () => {
    if (driving !== undefined) clearInterval(driving);
    for (const user of holding()) {
      for (const r of replicas) {
        const res = await new Browser(r.client as grpc.Client, user.name, user.cookies).get("/shiny/");
        assert.deepEqual([res.kind, res.ticket, res.pod], ["ok", user.ticket?.id, user.ticket?.pod], `${user.name} at ${r.name}`);
      }
    }
    // The ledger as stored: one ticket per slot, and every holder's ticket in it.
    const objects = server.store.all(kind("configmaps"), "ticketplane-system").filter((o) => o.metadata?.labels?.["ticketplane.dev/ledger"] === "v1");
    const stored: { id: string; pod: string; slot: number }[] = [];
    for (const o of objects) {
      const decoded = decodeLedgerObject(o as V1ConfigMap, "ticketplane-ledger");
      assert.ok(decoded.ok, JSON.stringify(decoded));
      const replayed = replayJournal(decoded.value.snapshot, decoded.value.records) as { tickets: { id: string; pod: string; slot: number }[] };
      stored.push(...replayed.tickets);
    }
    const slots = stored.map((t) => `${t.pod}/${t.slot}`);
    assert.equal(new Set(slots).size, slots.length, `no slot twice in the ledger: ${slots.join(" ")}`);
    for (const user of holding()) assert.ok(stored.some((t) => t.id === user.ticket?.id), `${user.name}'s ticket is in the stored ledger`);
    // Every replica's view: no pod over its slots, and the same count of tickets.
    for (const r of replicas) {
      const body = (await getJson(`${r.serve?.admin ?? ""}/api/apps`)).body as { apps: { app: string; figures: { used: number }; pods: { slots: number; used: number }[] }[] };
      const app = body.apps.find((a) => a.app === `${NS}/shiny`);
      assert.ok(app !== undefined);
      assert.ok(app.pods.every((p) => p.used <= p.slots), `${r.name}: a pod over its slots`);
      assert.equal(app.figures.used, holding().length, `${r.name} sees every held ticket and no other`);
    }
    // One owner at a time: every scale write that took effect came from the replica holding the Lease then.
    const written = scaleWrites.filter((w) => w.record.status >= 200 && w.record.status < 300);
    assert.ok(written.length >= 1, "the owner scaled");
    assert.deepEqual(written.filter((w) => w.record.client !== w.holder).map((w) => `${w.record.client ?? "?"} while ${w.holder} held the Lease`), []);
    const replicasNow = Number((server.store.get(kind("deployments"), NS, "shiny").spec as { replicas?: number }).replicas);
    assert.equal(replicasNow, 3, "never scaled past maxPods, never scaled twice for one decision");
    assert.deepEqual(violations, []);
  });
});
