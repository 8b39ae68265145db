/**
 * The xDS bench's load client, run as a separate process by bench/xds.ts
 * (`node --import tsx bench/xds-load-client.ts`, with an IPC channel). It
 * opens N ADS streams (delta or state of the world) spread over C
 * connections and behaves as Envoy does on each: LDS and CDS wildcard, RDS
 * `ticketplane-routes`, EDS by name for every EDS cluster it holds (delta:
 * subscribes the new and unsubscribes the removed names; state of the world:
 * sends the whole name list whenever it changes, and with every EDS ACK). It
 * decodes every response in full and ACKs it. The same client runs against
 * the floor and against ticketplane, so both sides cost it the same work.
 *
 * IPC, parent → child:
 *   {type:"start", address, streams, connections, protocol}
 *   {type:"reconnect"}  cancels every stream and opens them again (an initial sync)
 *   {type:"expect", id, items:[{typeUrl,name,removed?}]}
 *   {type:"stop"}
 * child → parent:
 *   {type:"synced", generation} once every stream of that generation has
 *     its listener, routes and the endpoints of every EDS cluster it holds;
 *   {type:"armed", id};
 *   {type:"done", id, bytes:number[], clusterEndpointBytes:number[]} once
 *     every stream has received every expected item (a resource that names
 *     it, or its removal) and written its ACK; bytes are the encoded sizes
 *     of the responses each stream received since "expect" (all types, and
 *     CDS+EDS alone).
 * The child exits on "stop" or when its parent goes away.
 */
import * as grpc from "@grpc/grpc-js";
import {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { TYPE_URLS } from "../src/xds/resources/type-urls.js";

export type Protocol = "delta" | "sotw";

const SERVICE = "/envoy.service.discovery.v3.AggregatedDiscoveryService/";
const ROUTES = "ticketplane-routes";

export interface ExpectedItem {
  readonly typeUrl: string;
  readonly name: string;
  /** Expect the name's removal (delta: removed_resources; SotW CDS: absent from the list). */
  readonly removed?: boolean;
}

type ParentMessage =
  | { type: "start"; address: string; streams: number; connections: number; protocol: Protocol }
  | { type: "reconnect" }
  | { type: "expect"; id: number; items: ExpectedItem[] }
  | { type: "stop" };

interface Sized<T> {
  readonly size: number;
  readonly msg: T;
}

/** One decoded response, as both protocols present it to the Envoy-like logic. */
interface Got {
  readonly typeUrl: string;
  readonly size: number;
  readonly names: readonly string[];
  readonly removed: readonly string[];
}

interface Hooks {
  synced(stream: LoadStream): void;
  expectationMet(stream: LoadStream): void;
}

const isPodCluster = (name: string): boolean => name.split("/").length === 3;

/** What Envoy keeps per stream: the EDS clusters it holds and which of their endpoints arrived. */
abstract class LoadStream {
  protected readonly eds = new Set<string>();
  readonly #edsKnown = new Set<string>();
  #gotRoutes = false;
  #gotListener = false;
  #synced = false;
  pending: Set<string> | undefined;
  bytes = 0;
  clusterEndpointBytes = 0;

  constructor(
    readonly generation: number,
    private readonly hooks: Hooks,
  ) {}

  abstract cancel(): void;
  /** Subscribes to (delta) or re-lists (SotW) the endpoints after the cluster set changed. */
  protected abstract edsChanged(added: readonly string[], removed: readonly string[]): void;

  protected onResponse(got: Got): void {
    if (this.pending) this.#count(got);
    if (got.typeUrl === TYPE_URLS.cluster) this.#followClusters(got);
    else if (got.typeUrl === TYPE_URLS.endpoints) for (const n of got.names) this.#edsKnown.add(n);
    else if (got.typeUrl === TYPE_URLS.routes) this.#gotRoutes = true;
    else if (got.typeUrl === TYPE_URLS.listener) this.#gotListener = true;
    if (!this.#synced && this.#gotRoutes && this.#gotListener && this.eds.size > 0 && this.#edsKnown.size >= this.eds.size) {
      this.#synced = true;
      this.hooks.synced(this);
    }
  }

  /** Bytes since "expect", and the expected items this response brings. */
  #count(got: Got): void {
    this.bytes += got.size;
    if (got.typeUrl === TYPE_URLS.cluster || got.typeUrl === TYPE_URLS.endpoints) this.clusterEndpointBytes += got.size;
    const pending = this.pending;
    if (!pending || pending.size === 0) return;
    for (const n of got.names) pending.delete(`${got.typeUrl} ${n}`);
    for (const n of got.removed) pending.delete(`${got.typeUrl} - ${n}`);
    if (pending.size === 0) this.hooks.expectationMet(this);
  }

  /** As Envoy: the endpoints of every new EDS cluster are asked for, those of removed clusters dropped. */
  #followClusters(got: Got): void {
    const added = got.names.filter((n) => isPodCluster(n) && !this.eds.has(n));
    for (const n of added) this.eds.add(n);
    const removed = got.removed.filter((n) => this.eds.delete(n));
    for (const n of removed) this.#edsKnown.delete(n);
    if (added.length > 0 || removed.length > 0) this.edsChanged(added, removed);
  }
}

