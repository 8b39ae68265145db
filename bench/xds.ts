/**
 * xDS bench. `npm run bench:xds`
 *
 * For each size (pods × streams) and each protocol (delta, state of the
 * world), two servers run in their own processes (bench/xds-server.ts), each
 * with its own load client process (bench/xds-load-client.ts), on loopback:
 * - floor: a minimal grpc-js ADS server answering with responses encoded
 *   before the measurement, in the order and shape ours sends them;
 * - ours: SnapshotCache + ADS server + publisher, as the runtime runs them.
 * The two load clients are the same program: Envoy's subscriptions, every
 * response decoded in full and ACKed.
 *
 * Rounds (bench/lib/rounds.ts: at least five, alternating which side goes
 * first, after one unmeasured warm-up round on each side): each round adds
 * one pod (`app0-new<round>`) and then removes it;
 * the time is from the change until every stream has received and ACKed
 * what it must (add: the pod's Cluster, its ClusterLoadAssignment after
 * the stream asks for it; remove: the removals; the route table has one
 * route per app and does not change). At the initial-sync size, rounds of reconnecting every stream
 * measure the initial sync against the floor's.
 *
 * Figures (one JSON line each; bench names end in .<pods>pods_<streams>streams):
 *   xds.delta.bytes_per_stream.{add,remove}        ≤ 2048 B per delta stream per one-pod change
 *   xds.delta.cluster_endpoint_bytes_per_stream.*  info: the CDS+EDS part of it
 *   xds.sotw.bytes_per_stream.{add,remove}         info: SotW resends the whole cluster list by protocol
 *   xds.{delta,sotw}.all_acked_vs_floor.*          ≤ 1.5 (ours / floor, per round)
 *   xds.{delta,sotw}.server_cpu_ms.*               info: the server process's CPU time per change
 *   xds.sotw_vs_delta_cpu.*                        ≤ 2 (SotW / delta server CPU for the same change), at sizes both run
 *   xds.{delta,sotw}.rss_kb_per_stream             ≤ 300: (RSS after the first sync − RSS before any stream) / streams, after GC
 *   xds.{delta,sotw}.initial_sync_vs_floor         ≤ 2, at the initial-sync size
 *
 * Options (env):
 *   XDS_BENCH_SIZES        delta: pods x streams list (default "500x1000,2000x1000,8000x250": 8,000 pods
 *                          run with 250 streams so that the whole bench stays near ten minutes
 *                          on two cores; 8000x1000 fits in memory and takes about four times longer)
 *   XDS_BENCH_SOTW_SIZES   the same for state of the world (default "500x1000,2000x250": every
 *                          change resends the whole cluster list, 200 MB per change at 2000x1000)
 *   XDS_BENCH_PROTOCOLS    "delta,sotw"
 *   XDS_BENCH_ROUNDS       5 (at least 5)
 *   XDS_BENCH_SYNC_PODS    2000: the size whose initial sync is measured in rounds ("0": none)
 *   XDS_BENCH_CONNECTIONS  20, XDS_BENCH_APPS 50
 *   XDS_BENCH_CPU_PROF     a directory: each server process writes a CPU profile there (node --cpu-prof)
 *   XDS_BENCH_CHANGE_PROF  a directory: each server process writes a CPU profile of the changes only (first change to stop)
 *   XDS_BENCH_HEAP_SNAPSHOT a directory: each server process writes a heap snapshot at each memory figure
 *   XDS_BENCH_MEMORY_DETAIL set: each server prints its V8 spaces and its RSS by mapping (malloc heap, anonymous, files)
 *   XDS_BENCH_WRITE_BUDGET_KB ours' server-wide bytes in flight (AdsLimits.maxBytesInFlightTotal; default 16384)
 *   XDS_BENCH_FIRST_SYNC_KB ours' server-wide first-sync bytes not yet answered (AdsLimits.maxFirstSyncBytes; default 4096)
 * A bigger run by hand, e.g.:
 *   XDS_BENCH_SIZES=8000x1000 XDS_BENCH_SYNC_PODS=8000 npm run bench:xds
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TYPE_URLS } from "../src/xds/resources/type-urls.js";
import { alternate, figure, info, median, ratios, report } from "./lib/rounds.js";
import type { ExpectedItem, Protocol } from "./xds-load-client.js";
import { changedPod, type ChangeKind, type ServerKind } from "./xds-server.js";

interface Size {
  readonly pods: number;
  readonly streams: number;
}

function sizes(name: string, fallback: string): Size[] {
  // An empty list ("XDS_BENCH_SOTW_SIZES=") runs that protocol at no size.
  return (process.env[name] ?? fallback).split(",").filter((s) => s.trim() !== "").map((s) => {
    const [pods, streams] = s.split("x").map(Number);
    if (!Number.isInteger(pods) || !Number.isInteger(streams) || !pods || !streams) throw new Error(`${name}: "${s}" is not <pods>x<streams>`);
    return { pods, streams };
  });
}

const PROTOCOLS = (process.env.XDS_BENCH_PROTOCOLS ?? "delta,sotw").split(",").filter((p): p is Protocol => p === "delta" || p === "sotw");
/**
 * Sizes per protocol. State of the world resends the whole cluster list to
 * every stream on every change (about 100 B per pod): at 2,000 pods and
 * 1,000 streams that is 200 MB per change for each side's load client to
 * decode, about 20 s a change, so by default it runs there with 250 streams.
 */
