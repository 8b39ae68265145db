/**
 * bench:replicas — what several replicas cost on Check's path, on loopback
 * (real gRPC between ReplicaLinks on 127.0.0.1:0).
 *
 * 1. replicas.forward_added_p99_ms: p99 of a forwarded issuance (a follower
 *    in this process asks the owner, a process of its own as in production,
 *    over the peer API) minus p99 of a local one (the owner's ticket core,
 *    timed in the owner's process), sequential calls, rounds alternating
 *    which goes first. Goal ≤ 1 ms. The figure includes the owner's work as
 *    well as the wire. For scale, the transport alone: the p99 of a bare
 *    unary call (a few bytes echoed, no code of ours) to a grpc-js server in
 *    the owner's process through the peer API's client (PeerChannel), the
 *    same through a grpc-js client (what the peer API used before), and the
 *    forwarded p99 over the first (information); and, free of
 *    scheduling noise, CPU per call of both processes together for the bare
 *    call and for a forwarded admission, in alternating rounds (information:
 *    what our code adds to the transport). (Run with the
 *    argument `owner`, this file is that owner: it prints its peer address
 *    and its echo address, then answers `local <n> <tag>` lines on stdin
 *    with the p99 of n local issuances, and `cpu` with its CPU time so far.)
 * 2. replicas.valid_check_ratio: Checks per CPU second for valid tickets on a
 *    follower of three replicas (verify from its own copy of the ledger,
 *    activity batched to the owner every 250 ms) over one replica alone
 *    (the ticket core as Check's ports), each round the two sides
 *    interleaved in ten slices. Goal ≥ 0.9: Check must not slow down
 *    because peers exist.
 * The failover figures (owner SIGKILL / SIGTERM → first ticket by the new
 * owner) belong to part B's bench and go beside these.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { DEFAULT_CHECK_LIMITS, AppIndex, decideCheck } from "../src/authz/index.js";
import { silentLogger, systemClock } from "../src/common/index.js";
import { CHECK_BENCH_APP } from "./lib/check-app.js";
import { PeerChannel, ReplicaLink } from "../src/replicas/index.js";
import type { AppOwner } from "../src/runtime/ports.js";
import { TicketCore, admit } from "../src/tickets/index.js";
import type { Admission, CheckPorts, TicketViews } from "../src/tickets/index.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";

const ROUNDS = 5;
const ISSUES_PER_ROUND = 1_000;
/** About a second of CPU per round: 20,000 (70 ms) left JIT and GC timing in the figure. */
const CHECKS_PER_ROUND = 300_000;
const SLICES_PER_ROUND = 10;
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

/** Admissions that were not an issued ticket (a forward past its deadline on a loaded machine is refused: fail closed), by outcome. */
const notIssued = new Map<string, number>();

/** p99 (ms) of `n` sequential calls of `call`, each timed from its start to its answer. */
async function sequentialP99(n: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call(i);
    times.push(performance.now() - started);
  }
  return p99(times);
}

/** p99 (ms) of `n` sequential admissions through `ports`; an answer other than a ticket is timed too, and counted in `notIssued`. */
async function issueP99(ports: CheckPorts, n: number, tag: string): Promise<number> {
  const answers: Admission[] = [];
  const latency = await sequentialP99(n, async (i) => answers.push(await admit(ports, KEY, { client: `${tag}-${i}` })));
  for (const a of answers) {
    if (a.kind === "issued") continue;
    const outcome = a.kind === "refused" ? `refused:${a.reason}` : a.kind;
    notIssued.set(outcome, (notIssued.get(outcome) ?? 0) + 1);
  }
  return latency;
}

/** Valid-ticket Checks through one side's ports: CPU seconds for `n` of them. */
function validChecker(tickets: CheckPorts & Pick<TicketViews, "apps" | "subscribe">, tokens: readonly string[]): { cpuSeconds: (n: number) => number; close: () => void } {
  const apps = new AppIndex(tickets);
  const ctx = { tickets, apps, limits: DEFAULT_CHECK_LIMITS };
  let next = 0;
  return {
    cpuSeconds(n) {
      const started = process.cpuUsage();
      for (let i = 0; i < n; i++) {
        const token = tokens[next++ % tokens.length] ?? "";
        const out = decideCheck({ gateway: "default", host: "h", path: "/shiny/x", headers: { cookie: `${APP.ticket.cookieName}=${token}` }, requestId: "r" }, ctx);
        if (out instanceof Promise || out.kind !== "valid") throw new Error("a valid ticket did not verify locally");
      }
      const used = process.cpuUsage(started);
      return (used.user + used.system) / 1e6;
    },
    close: () => apps.close(),
  };
}

