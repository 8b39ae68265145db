/**
 * A gateway on delta ADS through a client built from Envoy's own .proto
 * files: ACKs everything (except the types it is told to hold) and records
 * what it was sent, per type.
 */
import assert from "node:assert/strict";
import type * as grpc from "@grpc/grpc-js";
import { adsClient } from "../support/envoy-protos.js";

export interface WireResource {
  name: string;
  version: string;
}
export interface WireResponse {
  type_url: string;
  nonce: string;
  resources?: WireResource[];
  removed_resources?: string[];
}

/** One delta stream that ACKs everything (except the types it is told to hold) and records what it was sent, per type. */
export class DeltaGateway {
  readonly responses: WireResponse[] = [];
  /** Types whose responses are not ACKed until released, with the latest such response. */
  readonly #held = new Map<string, WireResponse | undefined>();
  readonly #client: grpc.Client;
  readonly #call: grpc.ClientDuplexStream<unknown, WireResponse>;
  readonly #ended: Promise<void>;
  readonly #waiters = new Set<() => void>();

  constructor(address: string, nodeId: string) {
    this.#client = adsClient(address);
    const method = (this.#client as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, WireResponse>>)["DeltaAggregatedResources"];
    this.#call = method.call(this.#client);
    this.#ended = new Promise((resolve) => this.#call.once("status", () => resolve()));
    this.#call.on("error", (err: grpc.ServiceError) => assert.equal(err.code, 1, `delta stream failed: ${err.message}`));
    this.#call.on("data", (res: WireResponse) => {
      this.responses.push(res);
      if (this.#held.has(res.type_url)) this.#held.set(res.type_url, res);
      else this.#call.write({ type_url: res.type_url, response_nonce: res.nonce });
      for (const wake of [...this.#waiters]) wake();
    });
    this.node = { id: nodeId, cluster: "default" };
  }

  readonly node: { id: string; cluster: string };

  subscribe(typeUrl: string, names: string[], initial: Record<string, string> = {}): void {
    this.#call.write({ node: this.node, type_url: typeUrl, resource_names_subscribe: names, initial_resource_versions: initial });
  }

  /** From now on, responses of `typeUrl` are received but not ACKed (a gateway still applying them). */
  hold(typeUrl: string): void {
    this.#held.set(typeUrl, undefined);
  }

  /** ACKs the latest held response of `typeUrl` and ACKs its responses again from now on. */
  release(typeUrl: string): void {
    const res = this.#held.get(typeUrl);
    this.#held.delete(typeUrl);
    if (res) this.#call.write({ type_url: res.type_url, response_nonce: res.nonce });
  }

  /** name → version of everything received for a type (later responses win, removals delete). */
  known(typeUrl: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.responses.filter((x) => x.type_url === typeUrl)) {
      for (const res of r.resources ?? []) out[res.name] = res.version;
      for (const name of r.removed_resources ?? []) delete out[name];
    }
    return out;
  }

  async waitFor(done: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`delta gateway: ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    this.#call.cancel();
    await this.#ended;
    this.#client.close();
  }
}

