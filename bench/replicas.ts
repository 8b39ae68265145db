/**
 * bench:replicas — what several replicas cost on Check's path, measured in
 * one process on loopback (real gRPC between ReplicaLinks on 127.0.0.1:0).
 *
 * 1. replicas.forward_added_p99_ms: p99 of a forwarded issuance (a follower
 *    asks the owner over the peer API) minus p99 of a local one (the owner's
 *    ticket core), sequential calls, rounds alternating which goes first.
 *    Goal ≤ 1 ms. Both sides share this process's event loop, so the figure
 *    includes the owner's work as well as the wire.
 * 2. replicas.valid_check_ratio: Checks per CPU second for valid tickets on a
 *    follower of three replicas (verify from its own copy of the ledger,
 *    activity batched to the owner every 250 ms) over one replica alone
 *    (the ticket core as Check's ports). Goal ≥ 0.9: Check must not slow
 *    down because peers exist.
 * The failover figures (owner SIGKILL / SIGTERM → first ticket by the new
 * owner) belong to part B's bench and go beside these.
 */
import { Registry } from "prom-client";
import { DEFAULT_CHECK_LIMITS, AppIndex, decideCheck } from "../src/authz/index.js";
import { silentLogger, systemClock } from "../src/common/index.js";
import { CHECK_BENCH_APP } from "./lib/check-app.js";
import { ReplicaLink } from "../src/replicas/index.js";
import type { AppOwner } from "../src/runtime/ports.js";
import { TicketCore, admit } from "../src/tickets/index.js";
import type { CheckPorts, TicketViews } from "../src/tickets/index.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";

const ROUNDS = 5;
const ISSUES_PER_ROUND = 1_000;
/** About a second of CPU per round: 20,000 (70 ms) left JIT and GC timing in the figure. */
const CHECKS_PER_ROUND = 300_000;
const KEY = "bench/shiny";
const RING = { active: "k1", keys: [{ id: "k1", secret: new Uint8Array(32).fill(9) }] };
const APP = CHECK_BENCH_APP;
const PODS = Array.from({ length: 100 }, (_, i) => ({ name: `shiny-${String(i).padStart(5, "0")}`, host: `10.244.1.${i + 1}`, port: 3838, ready: true }));

interface Replica {
  readonly core: TicketCore;
  readonly link: ReplicaLink;
  owner: AppOwner;
}

async function replica(name: string): Promise<Replica> {
  const core = new TicketCore({ clock: systemClock, keys: RING, routableByDefault: true });
  core.setApps([APP]);
  core.setPods(KEY, PODS);
  const r: Replica = { core, owner: { kind: "self" }, link: undefined as unknown as ReplicaLink };
  const link = new ReplicaLink({
    settings: { ownership: { ownerOf: () => r.owner }, listen: { host: "127.0.0.1", port: 0 }, identity: name },
    tickets: core,
    keys: () => RING,
    notReady: () => undefined,
    xds: { applyAckReport: () => undefined, ackState: () => [] },
    // No resolver runs in this bench: nothing sends or acts on wakes.
    resolver: { wake: () => undefined, serving: () => undefined },
    clock: systemClock,
    logger: silentLogger,
    registry: new Registry(),
  });
  await link.start();
  return Object.assign(r, { link });
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? Number.NaN;
}

/** p99 (ms) of `n` sequential admissions through `ports`. */
async function issueP99(ports: CheckPorts, n: number, tag: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const a = await admit(ports, KEY, { client: `${tag}-${i}` });
    times.push(performance.now() - started);
    if (a.kind !== "issued") throw new Error(`expected an issued ticket, got ${a.kind}`);
  }
  return p99(times);
}

/** Valid-ticket Checks per CPU second through `tickets`. */
function validChecksPerCpuSecond(tickets: CheckPorts & Pick<TicketViews, "apps" | "subscribe">, tokens: readonly string[]): number {
  const apps = new AppIndex(tickets);
  const ctx = { tickets, apps, limits: DEFAULT_CHECK_LIMITS };
  const started = process.cpuUsage();
  for (let i = 0; i < CHECKS_PER_ROUND; i++) {
    const token = tokens[i % tokens.length] ?? "";
    const out = decideCheck({ gateway: "default", host: "h", path: "/shiny/x", headers: { cookie: `${APP.ticket.cookieName}=${token}` }, requestId: "r" }, ctx);
    if (out instanceof Promise || out.kind !== "valid") throw new Error("a valid ticket did not verify locally");
  }
  const used = process.cpuUsage(started);
  apps.close();
  return CHECKS_PER_ROUND / ((used.user + used.system) / 1e6);
}

async function main(): Promise<void> {
  const owner = await replica("owner");
  const follower = await replica("follower");
  const third = await replica("third");
  for (const r of [follower, third]) r.owner = { kind: "peer", address: owner.link.address(), identity: "owner" };
  await Promise.all([follower.link.flush(), third.link.flush()]);
  try {
    // 1. Forwarded over local issuance.
    let round = 0;
    const issue = await alternate(
      ROUNDS,
      () => issueP99(owner.link.checkPorts, ISSUES_PER_ROUND, `local-${round}`),
      () => issueP99(follower.link.checkPorts, ISSUES_PER_ROUND, `fwd-${round++}`),
    );
    const added = issue.a.map((local, i) => (issue.b[i] ?? Number.NaN) - local);
    report(figure("replicas.forward_added_p99_ms", added, { op: "<=", limit: 1 }, "ms"));
    report(info("replicas.local_issue_p99_ms", median(issue.a), "ms"));
    report(info("replicas.forwarded_issue_p99_ms", median(issue.b), "ms"));

    // 2. Valid tickets: a follower of three (with a copy of the owner's ledger) against one replica alone.
    const tokens: string[] = [];
    for (let i = 0; i < 200; i++) {
      const a = admit(owner.core, KEY, { client: `valid-${i}` });
      if (a.kind === "issued") tokens.push(a.token);
    }
    follower.core.restore(owner.core.snapshot());
    // One replica alone: its ticket core is Check's ports.
    const alone = owner.core;
    const withPeers = { ...follower.link.checkPorts, apps: () => follower.core.apps(), subscribe: follower.core.subscribe.bind(follower.core) };
    // One unmeasured round each, so both run optimised code.
    validChecksPerCpuSecond(alone, tokens);
    validChecksPerCpuSecond(withPeers, tokens);
    await follower.link.flush();
    const checks = await alternate(
      ROUNDS,
      () => validChecksPerCpuSecond(alone, tokens),
      async () => {
        const rate = validChecksPerCpuSecond(withPeers, tokens);
        // The batches of the round go out before the next one is measured.
        await follower.link.flush();
        return rate;
      },
    );
    report(figure("replicas.valid_check_ratio", ratios(checks), { op: ">=", limit: 0.9 }));
    report(info("replicas.valid_checks_per_cpu_second_one", median(checks.a)));
    report(info("replicas.valid_checks_per_cpu_second_three", median(checks.b)));
  } finally {
    await Promise.all([owner.link.stop(), follower.link.stop(), third.link.stop()]);
  }
}

await main();
