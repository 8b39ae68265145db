/**
 * The calling side of the peer API: one PeerChannel (a lean unary gRPC
 * client on node:http2) per owner address, kept while it is used (at most
 * `maxChannels`, the least recently used closed first), every call with the
 * shared credential and a deadline. Deadlines bound a network wait and are
 * not a rule of ours, so they run on wall-clock timers, not the Clock.
 * Calls fail fast when the owner does not listen (no wait for ready).
 */
import { PeerService, type AckReport, type ActivityBatch, type AdmitRequest, type AdmitResponse, type AppSignal } from "@envoyproxy/protos/peer";
import { status } from "@grpc/grpc-js";
import type { WakeCall } from "./metrics.js";
import { PeerCallError, PeerChannel } from "./peer-channel.js";
import { PEER_AUTH_HEADER } from "./peer-credential.js";

export interface PeerClientsOptions {
  /** The `authorization` value to send (the active key's bearer; read per call, so a rotation applies at once). */
  readonly bearer: () => string;
  /** Deadline of activity and ACK batches (default 1 s). */
  readonly batchDeadlineMs?: number;
  readonly maxChannels?: number;
}

/** A peer API method as the generated service describes it. */
interface Method<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

export class PeerClients {
  readonly #o: PeerClientsOptions;
  readonly #channels = new Map<string, PeerChannel>();

  constructor(options: PeerClientsOptions) {
    this.#o = options;
  }

  /** A forwarded admission; rejects with a PeerCallError (its gRPC `code`) when the owner did not answer. */
  admit(address: string, request: AdmitRequest, deadlineMs: number): Promise<AdmitResponse> {
    return this.#call(address, PeerService.admit, request, deadlineMs);
  }

  async activity(address: string, batch: ActivityBatch): Promise<void> {
    await this.#call(address, PeerService.activity, batch, this.#o.batchDeadlineMs ?? 1_000);
  }

  async reportAcks(address: string, report: AckReport): Promise<void> {
    await this.#call(address, PeerService.reportAcks, report, this.#o.batchDeadlineMs ?? 1_000);
  }

  /** A resolver's Wake or Serving for one app; rejects with a PeerCallError when the owner did not take it. */
  async signal(address: string, call: WakeCall, signal: AppSignal, deadlineMs: number): Promise<void> {
    await this.#call(address, call === "wake" ? PeerService.wake : PeerService.serving, signal, deadlineMs);
  }

  /** Starts connecting to `address` now, so the first forwarded admission does not pay for the connection inside its deadline. */
  warm(address: string): void {
    this.#channel(address).warm();
  }

  /** Closes every channel (calls in flight fail with CANCELLED). */
  close(): void {
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
  }

  async #call<Req, Res>(address: string, method: Method<Req, Res>, request: Req, deadlineMs: number): Promise<Res> {
    const answer = await this.#channel(address).call(method.path, method.requestSerialize(request), { [PEER_AUTH_HEADER]: this.#o.bearer() }, deadlineMs);
    try {
      return method.responseDeserialize(answer);
    } catch (err) {
      throw new PeerCallError(status.INTERNAL, `the answer of ${address} to ${method.path} does not decode: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #channel(address: string): PeerChannel {
    let channel = this.#channels.get(address);
    if (channel !== undefined) {
      this.#channels.delete(address);
      this.#channels.set(address, channel);
      return channel;
    }
    if (this.#channels.size >= (this.#o.maxChannels ?? 8)) {
      const [oldest, old] = this.#channels.entries().next().value as [string, PeerChannel];
      old.close();
      this.#channels.delete(oldest);
    }
    channel = new PeerChannel(address);
    this.#channels.set(address, channel);
    return channel;
  }
}
