/**
 * The xDS bench's server process, run by bench/xds.ts (`node --import tsx
 * --expose-gc bench/xds-server.ts`, with an IPC channel), so that its CPU
 * time and memory are its own. It is one of:
 *
 * - ours: SnapshotCache + ADS server + publisher (default debounce) over the
 *   bench's gateway model, built with createIncrementalGatewayBuilder: the
 *   code the runtime runs; each change's model is handed in as the runtime
 *   hands it (modelAfterChange: only the changed app's pods are a new array).
 * - floor: a minimal grpc-js ADS server that answers from responses encoded
 *   before the measurement (one encoding per distinct response, shared by
 *   every stream), in the order ours sends them: the first request of a type
 *   gets the whole type; an EDS request gets the endpoints it newly names
 *   (state of the world: the names its list gained); a change is pushed as
 *   the responses ours sends for it. It reads ACKs and drops them.
 *
 * The gateway model: PODS pods spread over APPS apps; change `round` adds the
 * pod `app0-new<round>` (add) or takes it away again (remove).
 *
 * IPC, parent → child: {type:"init", kind, protocol, pods, apps, rounds},
 *   {type:"change", round, to:"add"|"remove"}, {type:"cpu"}, {type:"memory"},
 *   {type:"stop"}.
 * child → parent: {type:"ready", port}, {type:"cpu", ms} (CPU time since the
 *   last change), {type:"memory", rss, heapUsed} (after a full GC).
 */