class DeltaLoadStream extends LoadStream {
  readonly #call: grpc.ClientDuplexStream<DeltaDiscoveryRequest, Sized<DeltaDiscoveryResponse>>;

  constructor(client: grpc.Client, index: number, generation: number, hooks: Hooks) {
    super(generation, hooks);
    this.#call = client.makeBidiStreamRequest(
      `${SERVICE}DeltaAggregatedResources`,
      (req: DeltaDiscoveryRequest) => Buffer.from(DeltaDiscoveryRequest.encode(req).finish()),
      (buf: Buffer): Sized<DeltaDiscoveryResponse> => ({ size: buf.length, msg: DeltaDiscoveryResponse.decode(buf) }),
    );
    this.#call.on("data", ({ size, msg }: Sized<DeltaDiscoveryResponse>) => {
      // ACK once decoded, as Envoy does once the update is applied.
      this.#write({ typeUrl: msg.typeUrl, responseNonce: msg.nonce });
      this.onResponse({ typeUrl: msg.typeUrl, size, names: msg.resources.map((r) => r.name), removed: msg.removedResources });
    });
    this.#call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) process.stderr.write(`load client stream ${index}: ${err.message}\n`);
    });
    this.#write({ typeUrl: TYPE_URLS.listener, node: Node.fromPartial({ id: `bench-gw-${generation}-${index}`, cluster: "default" }) });
    this.#write({ typeUrl: TYPE_URLS.cluster });
    this.#write({ typeUrl: TYPE_URLS.routes, resourceNamesSubscribe: [ROUTES] });
  }

  cancel(): void {
    this.#call.cancel();
  }

  protected edsChanged(added: readonly string[], removed: readonly string[]): void {
    this.#write({ typeUrl: TYPE_URLS.endpoints, resourceNamesSubscribe: [...added], resourceNamesUnsubscribe: [...removed] });
  }

  #write(req: Partial<DeltaDiscoveryRequest>): void {
    this.#call.write(DeltaDiscoveryRequest.fromPartial(req));
  }
}

class SotwLoadStream extends LoadStream {
  readonly #call: grpc.ClientDuplexStream<DiscoveryRequest, Sized<DiscoveryResponse>>;
  /** SotW CDS: the cluster list of the last response, to see what a new one drops. */
  #clusters = new Set<string>();
  readonly #versions = new Map<string, { version: string; nonce: string }>();

  constructor(client: grpc.Client, index: number, generation: number, hooks: Hooks) {
    super(generation, hooks);
    this.#call = client.makeBidiStreamRequest(
      `${SERVICE}StreamAggregatedResources`,
      (req: DiscoveryRequest) => Buffer.from(DiscoveryRequest.encode(req).finish()),
      (buf: Buffer): Sized<DiscoveryResponse> => ({ size: buf.length, msg: DiscoveryResponse.decode(buf) }),
    );
    this.#call.on("data", (r: Sized<DiscoveryResponse>) => this.onResponse(this.#take(r)));
    this.#call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) process.stderr.write(`load client stream ${index}: ${err.message}\n`);
    });
    this.#write({ typeUrl: TYPE_URLS.listener, node: Node.fromPartial({ id: `bench-gw-${generation}-${index}`, cluster: "default" }) });
    this.#write({ typeUrl: TYPE_URLS.cluster });
    this.#write({ typeUrl: TYPE_URLS.routes, resourceNames: [ROUTES] });
  }

  cancel(): void {
    this.#call.cancel();
  }

  #take({ size, msg }: Sized<DiscoveryResponse>): Got {
    const names: string[] = [];
    // Envoy decodes each Any to learn its name; the name is the message's first field in both types we list.
    for (const any of msg.resources) names.push(resourceName(any.value));
    this.#versions.set(msg.typeUrl, { version: msg.versionInfo, nonce: msg.nonce });
    let removed: string[] = [];
    if (msg.typeUrl === TYPE_URLS.cluster) {
      const now = new Set(names);
      removed = [...this.#clusters].filter((n) => !now.has(n));
      this.#clusters = now;
    }
    this.#ack(msg.typeUrl);
    return { typeUrl: msg.typeUrl, size, names, removed };
  }

  protected edsChanged(): void {
    this.#ack(TYPE_URLS.endpoints);
  }

  /** Every SotW request carries the type's whole subscription, the last version and nonce. */
  #ack(typeUrl: string): void {
    const last = this.#versions.get(typeUrl);
    const resourceNames = typeUrl === TYPE_URLS.endpoints ? [...this.eds] : typeUrl === TYPE_URLS.routes ? [ROUTES] : [];
    this.#write({ typeUrl, versionInfo: last?.version ?? "", responseNonce: last?.nonce ?? "", resourceNames });
  }

  #write(req: Partial<DiscoveryRequest>): void {
    this.#call.write(DiscoveryRequest.fromPartial(req));
  }
}

