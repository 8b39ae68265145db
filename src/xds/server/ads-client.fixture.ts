/**
 * Test fixture: an ADS client built from Envoy's own .proto files
 * (proto-loader, independent of our encoders), with a queue of responses.
 * Not used by src.
 */
import type * as grpc from "@grpc/grpc-js";
import { adsClient } from "../../../test/support/envoy-protos.js";

export interface WireAny {
  type_url: string;
  value: Buffer;
}
export interface SotwWireResponse {
  version_info?: string;
  resources?: WireAny[];
  type_url?: string;
  nonce?: string;
}
export interface DeltaWireResponse {
  system_version_info?: string;
  resources?: { name?: string; version?: string; resource?: WireAny }[];
  type_url?: string;
  removed_resources?: string[];
  nonce?: string;
}

type Duplex = grpc.ClientDuplexStream<object, unknown>;

export class TestAdsStream<Res> {
  readonly #call: Duplex;
  readonly #queue: Res[] = [];
  readonly #waiters: { resolve: (r: Res) => void; reject: (e: Error) => void }[] = [];
  #ended: Error | undefined;
  readonly status: Promise<grpc.StatusObject>;

  constructor(call: Duplex) {
    this.#call = call;
    call.on("data", (r: Res) => {
      const w = this.#waiters.shift();
      if (w) w.resolve(r);
      else this.#queue.push(r);
    });
    this.status = new Promise((resolve) => call.on("status", resolve));
    const fail = (e: Error): void => {
      this.#ended = e;
      for (const w of this.#waiters.splice(0)) w.reject(e);
    };
    call.on("error", (e: Error) => fail(e));
    call.on("end", () => fail(new Error("stream ended")));
  }

  send(request: object): void {
    this.#call.write(request);
  }

  /** The next response (already queued or the next to arrive). */
  next(): Promise<Res> {
    const r = this.#queue.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Responses received and not yet taken. */
  get queued(): readonly Res[] {
    return this.#queue;
  }

  /** Half-closes and waits for the server's status. */
  async close(): Promise<grpc.StatusObject> {
    this.#call.end();
    return this.status;
  }

  cancel(): void {
    this.#call.cancel();
  }

  /** Stops reading: what the server sends stays in the transport (HTTP/2 flow control then stops it), as a gateway that does not read. */
  pause(): void {
    this.#call.pause();
  }

  /** Reads again. */
  resume(): void {
    this.#call.resume();
  }
}

type AdsMethods = {
  StreamAggregatedResources(): Duplex;
  DeltaAggregatedResources(): Duplex;
};

/** An ADS client; `options` that differ give it a connection of its own (grpc-js shares one between clients with equal options). */
export function connectAds(address: string, options?: grpc.ChannelOptions): {
  client: grpc.Client;
  sotw(): TestAdsStream<SotwWireResponse>;
  delta(): TestAdsStream<DeltaWireResponse>;
} {
  const client = adsClient(address, options);
  const methods = client as unknown as AdsMethods;
  return {
    client,
    sotw: () => new TestAdsStream<SotwWireResponse>(methods.StreamAggregatedResources()),
    delta: () => new TestAdsStream<DeltaWireResponse>(methods.DeltaAggregatedResources()),
  };
}

// protobufjs encodes google.protobuf.Value only with camelCase oneof names (string_value is silently dropped).
export function node(id: string, cluster = "", group?: string): object {
  return group === undefined ? { id, cluster } : { id, cluster, metadata: { fields: { "ticketplane.group": { stringValue: group } } } };
}
