/**
 * The xDS bench's load client, run as a separate process by bench/xds.ts
 * (`node --import tsx bench/xds-load-client.ts`, with an IPC channel). It
 * opens N delta ADS streams spread over C connections and behaves as Envoy
 * does on each: LDS and CDS wildcard, RDS `ticketplane-routes`, EDS for every
 * cluster it is sent; it ACKs every response.
 *
 * IPC, parent → child: {type:"start", address, streams, connections, waitSync}
 *   {type:"expect", id, items:[{typeUrl,name}]}, {type:"stop"}.
 * child → parent: {type:"synced"} once every stream has its routes and all
 *   its subscribed endpoints (when waitSync), {type:"armed", id},
 *   {type:"done", id, bytes:number[]} once every stream has received every
 *   expected item (as a resource or a removal) and ACKed it; bytes are the
 *   encoded sizes of the responses each stream received since "expect".
 * The child exits on "stop" or when its parent goes away.
 */
import * as grpc from "@grpc/grpc-js";
import { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { TYPE_URLS } from "../src/xds/resources/type-urls.js";

const PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";
const ROUTES = "ticketplane-routes";

interface Sized {
  readonly size: number;
  readonly msg: DeltaDiscoveryResponse;
}

type ParentMessage =
  | { type: "start"; address: string; streams: number; connections: number; waitSync: boolean }
  | { type: "expect"; id: number; items: { typeUrl: string; name: string }[] }
  | { type: "stop" };

interface Expectation {
  readonly id: number;
  readonly keys: readonly string[];
  done: number;
}

class Stream {
  readonly #call: grpc.ClientDuplexStream<DeltaDiscoveryRequest, Sized>;
  readonly #eds = new Set<string>();
  readonly #edsKnown = new Set<string>();
  #gotRoutes = false;
  #synced = false;
  pending: Set<string> | undefined;
  bytes = 0;

  constructor(
    client: grpc.Client,
    index: number,
    private readonly onSynced: () => void,
    private readonly onExpectationMet: () => void,
  ) {
    this.#call = client.makeBidiStreamRequest(
      PATH,
      (req: DeltaDiscoveryRequest) => Buffer.from(DeltaDiscoveryRequest.encode(req).finish()),
      (buf: Buffer): Sized => ({ size: buf.length, msg: DeltaDiscoveryResponse.decode(buf) }),
    );
    this.#call.on("data", (r: Sized) => this.#onResponse(r));
    this.#call.on("error", (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) process.stderr.write(`load client stream ${index}: ${err.message}\n`);
    });
    const node = { id: `bench-gw-${index}`, cluster: "default" };
    this.#write({ typeUrl: TYPE_URLS.listener, node: Node.fromPartial(node) }, []);
    this.#write({ typeUrl: TYPE_URLS.cluster }, []);
    this.#write({ typeUrl: TYPE_URLS.routes }, [ROUTES]);
  }

  cancel(): void {
    this.#call.cancel();
  }

  #write(head: Partial<DeltaDiscoveryRequest>, subscribe: string[], unsubscribe: string[] = []): void {
    this.#call.write(DeltaDiscoveryRequest.fromPartial({ ...head, resourceNamesSubscribe: subscribe, resourceNamesUnsubscribe: unsubscribe }));
  }

  #onResponse({ size, msg }: Sized): void {
    if (this.pending) this.bytes += size;
    this.#call.write(DeltaDiscoveryRequest.fromPartial({ typeUrl: msg.typeUrl, responseNonce: msg.nonce }));
    if (msg.typeUrl === TYPE_URLS.cluster) this.#followClusters(msg);
    if (msg.typeUrl === TYPE_URLS.endpoints) for (const r of msg.resources) this.#edsKnown.add(r.name);
    if (msg.typeUrl === TYPE_URLS.routes) this.#gotRoutes = true;
    if (this.pending && this.pending.size > 0) {
      for (const r of msg.resources) this.pending.delete(`${msg.typeUrl} ${r.name}`);
      for (const name of msg.removedResources) this.pending.delete(`${msg.typeUrl} ${name}`);
      if (this.pending.size === 0) this.onExpectationMet();
    }
    if (!this.#synced && this.#gotRoutes && this.#eds.size > 0 && this.#edsKnown.size >= this.#eds.size) {
      this.#synced = true;
      this.onSynced();
    }
  }

  /** As Envoy: subscribe to the endpoints of every new EDS cluster, unsubscribe from removed ones. */
  #followClusters(msg: DeltaDiscoveryResponse): void {
    const added = msg.resources.map((r) => r.name).filter((n) => n.split("/").length === 3 && !this.#eds.has(n));
    const removed = msg.removedResources.filter((n) => this.#eds.has(n));
    for (const n of added) this.#eds.add(n);
    for (const n of removed) {
      this.#eds.delete(n);
      this.#edsKnown.delete(n);
    }
    if (added.length > 0 || removed.length > 0) this.#write({ typeUrl: TYPE_URLS.endpoints }, added, removed);
  }
}

const clients: grpc.Client[] = [];
const streams: Stream[] = [];
let syncedCount = 0;
let waitSync = false;
let expectation: Expectation | undefined;

function send(message: object): void {
  process.send?.(message);
}

function start(address: string, count: number, connections: number): void {
  for (let c = 0; c < connections; c++) {
    // Distinct channel options → distinct subchannels → one HTTP/2 connection per client.
    clients.push(new grpc.Client(address, grpc.credentials.createInsecure(), { "bench.connection": c, "grpc.max_receive_message_length": 64 * 1024 * 1024 }));
  }
  for (let i = 0; i < count; i++) {
    streams.push(
      new Stream(
        clients[i % connections],
        i,
        () => {
          if (waitSync && ++syncedCount === count) send({ type: "synced" });
        },
        () => {
          if (expectation && ++expectation.done === count) {
            send({ type: "done", id: expectation.id, bytes: streams.map((s) => s.bytes) });
            for (const s of streams) s.pending = undefined;
          }
        },
      ),
    );
  }
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
  if (m.type === "start") {
    waitSync = m.waitSync;
    start(m.address, m.streams, m.connections);
  } else if (m.type === "expect") {
    const keys = m.items.map((i) => `${i.typeUrl} ${i.name}`);
    expectation = { id: m.id, keys, done: 0 };
    for (const s of streams) {
      s.pending = new Set(keys);
      s.bytes = 0;
    }
    send({ type: "armed", id: m.id });
  } else {
    stop();
  }
});
process.on("disconnect", () => stop());