/** A bare grpc-js unary method that answers what it is sent: the transport floor. */
const identity = (b: Buffer): Buffer => b;
const ECHO = { echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } } as const;

/** The owner of part 1, in this process: prints its addresses, then answers `local <n> <tag>` with the p99 of n local issuances. */
async function ownerProcess(): Promise<void> {
  const owner = await replica("owner");
  const echo = new grpc.Server();
  echo.addService(ECHO, { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => done(null, call.request) });
  const echoPort = await new Promise<number>((resolve, reject) => echo.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
  console.log(JSON.stringify({ address: owner.link.address(), echo: `127.0.0.1:${String(echoPort)}` }));
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, n, tag] = line.split(" ");
    if (command === "cpu") {
      const used = process.cpuUsage();
      console.log(JSON.stringify({ cpuUs: used.user + used.system }));
      continue;
    }
    if (command !== "local") break;
    console.log(JSON.stringify({ p99: await issueP99(owner.link.checkPorts, Number(n), tag ?? "local") }));
  }
  echo.forceShutdown();
  await owner.link.stop();
}

/** The client a bare call goes through: the peer API's own (PeerChannel), or a grpc-js client, for comparison. */
type EchoClientKind = "peer-channel" | "grpc-js";

/** A bare client of the echo server at `address`: one call answers when the echo comes back. */
function echoClient(address: string, kind: EchoClientKind): { call: () => Promise<void>; close: () => void } {
  if (kind === "peer-channel") {
    const channel = new PeerChannel(address);
    return { call: async () => void (await channel.call(ECHO.echo.path, Buffer.from("ns/app"), {}, 1_000)), close: () => channel.close() };
  }
  const Client = grpc.makeGenericClientConstructor(ECHO, "Echo");
  const client = new Client(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { echo: (b: Buffer, m: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => void };
  const call = () => new Promise<void>((resolve, reject) => client.echo(Buffer.from("ns/app"), new grpc.Metadata(), { deadline: Date.now() + 1_000 }, (err) => (err === null ? resolve() : reject(err))));
  return { call, close: () => client.close() };
}

/** p99 (ms) of `n` sequential bare unary calls to the echo server at `address`. */
async function echoP99(address: string, n: number, kind: EchoClientKind): Promise<number> {
  const client = echoClient(address, kind);
  await client.call();
  const latency = await sequentialP99(n, () => client.call());
  client.close();
  return latency;
}

/** CPU (µs) per call of `n` sequential calls, on this side and on the owner's process together: the noise-robust view of what a call costs. */
async function cpuPerCall(n: number, call: (i: number) => unknown, ownerCpuUs: () => Promise<number>): Promise<number> {
  const ownerBefore = await ownerCpuUs();
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await call(i);
  const used = process.cpuUsage(before);
  const owner = (await ownerCpuUs()) - ownerBefore;
  return (used.user + used.system + owner) / n;
}

/** The owner process of part 1, and a way to ask it for one local round. */
async function startOwnerProcess(): Promise<{ address: string; echo: string; localP99: (n: number, tag: string) => Promise<number>; cpuUs: () => Promise<number>; stop: () => void }> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "owner"], { stdio: "pipe" });
  child.stderr.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done === true) throw new Error("the owner process ended");
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  const { address, echo } = await next();
  return {
    address: String(address),
    echo: String(echo),
    async localP99(n, tag) {
      child.stdin.write(`local ${String(n)} ${tag}\n`);
      return Number((await next())["p99"]);
    },
    async cpuUs() {
      child.stdin.write("cpu\n");
      return Number((await next())["cpuUs"]);
    },
    stop: () => child.stdin.end(),
  };
}

