/**
 * AckReporter: on a replica that does not own the apps, sends the owner its
 * gateways' ACK state (per node group: the gateways connected here and the
 * pods every one of them ACKed), so a pod becomes routable for new tickets
 * only when every connected gateway of its group, on whichever replica, has
 * ACKed it. Checked every `everyMs` (on the Clock); sent when it changed, and
 * at least every `heartbeatMs` even when it did not, so the owner can tell a
 * replica that went away (it forgets one silent for a few heartbeats). A
 * report that did not reach the owner is sent again at the next check.
 */
import type { AckReport } from "@envoyproxy/protos/peer";
import type { Clock, Timer } from "../common/clock.js";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { AckSource } from "./ack-state.js";
import type { ReplicaMetrics } from "./metrics.js";
import { OneInFlight } from "./one-in-flight.js";

export interface AckReporterOptions {
  readonly source: AckSource;
  /** The peer addresses of the replicas that own apps now (never this one). */
  readonly owners: () => readonly string[];
  readonly send: (address: string, report: AckReport) => Promise<void>;
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ReplicaMetrics;
  /** Default 250 ms. */
  readonly everyMs?: number;
  /** Default 1 s. */
  readonly heartbeatMs?: number;
}

export class AckReporter implements Runnable {
  readonly name = "peer-acks";
  readonly stop: () => Promise<void>;
  readonly #o: AckReporterOptions;
  /** Per owner: what it last took, and when. */
  readonly #sent = new Map<string, { key: string; at: number }>();
  readonly #inFlight = new OneInFlight<string>();
  #timer: Timer | undefined;

  constructor(options: AckReporterOptions) {
    this.#o = options;
    this.stop = once(() => this.#stop());
  }

  start(): Promise<void> {
    this.#timer ??= this.#o.clock.setInterval(() => void this.report(), this.#o.everyMs ?? 250);
    return Promise.resolve();
  }

  /** One check: sends to each owner that has not taken the current state (or not for a heartbeat). Resolves when those sends settled. */
  async report(): Promise<void> {
    const owners = this.#o.owners();
    if (owners.length === 0) return;
    const groups = this.#o.source.ackState().map((g) => ({ group: g.group, gateways: [...g.gateways], ackedPods: [...g.ackedPods] }));
    const key = JSON.stringify(groups);
    const now = this.#o.clock.now();
    const sends: Promise<void>[] = [];
    for (const address of owners) {
      const last = this.#sent.get(address);
      if (this.#inFlight.has(address) || (last !== undefined && last.key === key && now - last.at < (this.#o.heartbeatMs ?? 1_000))) continue;
      sends.push(this.#send(address, { replica: this.#o.identity, groups }, key, now));
    }
    await Promise.all(sends);
  }

  #send(address: string, report: AckReport, key: string, at: number): Promise<void> {
    const sent = this.#o
      .send(address, report)
      .then(
        () => {
          this.#sent.set(address, { key, at });
          this.#o.metrics.batchesSent.inc({ kind: "acks" });
        },
        (err: unknown) => {
          this.#sent.delete(address);
          this.#o.metrics.batchesFailed.inc({ kind: "acks" });
          this.#o.logger.debug("peer: the ACK report did not reach the owner; sent again at the next check", { owner: address, error: errorMessage(err) });
        },
      );
    return this.#inFlight.track(address, sent);
  }

  async #stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#inFlight.drain();
  }
}
