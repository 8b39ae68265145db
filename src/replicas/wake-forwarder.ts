/**
 * WakeForwarder: the resolver's `wake` and `serving` on a replica that may
 * not own the app. Both always go to this replica's own signals first (the
 * reconciler's memory, which a follower keeps for the day it leads, and
 * KEDA's activity, which any replica's external scaler reports); where
 * another replica owns the app they also go to that owner over the peer API
 * (Wake, Serving), since only the owner's reconciler acts on them.
 *
 * Coalesced: the resolver calls `wake` for every request it holds, but at
 * most one call per app is in flight, sent at once on the first wake (or
 * when the owner changed), then again every `resendEveryMs` while the wake
 * lasts — the app's hold timeout from the last `wake`, the time its last
 * held request may still wait — so the owner's wake (which lasts a hold
 * timeout from the last one it got) never lapses under a held request.
 * `serving` ends the wake and is sent until the owner took it (at most
 * `servingForMs`). Owner unknown, unreachable, late or refusing: logged and
 * counted (`ticketplane_peer_wake_failed_total{reason}`), the entry kept and
 * tried again on the next interval or as soon as a new owner appears; the
 * resolver keeps holding (its hold timeout answers 504 as ever). Never
 * throws into the resolver.
 */
import type { AppSignal } from "@envoyproxy/protos/peer";
import type { Clock, Timer } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { AppKey } from "../config/app-spec.js";
import type { AppOwnership } from "../runtime/ports.js";
import { callFailureOf, describeCallFailure } from "./call-failure.js";
import type { ReplicaMetrics, WakeCall, WakeFailure } from "./metrics.js";
import { OneInFlight } from "./one-in-flight.js";

/** The two signals a resolver gives about an app (ResolverPorts.wake and .serving), as one replica applies them in-process. */
export interface ResolverSignals {
  /** A request for `app` is held: it wants its first pod (0 → 1). Idempotent and cheap. */
  wake(app: AppKey): void;
  /** The resolver's probe reached a pod of `app`: its route may point back at the pods. Idempotent. */
  serving(app: AppKey): void;
}

/** Wake calls re-sent this often while requests are held. */
export const DEFAULT_WAKE_RESEND_MS = 1_000;
/** Deadline of one Wake or Serving call (and never more than a quarter of the app's hold timeout). */
export const DEFAULT_WAKE_DEADLINE_MS = 1_000;

export interface WakeForwarderOptions {
  /** This replica's in-process signals (the reconciler, KEDA's wake requests). */
  readonly local: ResolverSignals;
  readonly ownership: AppOwnership;
  /** Sends one Wake or Serving to the owner at `address`; rejects when the owner did not take it. */
  readonly send: (address: string, call: WakeCall, signal: AppSignal, deadlineMs: number) => Promise<void>;
  /** This replica's name, carried in each call. */
  readonly identity: string;
  /** How long one wake lasts: the app's hold timeout. */
  readonly wakeForMs: (app: AppKey) => number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ReplicaMetrics;
  readonly resendEveryMs?: number;
  /** How often owners are looked at (a new owner gets the call at the next look); default 250 ms. */
  readonly checkEveryMs?: number;
  readonly deadlineMs?: number;
  /** A Serving the owner did not take is dropped after this long (default 60 s): the next wake or the owner's own view takes over. */
  readonly servingForMs?: number;
}

interface Entry {
  readonly call: WakeCall;
  /** Dropped at this time (clock ms). */
  until: number;
  /** Where the last attempt went ("" for an unknown owner), and when. */
  lastOwner?: string;
  lastAttemptAt?: number;
  /** The last attempt's failure (its reason), for logging a streak once. */
  failing?: WakeFailure;
}

export class WakeForwarder implements ResolverSignals, Runnable {
  readonly name = "peer-wake";
  readonly stop: () => Promise<void>;
  readonly #o: WakeForwarderOptions;
  readonly #resendEveryMs: number;
  readonly #entries = new Map<AppKey, Entry>();
  readonly #inFlight = new OneInFlight<AppKey>();
  #timer: Timer | undefined;