import * as grpc from "@grpc/grpc-js";
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { Registry } from "prom-client";
import {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { silentLogger, systemClock } from "../src/common/index.js";
import { createAdsServer, createPublisher, SnapshotCache } from "../src/xds/index.js";
import { buildGatewayResources, createIncrementalGatewayBuilder, TYPE_URLS, type AppModel, type BuiltResource, type GatewayModel, type PodModel } from "../src/xds/resources/index.js";
import type { Protocol } from "./xds-load-client.js";

export type ServerKind = "ours" | "floor";
export type ChangeKind = "add" | "remove";

type ParentMessage =
  | { type: "init"; kind: ServerKind; protocol: Protocol; pods: number; apps: number; rounds: number }
  | { type: "change"; round: number; to: ChangeKind }
  | { type: "cpu" }
  | { type: "memory" }
  | { type: "stop" };

const SERVICE = "/envoy.service.discovery.v3.AggregatedDiscoveryService/";

/** The bench's gateway: `pods` pods in `apps` apps, plus `app0-new<extra>` when `extra` is given. */
export function gatewayModel(pods: number, apps: number, extra?: number): GatewayModel {
  const list: AppModel[] = [];
  for (let a = 0; a < apps; a++) list.push({ namespace: "bench", name: `app${a}`, pathPrefix: `/app${a}/`, podPath: "/", mode: "serve", pods: appPods(a, pods, apps, extra) });
  return {
    group: "default",
    listener: { address: "0.0.0.0", port: 8080 },
    extAuthz: { cluster: { host: "127.0.0.1", port: 9001 }, timeoutMs: 500 },
    accessLog: { cluster: { host: "127.0.0.1", port: 9002 }, flushIntervalMs: 1_000 },
    apps: list,
  };
}

/** The pods of app `a` in gatewayModel(pods, apps, extra). */
function appPods(a: number, pods: number, apps: number, extra?: number): PodModel[] {
  const perApp = Math.ceil(pods / apps);
  const list: PodModel[] = [];
  for (let p = 0, n = a * perApp; p < perApp && n < pods; p++, n++) list.push({ name: `app${a}-pod${p}`, host: `10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, port: 3838 });
  if (a === 0 && extra !== undefined) list.push({ name: `app0-new${extra}`, host: `10.200.${extra >> 8}.${(extra & 255) + 1}`, port: 3838 });
  return list;
}

/**
 * gatewayModel(pods, apps, extra) as the runtime hands it after a change
 * of app0's pods: app0's pods a new array, every other app's pods the very
 * array `base` has (the ticket core's podAddresses keeps an app's array
 * while none of its pods comes or goes), so the per-change model costs
 * what the runtime's does.
 */
function modelAfterChange(base: GatewayModel, pods: number, apps: number, extra?: number): GatewayModel {
  return { ...base, apps: base.apps.map((app, a) => (a === 0 ? { ...app, pods: appPods(0, pods, apps, extra) } : app)) };
}

/** The pod a change adds and removes. */
export function changedPod(round: number): string {
  return `bench/app0/app0-new${round}`;
}

// ---- ours ----------------------------------------------------------------

function startOurs(server: grpc.Server, pods: number, apps: number): (round: number, to: ChangeKind) => void {
  const base = gatewayModel(pods, apps);
  let current = base;
  const cache = new SnapshotCache();
  // XDS_BENCH_WRITE_BUDGET_KB: the server-wide bytes in flight (AdsLimits.maxBytesInFlightTotal), to see what it costs in RSS and time.
  const budgetKb = Number(process.env.XDS_BENCH_WRITE_BUDGET_KB);
  // XDS_BENCH_FIRST_SYNC_KB: the server-wide first-sync bytes not yet answered (AdsLimits.maxFirstSyncBytes).
  const firstSyncKb = Number(process.env.XDS_BENCH_FIRST_SYNC_KB);
  const limits = {
    ...(Number.isInteger(budgetKb) && budgetKb > 0 ? { maxBytesInFlightTotal: budgetKb * 1024 } : {}),
    ...(Number.isInteger(firstSyncKb) && firstSyncKb > 0 ? { maxFirstSyncBytes: firstSyncKb * 1024 } : {}),
  };
  const ads = createAdsServer({ cache, logger: silentLogger, registry: new Registry(), clock: systemClock, limits });
  const publisher = createPublisher({ models: () => [current], build: createIncrementalGatewayBuilder(), cache, logger: silentLogger, clock: systemClock });
  publisher.publishNow();
  server.addService(ads.service, ads.implementation);
  return (round, to) => {
    current = modelAfterChange(base, pods, apps, to === "add" ? round : undefined);
    publisher.schedule();
  };
}

// ---- floor ---------------------------------------------------------------

type Resources = ReadonlyMap<string, ReadonlyMap<string, BuiltResource>>;

function byType(built: readonly BuiltResource[]): Resources {
  const m = new Map<string, Map<string, BuiltResource>>();
  for (const r of built) {
    let names = m.get(r.typeUrl);
    if (!names) m.set(r.typeUrl, (names = new Map<string, BuiltResource>()));
    names.set(r.name, r);
  }
  return m;
}

/** Encodes the floor's responses (once each, memoised) for one protocol. */
class FloorEncoder {
  readonly #memo = new Map<string, Buffer>();
  #n = 0;

  constructor(readonly protocol: Protocol) {}

  /** A response with `resources` (and, for delta, `removed`); `key` names it for the memo. */
  response(key: string, typeUrl: string, resources: readonly BuiltResource[], removed: readonly string[] = []): Buffer {
    let b = this.#memo.get(key);
    if (b) return b;
    const tag = `floor-${++this.#n}`;
    if (this.protocol === "delta") {
      const msg = DeltaDiscoveryResponse.fromPartial({
        systemVersionInfo: tag,
        typeUrl,
        nonce: tag,
        resources: resources.map((r) => ({ name: r.name, version: tag, resource: { typeUrl, value: Buffer.from(r.encoded) } })),
        removedResources: [...removed],
      });
      b = Buffer.from(DeltaDiscoveryResponse.encode(msg).finish());
    } else {
      const msg = DiscoveryResponse.fromPartial({ versionInfo: tag, typeUrl, nonce: tag, resources: resources.map((r) => ({ typeUrl, value: Buffer.from(r.encoded) })) });
      b = Buffer.from(DiscoveryResponse.encode(msg).finish());
    }
    this.#memo.set(key, b);
    return b;
  }
}

interface FloorCall {
  write(b: Buffer): boolean;
}

interface FloorState {
  readonly key: string;
  readonly resources: Resources;
}

function startFloor(server: grpc.Server, protocol: Protocol, pods: number, apps: number, rounds: number): (round: number, to: ChangeKind) => void {
  const enc = new FloorEncoder(protocol);
  const base: FloorState = { key: "base", resources: byType(buildGatewayResources(gatewayModel(pods, apps))) };
  const all = (s: FloorState, typeUrl: string): BuiltResource[] => [...(s.resources.get(typeUrl)?.values() ?? [])];
  let state = base;
  const calls = new Set<FloorCall>();

  /** The endpoints a request newly names (memo key: a fingerprint of the names, enough for this bench's scripted lists). */
  const endpoints = (s: FloorState, names: readonly string[]): Buffer | undefined => {
    const eds = s.resources.get(TYPE_URLS.endpoints);
    const found = names.flatMap((n) => eds?.get(n) ?? []);
    if (found.length === 0) return undefined;
    return enc.response(`${s.key} eds ${names.length} ${names[0]} ${names.at(-1)}`, TYPE_URLS.endpoints, found);
  };

  const onRequest = (call: FloorCall, seen: Set<string>, eds: { names: ReadonlySet<string> }, req: DeltaDiscoveryRequest | DiscoveryRequest): void => {
    const typeUrl = req.typeUrl;
    if (typeUrl !== TYPE_URLS.endpoints) {
      if (seen.has(typeUrl)) return; // an ACK
      seen.add(typeUrl);
      call.write(enc.response(`${state.key} ${typeUrl} all`, typeUrl, all(state, typeUrl)));
      return;
    }
    let names: readonly string[];
    if ("resourceNamesSubscribe" in req) names = req.resourceNamesSubscribe;
    else {
      const list = req.resourceNames;
      if (list.length === eds.names.size && list.every((n) => eds.names.has(n))) return; // an ACK
      names = list.filter((n) => !eds.names.has(n));
      eds.names = new Set(list);
    }
    const b = endpoints(state, names);
    if (b) call.write(b);
  };

  const handler = (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest | DiscoveryRequest, Buffer>): void => {
    calls.add(call);
    const seen = new Set<string>();
    const eds = { names: new Set<string>() as ReadonlySet<string> };
    call.on("data", (req: DeltaDiscoveryRequest | DiscoveryRequest) => onRequest(call, seen, eds, req));
    call.on("error", () => calls.delete(call));
    call.on("cancelled", () => calls.delete(call));
    call.on("close", () => calls.delete(call));
  };

  const passThrough = (b: Buffer): Buffer => b;
  server.addService(
    {
      deltaAggregatedResources: {
        path: `${SERVICE}DeltaAggregatedResources`,
        requestStream: true,
        responseStream: true,
        requestDeserialize: (b: Buffer) => DeltaDiscoveryRequest.decode(b),
        requestSerialize: (r: DeltaDiscoveryRequest) => Buffer.from(DeltaDiscoveryRequest.encode(r).finish()),
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
      streamAggregatedResources: {
        path: `${SERVICE}StreamAggregatedResources`,
        requestStream: true,
        responseStream: true,
        requestDeserialize: (b: Buffer) => DiscoveryRequest.decode(b),
        requestSerialize: (r: DiscoveryRequest) => Buffer.from(DiscoveryRequest.encode(r).finish()),
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
    },
    { deltaAggregatedResources: handler, streamAggregatedResources: handler },
  );

  /**
   * What ours sends for a change, in its order. The route table has one
   * route per app and names no pod, so a pod of an existing app never
   * changes it: add → CDS (then EDS when asked); remove → EDS, CDS (state of
   * the world: an EDS response without the name, then the cluster list).
   */
  const pushes = (round: number, to: ChangeKind, next: FloorState): Buffer[] => {
    const pod = changedPod(round);
    if (protocol === "delta") {
      if (to === "remove") return [enc.response(`eds -${pod}`, TYPE_URLS.endpoints, [], [pod]), enc.response(`cds -${pod}`, TYPE_URLS.cluster, [], [pod])];
      const cluster = next.resources.get(TYPE_URLS.cluster)?.get(pod);
      return [enc.response(`cds +${pod}`, TYPE_URLS.cluster, cluster ? [cluster] : [])];
    }
    const clusters = enc.response(`${next.key} ${TYPE_URLS.cluster} all`, TYPE_URLS.cluster, all(next, TYPE_URLS.cluster));
    if (to === "add") return [clusters];
    return [enc.response("eds empty", TYPE_URLS.endpoints, []), clusters];
  };
  // Everything encoded before any measurement.
  const prepared = new Map<string, { state: FloorState; responses: Buffer[] }>();
  for (let round = 0; round < rounds; round++) {
    const added: FloorState = { key: `add${round}`, resources: byType(buildGatewayResources(gatewayModel(pods, apps, round))) };
    prepared.set(`${round} add`, { state: added, responses: pushes(round, "add", added) });
    endpoints(added, [changedPod(round)]);
    prepared.set(`${round} remove`, { state: base, responses: pushes(round, "remove", base) });
  }
  return (round, to) => {
    const p = prepared.get(`${round} ${to}`);
    if (!p) throw new Error(`floor: change ${round} ${to} was not prepared`);
    state = p.state;
    for (const call of calls) for (const b of p.responses) call.write(b);
  };
}

// ---- process -------------------------------------------------------------

let server: grpc.Server | undefined;
let serverKind: ServerKind = "ours";
let change: ((round: number, to: ChangeKind) => void) | undefined;
let cpuAtChange = process.cpuUsage();

function send(message: object): void {
  process.send?.(message);
}

async function init(m: Extract<ParentMessage, { type: "init" }>): Promise<void> {
  const s = new grpc.Server();
  server = s;
  serverKind = m.kind;
  change = m.kind === "ours" ? startOurs(s, m.pods, m.apps) : startFloor(s, m.protocol, m.pods, m.apps, m.rounds);
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  send({ type: "ready", port });
}

let snapshots = 0;

/** RSS by kind of mapping (/proc/self/smaps): the malloc heap, anonymous mappings by size, files. */
function mappings(): string {
  let text: string;
  try {
    text = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return "no smaps";
  }
  const kb = new Map<string, number>();
  let kind = "";
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const size = (parseInt(head[2] ?? "0", 16) - parseInt(head[1] ?? "0", 16)) / 2 ** 20;
      const name = head[3] ?? "";
      kind = name.startsWith("[") ? name : name !== "" ? "files" : size >= 60 ? "anon>=60MB" : size >= 1 ? "anon 1-60MB" : "anon<1MB";
    } else if (line.startsWith("Rss:")) kb.set(kind, (kb.get(kind) ?? 0) + Number(line.split(/\s+/)[1]));
  }
  return [...kb].map(([k, v]) => `${k} ${Math.round(v / 1024)} MB`).join(", ");
}

function memory(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  const m = process.memoryUsage();
  // XDS_BENCH_HEAP_SNAPSHOT=<dir>: a heap snapshot at each memory figure, to attribute the bytes.
  const dir = process.env.XDS_BENCH_HEAP_SNAPSHOT;
  if (process.env.XDS_BENCH_MEMORY_DETAIL !== undefined) {
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, Math.round(x.space_size / 2 ** 20)]));
    const h = getHeapStatistics();
    process.stderr.write(`${serverKind} memory: ${mappings()}; rss ${Math.round(m.rss / 2 ** 20)} MB, spaces (MB) ${JSON.stringify(spaces)}, malloced ${Math.round(h.malloced_memory / 2 ** 20)} MB (peak ${Math.round(h.peak_malloced_memory / 2 ** 20)})\n`);
  }
  if (dir !== undefined) writeHeapSnapshot(`${dir}/xds-${serverKind}-${process.pid}-${++snapshots}.heapsnapshot`);
  send({ type: "memory", rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external });
}