async function main(): Promise<void> {
  const owner = await replica("owner");
  const follower = await replica("follower");
  const third = await replica("third");
  for (const r of [follower, third]) r.owner = { kind: "peer", address: owner.link.address(), identity: "owner" };
  await Promise.all([follower.link.flush(), third.link.flush()]);
  const remote = await startOwnerProcess();
  const forwarding = await replica("forwarding");
  forwarding.owner = { kind: "peer", address: remote.address, identity: "owner" };
  try {
    // 1. Forwarded over local issuance, the owner in a process of its own.
    await forwarding.link.flush();
    let round = 0;
    const issue = await alternate(
      ROUNDS,
      () => remote.localP99(ISSUES_PER_ROUND, `local-${round}`),
      () => issueP99(forwarding.link.checkPorts, ISSUES_PER_ROUND, `fwd-${round++}`),
    );
    const added = issue.a.map((local, i) => (issue.b[i] ?? Number.NaN) - local);
    report(figure("replicas.forward_added_p99_ms", added, { op: "<=", limit: 1 }, "ms"));
    report(info("replicas.local_issue_p99_ms", median(issue.a), "ms"));
    report(info("replicas.forwarded_issue_p99_ms", median(issue.b), "ms"));
    // Each one also sits in the p99s above: a figure with any is measuring a machine too loaded to answer within the forwarding deadline.
    report(info("replicas.forwarded_not_issued", [...notIssued.values()].reduce((a, b) => a + b, 0)));
    if (notIssued.size > 0) console.log(`forwarded admissions not issued: ${JSON.stringify(Object.fromEntries(notIssued))}`);
    const echoes = await alternate(
      ROUNDS,
      () => echoP99(remote.echo, ISSUES_PER_ROUND, "peer-channel"),
      () => echoP99(remote.echo, ISSUES_PER_ROUND, "grpc-js"),
    );
    report(info("replicas.transport_floor_p99_ms", median(echoes.a), "ms"));
    report(info("replicas.grpc_js_client_floor_p99_ms", median(echoes.b), "ms"));
    report(info("replicas.forwarded_over_transport_p99_ms", median(issue.b) - median(echoes.a), "ms"));
    // CPU per call, both processes together: what a forwarded admission costs over the bare transport, free of scheduling noise.
    const echo = echoClient(remote.echo, "peer-channel");
    let cpuRound = 0;
    const cpu = await alternate(
      ROUNDS,
      () => cpuPerCall(ISSUES_PER_ROUND, () => echo.call(), remote.cpuUs),
      () => {
        const tag = `cpu-${cpuRound++}`;
        return cpuPerCall(ISSUES_PER_ROUND, (i) => admit(forwarding.link.checkPorts, KEY, { client: `${tag}-${i}` }), remote.cpuUs);
      },
    );
    echo.close();
    report(info("replicas.transport_cpu_us_per_call", median(cpu.a), "us"));
    report(info("replicas.forwarded_cpu_us_per_call", median(cpu.b), "us"));
    report(info("replicas.forwarded_cpu_over_transport", median(ratios(cpu)), "x"));

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
    const one = validChecker(alone, tokens);
    const three = validChecker(withPeers, tokens);
    // One unmeasured round each, so both run optimised code.
    one.cpuSeconds(CHECKS_PER_ROUND);
    three.cpuSeconds(CHECKS_PER_ROUND);
    await follower.link.flush();
    // Each round interleaves the two sides in slices, alternating which goes first, so a change in the machine's
    // load during a round falls on both alike (a round of each side in turn let it fall on one: spread 0.07–0.18).
    const checks: { a: number[]; b: number[] } = { a: [], b: [] };
    for (let round = 0; round < ROUNDS; round++) {
      let cpuOne = 0;
      let cpuThree = 0;
      for (let slice = 0; slice < SLICES_PER_ROUND; slice++) {
        const threeFirst = (round + slice) % 2 === 1;
        if (threeFirst) cpuThree += three.cpuSeconds(CHECKS_PER_ROUND / SLICES_PER_ROUND);
        cpuOne += one.cpuSeconds(CHECKS_PER_ROUND / SLICES_PER_ROUND);
        if (!threeFirst) cpuThree += three.cpuSeconds(CHECKS_PER_ROUND / SLICES_PER_ROUND);
        // The follower's activity batches go out between slices, outside the measured CPU, as its timer would send them.
        await follower.link.flush();
      }
      checks.a.push(CHECKS_PER_ROUND / cpuOne);
      checks.b.push(CHECKS_PER_ROUND / cpuThree);
    }
    one.close();
    three.close();
    report(figure("replicas.valid_check_ratio", ratios(checks), { op: ">=", limit: 0.9 }));
    report(info("replicas.valid_checks_per_cpu_second_one", median(checks.a)));
    report(info("replicas.valid_checks_per_cpu_second_three", median(checks.b)));
  } finally {
    remote.stop();
    await Promise.all([owner.link.stop(), follower.link.stop(), third.link.stop(), forwarding.link.stop()]);
  }
}

if (process.argv[2] === "owner") await ownerProcess();
else await main();