const SIZES_BY_PROTOCOL: Readonly<Record<Protocol, readonly Size[]>> = {
  delta: sizes("XDS_BENCH_SIZES", "500x1000,2000x1000,8000x250"),
  sotw: sizes("XDS_BENCH_SOTW_SIZES", "500x1000,2000x250"),
};
/** Every size some protocol runs, in first-seen order. */
const SIZES: readonly Size[] = PROTOCOLS.flatMap((p) => SIZES_BY_PROTOCOL[p]).filter((s, i, all) => all.findIndex((t) => t.pods === s.pods && t.streams === s.streams) === i);
const ROUNDS = Math.max(5, intEnv("XDS_BENCH_ROUNDS", 5));
/** Unmeasured rounds on each side first: the first change through a path pays for compiling it. */
const WARM_UP_ROUNDS = 1;
const SYNC_PODS = intEnv("XDS_BENCH_SYNC_PODS", 2_000, true);
const CONNECTIONS = intEnv("XDS_BENCH_CONNECTIONS", 20);
const APPS = intEnv("XDS_BENCH_APPS", 50);
const PHASE_TIMEOUT_MS = 240_000;
const WHOLE_BENCH_TIMEOUT_MS = 30 * 60_000;
/** After the client reports every ACK written, the server gets this long to read them before its CPU time is taken. */
const SETTLE_MS = 150;

function intEnv(name: string, fallback: number, zeroOk = false): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && (v > 0 || (zeroOk && v === 0)) && process.env[name] !== undefined ? v : fallback;
}

const children = new Set<ChildProcess>();

/** A child process spoken to over IPC; `next(type)` resolves with its next message of that type. */
class Child {
  readonly #child: ChildProcess;
  readonly #waiters = new Map<string, (m: Record<string, unknown>) => void>();
  readonly #queued = new Map<string, Record<string, unknown>[]>();
  readonly exited: Promise<void>;

