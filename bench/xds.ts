/**
 * xDS bench (issue 3, Performance). `npm run bench:xds`
 *
 * A load client in a separate process (bench/xds-load-client.ts) opens
 * STREAMS delta ADS streams on loopback and behaves as Envoy does.
 * - Floor: a minimal grpc-js server writes the pre-encoded responses of a
 *   single-pod change (one DeltaDiscoveryResponse per changed type, encoded
 *   once) to every stream; time until every stream has received and ACKed them.
 * - Ours: SnapshotCache + ADS server + publisher (default debounce) serving
 *   2,000 pods across 50 apps; one pod is added; time until every stream has
 *   received and ACKed its cluster, endpoints and the new routes.
 * Each is repeated REPEATS times; medians are compared. The change is a pod
 * added, the common single-pod change (scale-up); its changed resources are
 * that pod's Cluster and ClusterLoadAssignment and the RouteConfiguration.
 *
 * Options (env): XDS_BENCH_STREAMS (1000), XDS_BENCH_CONNECTIONS (20),
 * XDS_BENCH_PODS (2000), XDS_BENCH_APPS (50), XDS_BENCH_REPEATS (3).
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { silentLogger, systemClock } from "../src/common/index.js";
import { createAdsServer, createPublisher, SnapshotCache } from "../src/xds/index.js";
import { buildGatewayResources, PUSH_ORDER, type AppModel, type BuiltResource, type GatewayModel } from "../src/xds/resources/index.js";

const STREAMS = intEnv("XDS_BENCH_STREAMS", 1_000);
const CONNECTIONS = intEnv("XDS_BENCH_CONNECTIONS", 20);
const PODS = intEnv("XDS_BENCH_PODS", 2_000);
const APPS = intEnv("XDS_BENCH_APPS", 50);
const REPEATS = intEnv("XDS_BENCH_REPEATS", 3);
const PHASE_TIMEOUT_MS = 60_000;
const WHOLE_BENCH_TIMEOUT_MS = 150_000;

function intEnv(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

interface Item {
  typeUrl: string;
  name: string;
}
type ChildMessage = { type: "synced" } | { type: "armed"; id: number } | { type: "done"; id: number; bytes: number[] };

// ---- model -------------------------------------------------------------

function gatewayModel(extraPods: number): GatewayModel {
  const perApp = Math.ceil(PODS / APPS);
  const apps: AppModel[] = [];
  let n = 0;
  for (let a = 0; a < APPS; a++) {
    const pods = [];
    for (let p = 0; p < perApp && n < PODS; p++, n++) pods.push({ name: `app${a}-pod${p}`, host: `10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, port: 3838 });
    if (a === 0) for (let e = 0; e < extraPods; e++) pods.push({ name: `app0-new${e}`, host: `10.200.0.${e + 1}`, port: 3838 });
    apps.push({ namespace: "bench", name: `app${a}`, pathPrefix: `/app${a}/`, podPath: "/", mode: "serve", pods });
  }
  return {
    group: "default",
    listener: { address: "0.0.0.0", port: 8080 },
    extAuthz: { cluster: { host: "127.0.0.1", port: 9001 }, timeoutMs: 500 },
    accessLog: { cluster: { host: "127.0.0.1", port: 9002 }, flushIntervalMs: 1_000 },
    apps,
  };
}

/** Resources whose bytes differ between two builds, and names that disappear. */
function changed(before: readonly BuiltResource[], after: readonly BuiltResource[]): { upserts: BuiltResource[]; removals: Item[] } {
  const key = (r: { typeUrl: string; name: string }): string => `${r.typeUrl} ${r.name}`;
  const old = new Map(before.map((r) => [key(r), r]));
  const now = new Set(after.map(key));
  const upserts = after.filter((r) => {
    const prev = old.get(key(r));
    return prev === undefined || Buffer.compare(Buffer.from(prev.encoded), Buffer.from(r.encoded)) !== 0;
  });
  const removals = before.filter((r) => !now.has(key(r))).map((r) => ({ typeUrl: r.typeUrl, name: r.name }));
  return { upserts, removals };
}

// ---- load client -------------------------------------------------------

class LoadClient {
  readonly #child: ChildProcess;
  readonly #waiters = new Map<string, (m: ChildMessage) => void>();
  readonly exited: Promise<void>;