/**
 * XDS_BENCH_CHANGE_PROF=<dir>: a CPU profile of the changes only (from the
 * first change to stop), without the first sync that a whole-process
 * profile (XDS_BENCH_CPU_PROF) is mostly made of.
 */
let changeProfile: Session | undefined;

function profileChanges(): void {
  if (changeProfile || process.env.XDS_BENCH_CHANGE_PROF === undefined) return;
  const session = new Session();
  session.connect();
  session.post("Profiler.enable", () => session.post("Profiler.start"));
  changeProfile = session;
}

function writeChangeProfile(): void {
  const session = changeProfile;
  const dir = process.env.XDS_BENCH_CHANGE_PROF;
  if (!session || dir === undefined) return;
  changeProfile = undefined;
  session.post("Profiler.stop", (err, r) => {
    if (!err) writeFileSync(`${dir}/xds-changes-${serverKind}-${process.pid}.cpuprofile`, JSON.stringify(r.profile));
    session.disconnect();
  });
}

function stop(): void {
  writeChangeProfile();
  server?.forceShutdown();
  if (process.connected) process.disconnect();
  setTimeout(() => process.exit(0), 100).unref();
}

process.on("message", (m: ParentMessage) => {
  if (m.type === "init") {
    init(m).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  } else if (m.type === "change") {
    profileChanges();
    cpuAtChange = process.cpuUsage();
    change?.(m.round, m.to);
  } else if (m.type === "cpu") {
    const d = process.cpuUsage(cpuAtChange);
    send({ type: "cpu", ms: (d.user + d.system) / 1000 });
  } else if (m.type === "memory") memory();
  else stop();
});
process.on("disconnect", () => stop());