  constructor(script: string, name: string) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    // XDS_BENCH_CPU_PROF=<dir>: a CPU profile of each server process (NODE_OPTIONS may not carry --cpu-prof).
    const prof = process.env.XDS_BENCH_CPU_PROF !== undefined && script.endsWith("xds-server.ts") ? ["--cpu-prof", `--cpu-prof-dir=${process.env.XDS_BENCH_CPU_PROF}`] : [];
    this.#child = fork(path, [], { execPath: process.execPath, execArgv: ["--import", "tsx", "--expose-gc", ...prof], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.add(this.#child);
    this.exited = new Promise((resolve) =>
      this.#child.once("exit", (code) => {
        children.delete(this.#child);
        if (code !== 0 && code !== null) process.stderr.write(`xds bench: ${name} exited with ${code}\n`);
        resolve();
      }),
    );
    this.#child.on("message", (m: Record<string, unknown>) => {
      const type = String(m.type);
      const w = this.#waiters.get(type);
      if (w) {
        this.#waiters.delete(type);
        w(m);
      } else this.#queued.set(type, [...(this.#queued.get(type) ?? []), m]);
    });
  }

  send(message: object): void {
    this.#child.send(message);
  }

  next<T>(type: string, what: string): Promise<T> {
    const q = this.#queued.get(type);
    if (q && q.length > 0) return Promise.resolve(q.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`xds bench: ${what} not within ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS);
      this.#waiters.set(type, (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
    });
  }

  async stop(): Promise<void> {
    if (this.#child.connected) this.send({ type: "stop" });
    const killer = setTimeout(() => this.#child.kill(), 5_000);
    await this.exited;
    clearTimeout(killer);
  }
}

interface Memory {
  rss: number;
  heapUsed: number;
  /** What V8 holds for its heap (used or not): part of the RSS. */
  heapTotal: number;
  /** Memory of Buffers and other objects outside the V8 heap (includes arrayBuffers). */
  external: number;
}

interface ChangeResult {
  readonly ms: number;
  readonly cpuMs: number;
  readonly bytes: number;
  readonly clusterEndpointBytes: number;
}

/** One server process and its load client. */
class Side {
  readonly server: Child;
  readonly client: Child;
  readonly results: Record<ChangeKind, ChangeResult[]> = { add: [], remove: [] };
  #expectId = 0;
  #generation = 1;
  #round = 0;
  baseline: Memory | undefined;
  synced: Memory | undefined;
  firstSyncMs = 0;

  constructor(
    readonly kind: ServerKind,
    readonly protocol: Protocol,
    readonly size: Size,
  ) {
    this.server = new Child("./xds-server.ts", `${kind} ${protocol} server`);
    this.client = new Child("./xds-load-client.ts", `${kind} ${protocol} load client`);
  }

  async start(): Promise<void> {
    this.server.send({ type: "init", kind: this.kind, protocol: this.protocol, pods: this.size.pods, apps: APPS, rounds: WARM_UP_ROUNDS + ROUNDS });
    const { port } = await this.server.next<{ port: number }>("ready", `${this.kind} server ready`);
    this.baseline = await this.memory();
    const t0 = performance.now();
    this.client.send({ type: "start", address: `127.0.0.1:${port}`, streams: this.size.streams, connections: CONNECTIONS, protocol: this.protocol });
    await this.client.next("synced", `${this.kind} ${this.protocol}: initial sync of every stream`);
    this.firstSyncMs = performance.now() - t0;
    this.synced = await this.memory();
  }

  async memory(): Promise<Memory> {
    this.server.send({ type: "memory" });
    return this.server.next<Memory>("memory", "memory figures");
  }

  /** Cancels every stream and opens them again; ms until all are in sync. */
  async resync(): Promise<number> {
    const generation = ++this.#generation;
    const t0 = performance.now();
    this.client.send({ type: "reconnect" });
    for (;;) {
      const m = await this.client.next<{ generation: number }>("synced", `${this.kind} ${this.protocol}: initial sync after reconnecting`);
      if (m.generation === generation) return performance.now() - t0;
    }
  }

  async change(round: number, to: ChangeKind, measured = true): Promise<ChangeResult> {
    const id = ++this.#expectId;
    this.client.send({ type: "expect", id, items: expected(this.protocol, round, to) });
    await this.client.next("armed", "armed");
    const t0 = performance.now();
    this.server.send({ type: "change", round, to });
    const done = await this.client.next<{ bytes: number[]; clusterEndpointBytes: number[] }>("done", `${this.kind} ${this.protocol}: change ${round} (${to}) ACKed by every stream`);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    this.server.send({ type: "cpu" });
    const { ms: cpuMs } = await this.server.next<{ ms: number }>("cpu", "cpu time");
    const result = { ms, cpuMs, bytes: median(done.bytes), clusterEndpointBytes: median(done.clusterEndpointBytes) };
    if (measured) this.results[to].push(result);
    return result;
  }

  /** The next round: one pod added, then removed; returns the add's time. Unmeasured: a warm-up, not in the results. */
  async round(measured = true): Promise<number> {
    const round = this.#round++;
    const add = await this.change(round, "add", measured);
    await this.change(round, "remove", measured);
    return add.ms;
  }

  async stop(): Promise<void> {
    await Promise.all([this.client.stop(), this.server.stop()]);
  }
}

/** What every stream must receive (and ACK) for a change: the pod's own cluster and endpoints (the route table names no pod). */
function expected(protocol: Protocol, round: number, to: ChangeKind): ExpectedItem[] {
  const pod = changedPod(round);
  if (to === "add") return [{ typeUrl: TYPE_URLS.cluster, name: pod }, { typeUrl: TYPE_URLS.endpoints, name: pod }];
  // State of the world cannot say that endpoints went away: only the cluster list shows it.
  const removals = protocol === "delta" ? [TYPE_URLS.endpoints, TYPE_URLS.cluster] : [TYPE_URLS.cluster];
  return removals.map((typeUrl) => ({ typeUrl, name: pod, removed: true }));
}

const fmt = (xs: readonly number[]): string => xs.map((x) => x.toFixed(0)).join(", ");

interface ProtocolRun {
  readonly ours: Side;
  readonly floor: Side;
  readonly syncRatios: number[];
}

async function runProtocol(size: Size, protocol: Protocol): Promise<ProtocolRun> {
  const floor = new Side("floor", protocol, size);
  const ours = new Side("ours", protocol, size);
  try {
    await floor.start();
    await ours.start();
    const perStream = (s: Side): number => ((s.synced?.rss ?? 0) - (s.baseline?.rss ?? 0)) / size.streams / 1024;
    console.log(
      `${protocol}: first sync of ${size.streams} streams with ${size.pods} pods: floor ${floor.firstSyncMs.toFixed(0)} ms, ours ${ours.firstSyncMs.toFixed(0)} ms; ` +
        `ours rss ${mb(ours.baseline?.rss)} → ${mb(ours.synced?.rss)} MB (heap used ${mb(ours.baseline?.heapUsed)} → ${mb(ours.synced?.heapUsed)} MB, heap total ${mb(ours.baseline?.heapTotal)} → ${mb(ours.synced?.heapTotal)} MB, external ${mb(ours.baseline?.external)} → ${mb(ours.synced?.external)} MB), ${perStream(ours).toFixed(0)} KB per stream; ` +
        `floor rss ${mb(floor.baseline?.rss)} → ${mb(floor.synced?.rss)} MB (heap ${mb(floor.baseline?.heapUsed)} → ${mb(floor.synced?.heapUsed)} MB)`,
    );
    let syncRatios: number[] = [];
    if (size.pods === SYNC_PODS) {
      const s = await alternate(ROUNDS, () => floor.resync(), () => ours.resync());
      console.log(`${protocol}: initial sync rounds: floor ${fmt(s.a)} ms; ours ${fmt(s.b)} ms`);
      syncRatios = ratios(s);
    }
    // Both sides warm (their change paths compiled) before the measured rounds, as a server that has been running is.
    for (let i = 0; i < WARM_UP_ROUNDS; i++) {
      await floor.round(false);
      await ours.round(false);
    }
    await alternate(ROUNDS, () => floor.round(), () => ours.round());
    return { ours, floor, syncRatios };
  } finally {
    await Promise.all([floor.stop(), ours.stop()]);
  }
}

function mb(bytes: number | undefined): string {
  return ((bytes ?? 0) / 2 ** 20).toFixed(0);
}

async function main(): Promise<void> {
  const list = (ss: readonly Size[]): string => ss.map((s) => `${s.pods} pods × ${s.streams} streams`).join(", ");
  console.log(`xds bench: ${PROTOCOLS.map((p) => `${p} at ${list(SIZES_BY_PROTOCOL[p])}`).join("; ")}; ${ROUNDS} rounds of one pod added then removed; ${CONNECTIONS} connections, ${APPS} apps`);
  for (const size of SIZES) {
    if (size.streams < 1000) console.log(`note: ${size.pods} pods runs with ${size.streams} streams, not 1000, to keep the bench within its time budget on this machine`);
    const runs = new Map<Protocol, ProtocolRun>();
    for (const protocol of PROTOCOLS) {
      if (SIZES_BY_PROTOCOL[protocol].some((s) => s.pods === size.pods && s.streams === size.streams)) runs.set(protocol, await runProtocol(size, protocol));
    }
    reportSize(size, runs);
  }
}

function reportSize(size: Size, runs: ReadonlyMap<Protocol, ProtocolRun>): void {
  const tag = `${size.pods}pods_${size.streams}streams`;
  for (const [protocol, run] of runs) {
    for (const kind of ["add", "remove"] as const) {
      const ours = run.ours.results[kind];
      const floor = run.floor.results[kind];
      console.log(
        `${protocol} ${kind} (${tag}): ours ${fmt(ours.map((r) => r.ms))} ms, floor ${fmt(floor.map((r) => r.ms))} ms; ` +
          `server cpu ours ${fmt(ours.map((r) => r.cpuMs))} ms, floor ${fmt(floor.map((r) => r.cpuMs))} ms; bytes per stream ${fmt(ours.map((r) => r.bytes))} (CDS+EDS ${fmt(ours.map((r) => r.clusterEndpointBytes))})`,
      );
      if (protocol === "delta") {
        report({ ...figure(`xds.delta.bytes_per_stream.${kind}.${tag}`, ours.map((r) => r.bytes), { op: "<=", limit: 2048 }), unit: "B" });
        report(info(`xds.delta.cluster_endpoint_bytes_per_stream.${kind}.${tag}`, median(ours.map((r) => r.clusterEndpointBytes)), "B"));
      } else {
        report(info(`xds.sotw.bytes_per_stream.${kind}.${tag}`, median(ours.map((r) => r.bytes)), "B"));
      }
      report(figure(`xds.${protocol}.all_acked_vs_floor.${kind}.${tag}`, ours.map((r, i) => r.ms / (floor[i]?.ms ?? Number.NaN)), { op: "<=", limit: 1.5 }));
      report(info(`xds.${protocol}.server_cpu_ms.${kind}.${tag}`, median(ours.map((r) => r.cpuMs)), "ms"));
    }
    const perStream = (((run.ours.synced?.rss ?? 0) - (run.ours.baseline?.rss ?? 0)) / size.streams) / 1024;
    report(figure(`xds.${protocol}.rss_kb_per_stream.${tag}`, [perStream], { op: "<=", limit: 300 }, "KB"));
    if (run.syncRatios.length > 0) report(figure(`xds.${protocol}.initial_sync_vs_floor.${tag}`, run.syncRatios, { op: "<=", limit: 2 }));
  }
  const delta = runs.get("delta");
  const sotw = runs.get("sotw");
  if (delta && sotw) {
    for (const kind of ["add", "remove"] as const) {
      const d = delta.ours.results[kind];
      report(figure(`xds.sotw_vs_delta_cpu.${kind}.${tag}`, sotw.ours.results[kind].map((r, i) => r.cpuMs / (d[i]?.cpuMs ?? Number.NaN)), { op: "<=", limit: 2 }));
    }
  }
}

const guard = setTimeout(() => {
  console.error(`xds bench: did not finish within ${WHOLE_BENCH_TIMEOUT_MS} ms`);
  for (const c of children) c.kill();
  process.exit(1);
}, WHOLE_BENCH_TIMEOUT_MS);
guard.unref();
main().then(
  () => clearTimeout(guard),
  (err: unknown) => {
    console.error(err);
    for (const c of children) c.kill();
    process.exitCode = 1;
  },
);
