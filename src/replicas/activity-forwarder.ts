/**
 * ActivityForwarder: the `ActivityRecorder` Check and the access-log
 * service use on every replica. Each call is applied to this replica's
 * ticket core (cheap, and what a follower's mirror reads) and, when another
 * replica owns the app, queued for that owner, so idle release and scale-in
 * there see this replica's traffic.
 *
 * Batches: every `flushEveryMs` (on the Clock), or as soon as `maxBatch`
 * entries wait, one unary call per owner, at most one in flight per owner.
 * Touches of one ticket within a batch count once. Bounded: at most
 * `maxPending` entries wait; beyond that the oldest are dropped and counted
 * (`ticketplane_peer_activity_dropped_total`), as are the entries of a batch
 * the owner did not take. Entries for an app whose owner is unknown wait
 * (within the bound) until it is known. A close names no app: it goes to the
 * owner of the app the connection opened on here, else to the owner of the
 * last app this replica forwarded for (today one Lease owns every app).
 */
import type { ActivityBatch, ActivityEntry } from "@envoyproxy/protos/peer";
import type { Clock, Timer } from "../common/clock.js";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { AppKey } from "../config/app-spec.js";
import type { AppOwnership } from "../runtime/ports.js";
import type { ActivityRecorder } from "../tickets/ports.js";
import type { ReplicaMetrics } from "./metrics.js";
import { OneInFlight } from "./one-in-flight.js";

export interface ActivityForwarderOptions {
  readonly local: ActivityRecorder;
  readonly ownership: AppOwnership;
  /** Sends one batch to the owner at `address`; rejects when the owner did not take it. */
  readonly send: (address: string, batch: ActivityBatch) => Promise<void>;
  /** This replica's name, carried in each batch. */
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ReplicaMetrics;
  /** Default 250 ms. */
  readonly flushEveryMs?: number;
  /** Default 500 entries. */
  readonly maxBatch?: number;
  /** Default 20 000 entries. */
  readonly maxPending?: number;
  /** Open connections remembered (connection → app) for routing their close; default 100 000. */
  readonly maxConnections?: number;
}

export class ActivityForwarder implements ActivityRecorder, Runnable {
  readonly name = "peer-activity";
  readonly stop: () => Promise<void>;
  readonly #o: ActivityForwarderOptions;
  readonly #flushEveryMs: number;
  readonly #maxBatch: number;
  readonly #maxPending: number;
  readonly #maxConnections: number;
  #pending: ActivityEntry[] = [];
  /** The touches already pending, per app: one per ticket per batch. Keyed by the strings Check already holds, so no key is built per touch. */
  #touched = new Map<AppKey, Set<string>>();
  readonly #connections = new Map<string, AppKey>();
  readonly #inFlight = new OneInFlight<string>();
  #dropped = 0;
  #lastApp: AppKey | undefined;
  #timer: Timer | undefined;

  constructor(options: ActivityForwarderOptions) {
    this.#o = options;
    this.#flushEveryMs = options.flushEveryMs ?? 250;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxPending = options.maxPending ?? 20_000;
    this.#maxConnections = options.maxConnections ?? 100_000;
    this.stop = once(() => this.#stop());
  }

  start(): Promise<void> {
    this.#timer ??= this.#o.clock.setInterval(() => void this.flush(), this.#flushEveryMs);
    return Promise.resolve();
  }

  touch(app: AppKey, ticketId: string): void {
    this.#o.local.touch(app, ticketId);
    if (this.#ownedHere(app)) return;
    let touched = this.#touched.get(app);
    if (touched === undefined) this.#touched.set(app, (touched = new Set()));
    if (touched.has(ticketId)) return;
    touched.add(ticketId);
    this.#enqueue({ kind: "touch", app, ticketId, connectionId: "" });
  }

  openConnection(app: AppKey, ticketId: string, connectionId: string): void {
    this.#o.local.openConnection(app, ticketId, connectionId);
    if (this.#ownedHere(app)) return;
    if (!this.#connections.has(connectionId)) {
      if (this.#connections.size >= this.#maxConnections) this.#connections.delete(this.#connections.keys().next().value as string);
      this.#connections.set(connectionId, app);
    }
    this.#enqueue({ kind: "open", app, ticketId, connectionId });
  }

  closeConnection(connectionId: string): void {
    this.#o.local.closeConnection(connectionId);
    const app = this.#connections.get(connectionId) ?? this.#lastApp;
    this.#connections.delete(connectionId);
    if (app === undefined || this.#ownedHere(app)) return;
    this.#enqueue({ kind: "close", app, ticketId: "", connectionId });
  }

  /** Entries waiting to be sent (tests, status). */
  get pending(): number {
    return this.#pending.length;
  }

  /** Sends what waits, one batch per owner. Resolves when those sends settled (tests step the fake clock with it). */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const byOwner = new Map<string, ActivityEntry[]>();
    const waiting: ActivityEntry[] = [];
    for (const e of this.#pending) {
      const owner = this.#o.ownership.ownerOf(e.app);
      if (owner.kind === "peer" && !this.#inFlight.has(owner.address)) byOwner.set(owner.address, [...(byOwner.get(owner.address) ?? []), e]);
      // Unknown owner, or a batch to it still in flight: keep for the next flush. Owned here now: already applied locally.
      else if (owner.kind !== "self") waiting.push(e);
    }
    this.#pending = waiting;
    this.#touched = new Map();
    for (const e of waiting) {
      if (e.kind !== "touch") continue;
      const touched = this.#touched.get(e.app);
      if (touched === undefined) this.#touched.set(e.app, new Set([e.ticketId]));
      else touched.add(e.ticketId);
    }
    await Promise.all([...byOwner].map(([address, entries]) => this.#send(address, entries)));
  }

  #ownedHere(app: AppKey): boolean {
    if (this.#o.ownership.ownerOf(app).kind === "self") return true;
    this.#lastApp = app;
    return false;
  }

  #enqueue(entry: ActivityEntry): void {
    if (this.#pending.length >= this.#maxPending) {
      this.#pending.shift();
      this.#drop(1);
    }
    this.#pending.push(entry);
    if (this.#pending.length >= this.#maxBatch) void this.flush();
  }

  #drop(n: number): void {
    this.#dropped += n;
    this.#o.metrics.activityDropped.inc(n);
  }

  #send(address: string, entries: ActivityEntry[]): Promise<void> {
    const dropped = this.#dropped;
    this.#dropped = 0;
    const sent = this.#o
      .send(address, { replica: this.#o.identity, entries, dropped })
      .then(
        () => void this.#o.metrics.batchesSent.inc({ kind: "activity" }),
        (err: unknown) => {
          this.#o.metrics.batchesFailed.inc({ kind: "activity" });
          this.#drop(entries.length);
          this.#o.logger.debug("peer: an activity batch did not reach the owner; its entries are dropped", { owner: address, entries: entries.length, error: errorMessage(err) });
        },
      );
    return this.#inFlight.track(address, sent);
  }

  async #stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    // What was seen goes out before the process goes: one last flush, then the sends in flight.
    await this.flush();
    await this.#inFlight.drain();
  }
}