  constructor() {
    const script = fileURLToPath(new URL("./xds-load-client.ts", import.meta.url));
    this.#child = fork(script, [], { execPath: process.execPath, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.exited = new Promise((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.on("message", (m: ChildMessage) => {
      const k = m.type === "synced" ? "synced" : `${m.type}:${m.id}`;
      const w = this.#waiters.get(k);
      this.#waiters.delete(k);
      w?.(m);
    });
  }

  send(message: object): void {
    this.#child.send(message);
  }

  wait<T extends ChildMessage>(k: string, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`xds bench: ${what} not within ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS);
      this.#waiters.set(k, (m) => {
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

let expectId = 0;

/** Arms the child with what to wait for, runs `trigger`, and returns ms until every stream has it all (and the bytes per stream). */
async function measure(client: LoadClient, items: Item[], trigger: () => void): Promise<{ ms: number; bytes: number[] }> {
  const id = ++expectId;
  const armed = client.wait(`armed:${id}`, "armed");
  client.send({ type: "expect", id, items });
  await armed;
  const done = client.wait<{ type: "done"; id: number; bytes: number[] }>(`done:${id}`, `change ${id} acked by every stream`);
  const t0 = performance.now();
  trigger();
  const result = await done;
  return { ms: performance.now() - t0, bytes: result.bytes };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
}

async function shutdown(server: grpc.Server): Promise<void> {
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 3_000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

// ---- floor -------------------------------------------------------------

const DELTA_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

/** The floor: pre-encoded responses written as-is to every stream. */
async function runFloor(changes: { upserts: BuiltResource[]; removals: Item[] }[]): Promise<number[]> {
  const calls = new Set<grpc.ServerDuplexStream<DeltaDiscoveryRequest, Buffer>>();
  let onStreams: (() => void) | undefined;
  const server = new grpc.Server();
  server.addService(
    {
      deltaAggregatedResources: {
        path: DELTA_PATH,
        requestStream: true,
        responseStream: true,
        requestDeserialize: (b: Buffer) => DeltaDiscoveryRequest.decode(b),
        requestSerialize: (r: DeltaDiscoveryRequest) => Buffer.from(DeltaDiscoveryRequest.encode(r).finish()),
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      deltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, Buffer>) => {
        calls.add(call);
        call.on("data", () => undefined); // ACKs and subscriptions: read and dropped
        call.on("error", (err: grpc.ServiceError) => {
          if (err.code !== grpc.status.CANCELLED) process.stderr.write(`floor stream: ${err.message}\n`);
        });
        call.on("close", () => calls.delete(call));
        if (calls.size === STREAMS) onStreams?.();
      },
    },
  );
  const port = await bind(server);
  const client = new LoadClient();
  const times: number[] = [];
  try {
    const connected = new Promise<void>((resolve) => (onStreams = resolve));
    client.send({ type: "start", address: `127.0.0.1:${port}`, streams: STREAMS, connections: CONNECTIONS, waitSync: false });
    await connected;
    for (const [k, change] of changes.entries()) {
      const responses = PUSH_ORDER.flatMap((typeUrl) => {
        const up = change.upserts.filter((r) => r.typeUrl === typeUrl);
        const rm = change.removals.filter((r) => r.typeUrl === typeUrl).map((r) => r.name);
        if (up.length === 0 && rm.length === 0) return [];
        const msg = DeltaDiscoveryResponse.fromPartial({
          systemVersionInfo: `floor-${k}`,
          typeUrl,
          nonce: `floor-${k}-${typeUrl}`,
          resources: up.map((r) => ({ name: r.name, version: `floor-${k}`, resource: { typeUrl, value: Buffer.from(r.encoded) } })),
          removedResources: rm,
        });
        return [Buffer.from(DeltaDiscoveryResponse.encode(msg).finish())];
      });
      const { ms } = await measure(client, items(change), () => {
        for (const call of calls) for (const b of responses) call.write(b);
      });
      times.push(ms);
    }
  } finally {
    await client.stop();
    await shutdown(server);
  }
  return times;
}

function items(change: { upserts: BuiltResource[]; removals: Item[] }): Item[] {
  return [...change.upserts.map((r) => ({ typeUrl: r.typeUrl, name: r.name })), ...change.removals];
}

// ---- ours --------------------------------------------------------------

async function runOurs(models: GatewayModel[], changes: { upserts: BuiltResource[]; removals: Item[] }[]): Promise<{ times: number[]; bytes: number[]; rssMb: number; heapMb: number }> {
  let current = models[0];
  const cache = new SnapshotCache();
  const ads = createAdsServer({ cache, logger: silentLogger, registry: new Registry(), clock: systemClock });
  const publisher = createPublisher({ models: () => [current], build: buildGatewayResources, cache, logger: silentLogger, clock: systemClock });
  publisher.publishNow();
  const server = new grpc.Server({ "grpc.max_concurrent_streams": 100_000 });
  server.addService(ads.service, ads.implementation);
  const port = await bind(server);
  const client = new LoadClient();
  const times: number[] = [];
  const bytes: number[] = [];
  let rssMb: number;
  let heapMb: number;
  try {
    const synced = client.wait("synced", "initial sync of every stream");
    const t0 = performance.now();
    client.send({ type: "start", address: `127.0.0.1:${port}`, streams: STREAMS, connections: CONNECTIONS, waitSync: true });
    await synced;
    console.log(`ours: ${STREAMS} streams synced with ${PODS} pods in ${(performance.now() - t0).toFixed(0)} ms`);
    globalThis.gc?.();
    const mem = process.memoryUsage();
    rssMb = mem.rss / 2 ** 20;
    heapMb = mem.heapUsed / 2 ** 20;
    for (const [k, change] of changes.entries()) {
      const { ms, bytes: perStream } = await measure(client, items(change), () => {
        current = models[k + 1]!;
        publisher.schedule();
      });
      times.push(ms);
      bytes.push(median(perStream));
    }
  } finally {
    await client.stop();
    publisher.stop();
    ads.close();
    await shutdown(server);
  }
  return { times, bytes, rssMb, heapMb };
}

// ---- main --------------------------------------------------------------

async function main(): Promise<void> {
  const models = Array.from({ length: REPEATS + 1 }, (_, k) => gatewayModel(k));
  const builds = models.map(buildGatewayResources);
  const changes = builds.slice(1).map((b, k) => changed(builds[k], b));
  const changedBytes = changes.map((c) => c.upserts.reduce((n, r) => n + r.encoded.length, 0));
  console.log(`xds bench: ${STREAMS} delta streams over ${CONNECTIONS} connections, ${PODS} pods in ${APPS} apps, ${REPEATS} single-pod changes`);
  console.log(`change: ${changes[0].upserts.map((r) => `${r.typeUrl.split(".").at(-1)} ${r.name} (${r.encoded.length} B)`).join(", ")}`);

  const floor = await runFloor(changes);
  console.log(`floor: ${floor.map((t) => t.toFixed(1)).join(", ")} ms`);
  const ours = await runOurs(models, changes);
  console.log(`ours:  ${ours.times.map((t) => t.toFixed(1)).join(", ")} ms (default debounce included)`);
  console.log(`bytes per stream per change: ${ours.bytes.join(", ")}; changed resources: ${changedBytes.join(", ")} B`);
  console.log(`control plane with ${STREAMS} streams and ${PODS} pods: rss ${ours.rssMb.toFixed(0)} MB, heap ${ours.heapMb.toFixed(0)} MB`);

  const timeRatio = median(ours.times) / median(floor);
  const byteRatio = median(ours.bytes.map((b, i) => b / changedBytes[i]));
  const line = (bench: string, value: number, goal: string, pass: boolean): void =>
    console.log(JSON.stringify({ bench, value: Number(value.toFixed(3)), goal, pass }));
  line("xds.change_to_all_acked_ratio", timeRatio, "<= 3", timeRatio <= 3);
  line("xds.delta_bytes_per_change_ratio", byteRatio, "<= 1.2", byteRatio <= 1.2);
  line("xds.control_plane_rss_mb", ours.rssMb, "info", true);
}

const guard = setTimeout(() => {
  console.error(`xds bench: did not finish within ${WHOLE_BENCH_TIMEOUT_MS} ms`);
  process.exit(1);
}, WHOLE_BENCH_TIMEOUT_MS);
guard.unref();
main().then(
  () => clearTimeout(guard),
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