  constructor(options: WakeForwarderOptions) {
    this.#o = options;
    this.#resendEveryMs = options.resendEveryMs ?? DEFAULT_WAKE_RESEND_MS;
    this.stop = once(() => this.#stop());
  }

  start(): Promise<void> {
    this.#timer ??= this.#o.clock.setInterval(() => void this.resend(), this.#o.checkEveryMs ?? 250);
    return Promise.resolve();
  }

  wake(app: AppKey): void {
    this.#o.local.wake(app);
    if (this.#o.ownership.ownerOf(app).kind === "self") return void this.#entries.delete(app);
    const until = this.#o.clock.now() + this.#o.wakeForMs(app);
    const entry = this.#entries.get(app);
    if (entry?.call === "wake") {
      entry.until = until;
      return;
    }
    this.#entries.set(app, { call: "wake", until });
    void this.#attempt(app);
  }

  serving(app: AppKey): void {
    this.#o.local.serving(app);
    if (this.#o.ownership.ownerOf(app).kind === "self") return void this.#entries.delete(app);
    this.#entries.set(app, { call: "serving", until: this.#o.clock.now() + (this.#o.servingForMs ?? 60_000) });
    void this.#attempt(app);
  }

  /** Apps with a wake or serving still to send (tests, status). */
  pending(): ReadonlyMap<AppKey, WakeCall> {
    return new Map([...this.#entries].map(([app, e]) => [app, e.call]));
  }

  /**
   * One look at every entry: expired ones go, the others are sent where the
   * owner changed or the interval passed. Resolves when those sends settled
   * (tests step the fake clock with it).
   */
  async resend(): Promise<void> {
    const now = this.#o.clock.now();
    for (const [app, entry] of this.#entries) if (now >= entry.until) this.#entries.delete(app);
    await Promise.all([...this.#entries.keys()].map((app) => this.#attempt(app)));
  }

  /** Sends the app's entry unless a call for it is in flight, or it went to the same owner within the interval. */
  #attempt(app: AppKey): Promise<void> {
    const entry = this.#entries.get(app);
    const inFlight = this.#inFlight.get(app);
    if (entry === undefined || inFlight !== undefined) return inFlight ?? Promise.resolve();
    const owner = this.#o.ownership.ownerOf(app);
    const now = this.#o.clock.now();
    const address = owner.kind === "peer" ? owner.address : "";
    if (owner.kind !== "self" && entry.lastOwner === address && entry.lastAttemptAt !== undefined && now - entry.lastAttemptAt < this.#resendEveryMs) return Promise.resolve();
    if (owner.kind === "self") {
      // This replica took the app over since the signal: its own reconciler acts on it now.
      this.#o.local[entry.call](app);
      this.#entries.delete(app);
      return Promise.resolve();
    }
    entry.lastOwner = address;
    entry.lastAttemptAt = now;
    if (owner.kind === "unknown") {
      this.#failed(app, entry, "owner_unknown", owner.reason);
      return Promise.resolve();
    }
    return this.#inFlight.track(app, this.#send(app, entry, address), () => {
      // A signal that replaced this one while it was on its way goes now, not at the next look.
      const next = this.#entries.get(app);
      if (next !== undefined && next !== entry && next.lastAttemptAt === undefined) void this.#attempt(app);
    });
  }

  async #send(app: AppKey, entry: Entry, address: string): Promise<void> {
    const { call } = entry;
    this.#o.metrics.wakeSent.inc({ call });
    try {
      await this.#o.send(address, call, { replica: this.#o.identity, app }, this.#deadlineFor(app));
    } catch (err) {
      return this.#failed(app, entry, callFailureOf(err), `owner ${address}: ${describeCallFailure(err)}`);
    }
    if (entry.failing !== undefined) this.#o.logger.info("peer: the app's owner takes the resolver's signals again", { app, call, owner: address });
    entry.failing = undefined;
    // A Serving the owner took is done; a wake stays until its hold time passes (or serving replaces it).
    if (call === "serving" && this.#entries.get(app) === entry) this.#entries.delete(app);
  }

  #deadlineFor(app: AppKey): number {
    return Math.max(1, Math.min(this.#o.deadlineMs ?? DEFAULT_WAKE_DEADLINE_MS, Math.floor(this.#o.wakeForMs(app) / 4)));
  }

  #failed(app: AppKey, entry: Entry, reason: WakeFailure, why: string): void {
    this.#o.metrics.wakeFailed.inc({ call: entry.call, reason });
    // Once per streak at warn: an owner that stays away must not fill the log every second.
    const level = entry.failing === reason ? "debug" : "warn";
    entry.failing = reason;
    this.#o.logger[level]("peer: the resolver's signal did not reach the app's owner; held requests keep waiting, tried again", { app, call: entry.call, reason, error: why });
  }

  async #stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#inFlight.drain();
  }
}
