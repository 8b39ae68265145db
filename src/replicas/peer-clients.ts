/**
 * The calling side of the peer API: one grpc-js channel per owner address
 * (kept while it is used; at most `maxChannels`, the least recently used
 * closed first), every call with the shared credential and a deadline.
 * grpc-js deadlines are absolute wall-clock dates: they bound a network
 * wait and are not a rule of ours, so they come from Date.now(), not the Clock.
 * Calls fail fast when the owner does not listen (no wait for ready).
 */
import * as grpc from "@grpc/grpc-js";
import { PeerClient, type AckReport, type ActivityBatch, type AdmitRequest, type AdmitResponse, type AppSignal } from "@envoyproxy/protos/peer";
import type { WakeCall } from "./metrics.js";
import { PEER_AUTH_HEADER } from "./peer-credential.js";

export interface PeerClientsOptions {
  /** The `authorization` value to send (the active key's bearer; read per call, so a rotation applies at once). */
  readonly bearer: () => string;
  /** Deadline of activity and ACK batches (default 1 s). */
  readonly batchDeadlineMs?: number;
  readonly maxChannels?: number;
}

export class PeerClients {
  readonly #o: PeerClientsOptions;
  readonly #clients = new Map<string, PeerClient>();

  constructor(options: PeerClientsOptions) {
    this.#o = options;
  }

  /** A forwarded admission; rejects with the grpc-js ServiceError (its `code`) when the owner did not answer. */
  admit(address: string, request: AdmitRequest, deadlineMs: number): Promise<AdmitResponse> {
    return new Promise((resolve, reject) => {
      this.#client(address).admit(request, this.#metadata(), { deadline: Date.now() + deadlineMs }, (err, response) => (err === null ? resolve(response) : reject(err)));
    });
  }

  activity(address: string, batch: ActivityBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#client(address).activity(batch, this.#metadata(), { deadline: Date.now() + (this.#o.batchDeadlineMs ?? 1_000) }, (err) => (err === null ? resolve() : reject(err)));
    });
  }

  reportAcks(address: string, report: AckReport): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#client(address).reportAcks(report, this.#metadata(), { deadline: Date.now() + (this.#o.batchDeadlineMs ?? 1_000) }, (err) => (err === null ? resolve() : reject(err)));
    });
  }

  /** A resolver's Wake or Serving for one app; rejects with the grpc-js ServiceError when the owner did not take it. */
  signal(address: string, call: WakeCall, signal: AppSignal, deadlineMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = this.#client(address);
      const done = (err: grpc.ServiceError | null): void => (err === null ? resolve() : reject(err));
      const options = { deadline: Date.now() + deadlineMs };
      if (call === "wake") client.wake(signal, this.#metadata(), options, done);
      else client.serving(signal, this.#metadata(), options, done);
    });
  }

  /** Starts connecting to `address` now, so the first forwarded admission does not pay for the connection inside its deadline. */
  warm(address: string): void {
    this.#client(address).getChannel().getConnectivityState(true);
  }

  /** Closes every channel (calls in flight fail with CANCELLED). */
  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  #metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(PEER_AUTH_HEADER, this.#o.bearer());
    return metadata;
  }

  #client(address: string): PeerClient {
    let client = this.#clients.get(address);
    if (client !== undefined) {
      // Most recently used last.
      this.#clients.delete(address);
      this.#clients.set(address, client);
      return client;
    }
    if (this.#clients.size >= (this.#o.maxChannels ?? 8)) {
      const [oldest, old] = this.#clients.entries().next().value as [string, PeerClient];
      old.close();
      this.#clients.delete(oldest);
    }
    client = new PeerClient(address, grpc.credentials.createInsecure(), { "grpc.keepalive_time_ms": 30_000 });
    this.#clients.set(address, client);
    return client;
  }
}