/** The `name` (field 1) of a Cluster, Listener or RouteConfiguration, or `cluster_name` (field 1) of a ClusterLoadAssignment. */
function resourceName(bytes: Uint8Array): string {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++] ?? 0;
      v += (b & 127) * 2 ** shift;
      if (b < 128) return v;
    }
  };
  while (i < bytes.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const len = varint();
      if (tag >>> 3 === 1) return Buffer.from(bytes.buffer, bytes.byteOffset + i, len).toString("utf8");
      i += len;
    } else return "";
  }
  return "";
}

// ---- process -------------------------------------------------------------

const clients: grpc.Client[] = [];
let streams: LoadStream[] = [];
let config: { streams: number; connections: number; protocol: Protocol } | undefined;
let generation = 0;
let syncedCount = 0;
let expectation: { id: number; done: number } | undefined;

function send(message: object): void {
  process.send?.(message);
}

const hooks: Hooks = {
  synced(stream) {
    if (stream.generation === generation && ++syncedCount === streams.length) send({ type: "synced", generation });
  },
  expectationMet() {
    if (expectation && ++expectation.done === streams.length) {
      send({ type: "done", id: expectation.id, bytes: streams.map((s) => s.bytes), clusterEndpointBytes: streams.map((s) => s.clusterEndpointBytes) });
      for (const s of streams) s.pending = undefined;
      expectation = undefined;
    }
  },
};

function open(): void {
  if (!config) return;
  generation += 1;
  syncedCount = 0;
  const { protocol, connections } = config;
  streams = Array.from({ length: config.streams }, (_, i) => {
    const client = clients[i % connections];
    if (!client) throw new Error("load client: no connection");
    return protocol === "delta" ? new DeltaLoadStream(client, i, generation, hooks) : new SotwLoadStream(client, i, generation, hooks);
  });
}

function start(m: Extract<ParentMessage, { type: "start" }>): void {
  config = m;
  for (let c = 0; c < m.connections; c++) {
    // Distinct channel options → distinct subchannels → one HTTP/2 connection per client.
    clients.push(new grpc.Client(m.address, grpc.credentials.createInsecure(), { "bench.connection": c, "grpc.max_receive_message_length": 256 * 1024 * 1024 }));
  }
  open();
}

let stopped = false;

function stop(): void {
  if (stopped) return;
  stopped = true;
  for (const s of streams) s.cancel();
  for (const c of clients) c.close();
  if (process.connected) process.disconnect();
  // Let cancellations flush, then leave even if a socket lingers.
  setTimeout(() => process.exit(0), 200).unref();
}

process.on("message", (m: ParentMessage) => {
  if (m.type === "start") start(m);
  else if (m.type === "reconnect") {
    for (const s of streams) s.cancel();
    open();
  } else if (m.type === "expect") {
    const keys = m.items.map((i) => (i.removed ? `${i.typeUrl} - ${i.name}` : `${i.typeUrl} ${i.name}`));
    expectation = { id: m.id, done: 0 };
    for (const s of streams) {
      s.pending = new Set(keys);
      s.bytes = 0;
      s.clusterEndpointBytes = 0;
    }
    send({ type: "armed", id: m.id });
  } else stop();
});
process.on("disconnect", () => stop());
