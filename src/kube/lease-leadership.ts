/**
 * LeaseLeadership: the `Leadership` port on a coordination.k8s.io/v1 Lease,
 * as client-go's leaderelection package does it.
 *
 * - Every `retryPeriod` (with jitter while not leading) one attempt reads
 *   the Lease and, when it is absent, released (no holder) or expired, or
 *   ours, writes it with this replica as holder: create, or replace with the
 *   resourceVersion it read (409 → nothing written; the next attempt
 *   re-reads). Taking it from another holder bumps `leaseTransitions`.
 * - Expiry is judged as client-go judges it: by the time this replica last
 *   saw the record change plus the record's `leaseDurationSeconds`, never by
 *   the timestamps in it, so clock skew between nodes does not matter.
 * - While leading, the lease is renewed every `retryPeriod`. If no renewal
 *   succeeds for `renewDeadline` (measured from the start of the last
 *   successful write), or an attempt finds another holder, this replica
 *   steps down: `lost` is aborted. Since renewDeadline < leaseDuration, a
 *   leader that cannot renew stops before anyone else may take over.
 * - A replica that stopped leading never leads again (the process exits:
 *   see RunnableManager); `stop` releases a held lease (no holder, 1 s
 *   duration) so a successor takes over at its next attempt.
 *
 * Every API call has a deadline (the retry period) on the Clock, so a
 * stalled server cannot hold an attempt past the renew deadline.
 */
import type { CoordinationV1Api, V1Lease, V1LeaseSpec, V1ObjectMeta } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { Registry } from "prom-client";
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { sharedCounter, sharedGauge } from "../common/metrics.js";
import { once, type Runnable } from "../common/runnable.js";
import type { Leadership } from "../runtime/ports.js";
import { withDeadline, type CallOptions } from "./call-deadline.js";
import { describeKubeError, isAlreadyExists, isConflict, isNotFound } from "./errors.js";

export interface LeaseTiming {
  /** How long a holder's claim lasts after its last renewal, as others observe it (client-go: 15 s). */
  readonly leaseDurationMs: number;
  /** The leader steps down when it could not renew for this long (client-go: 10 s). */
  readonly renewDeadlineMs: number;
  /** Time between attempts (client-go: 2 s). */
  readonly retryPeriodMs: number;
}

/** client-go's defaults (leaderelection.LeaderElectionConfig, as kube-controller-manager uses them). */
export const CLIENT_GO_TIMING: LeaseTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** client-go's JitterFactor for attempts while not leading: waits of retryPeriod × [1, 2.2). */
const ACQUIRE_JITTER = 1.2;

export interface LeaseLeadershipOptions {
  readonly coordination: CoordinationV1Api;
  readonly namespace: string;
  /** The Lease's name (e.g. "ticketplane"). */
  readonly lease: string;
  /** This replica's holder identity: `leaseIdentity(podName)`. */
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly timing?: Partial<LeaseTiming>;
  /** [0, 1) for the acquire jitter (default Math.random). */
  readonly random?: () => number;
  /**
   * This replica's peer API address (`podIP:peerPort`), written on the Lease
   * (annotation PEER_ADDRESS_ANNOTATION) while it holds it, so followers know
   * where to forward. Undefined until the peer port is bound.
   */
  readonly peerAddress?: () => string | undefined;
}

/** The Lease annotation carrying the holder's peer API address. */
export const PEER_ADDRESS_ANNOTATION = "ticketplane.dev/peer-address";

/** The holder as a follower last read it: who, and where its peer API is. */
export interface LeaseHolderPeer {
  readonly kind: "peer";
  readonly identity: string;
  readonly address: string;
}

/** What /api/config shows of the election. */
export interface LeadershipStatus {
  readonly lease: string;
  readonly identity: string;
  readonly leading: boolean;
  /** The holder last observed (undefined: none seen yet, or released). */
  readonly holder: string | undefined;
  /** `leaseTransitions` when this replica took the lease. */
  readonly term: number | undefined;
  readonly lastRenewedAt: number | undefined;
}

/** A holder identity unique to this process: the pod name (or hostname) and 8 random hex digits, as client-go's examples build it. */
export function leaseIdentity(base: string): string {
  const name = base.trim() === "" ? "ticketplane" : base.trim();
  return `${name.slice(0, 100)}_${randomBytes(4).toString("hex")}`;
}

type Attempt = { readonly kind: "held" } | { readonly kind: "taken"; readonly by: string } | { readonly kind: "failed"; readonly why: string };

export class LeaseLeadership implements Leadership, Runnable {
  readonly name = "leader-election";
  readonly identity: string;
  readonly elected: Promise<void>;
  readonly lost: AbortSignal;
  readonly stop: () => Promise<void>;
  readonly #o: LeaseLeadershipOptions;
  readonly #timing: LeaseTiming;
  readonly #lostController = new AbortController();
  readonly #metrics;
  #resolveElected: () => void = () => undefined;
  #leading = false;
  /** Stepped down or stopped: no more attempts, never leads again. */
  #ended = false;
  #started = false;
  #next: Timer | undefined;
  #deadline: Timer | undefined;
  #attempt: Promise<void> | undefined;
  /** A nudge came during an attempt: run the next one at once. */
  #nudged = false;
  /** The peer address became known during an attempt: the next attempt runs at once (announcePeer). */
  #peerChanged = false;
  /** The record as last seen (its text) and when this replica saw it change. */
  #observed: { key: string; at: number; durationMs: number } | undefined;
  #holder: string | undefined;
  #holderPeer: LeaseHolderPeer | undefined;
  #term: number | undefined;
  #lastRenewedAt: number | undefined;

  constructor(options: LeaseLeadershipOptions) {
    this.#o = options;
    this.identity = options.identity;
    this.#timing = { ...CLIENT_GO_TIMING, ...options.timing };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.#timing;
    if (!(renewDeadlineMs < leaseDurationMs && retryPeriodMs < renewDeadlineMs && retryPeriodMs > 0)) {
      throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `lease timing must satisfy 0 < retryPeriod < renewDeadline < leaseDuration (got ${retryPeriodMs} ms, ${renewDeadlineMs} ms, ${leaseDurationMs} ms)`, { lease: options.lease });
    }
    this.elected = new Promise((resolve) => (this.#resolveElected = resolve));
    this.lost = this.#lostController.signal;
    this.stop = once(() => this.#stop());
    this.#metrics = {
      leader: sharedGauge(options.registry, { name: "ticketplane_leader", help: "1 while this replica holds the leader Lease", labelNames: ["lease"] }),
      transitions: sharedCounter(options.registry, { name: "ticketplane_leader_transitions_total", help: "Leadership changes of this replica (acquired, lost, released)", labelNames: ["lease", "event"] }),
      failures: sharedCounter(options.registry, { name: "ticketplane_leader_lease_failures_total", help: "Lease reads and writes that failed (not counting 409: someone else wrote first)", labelNames: ["lease"] }),
    };
    this.#metrics.leader.set({ lease: this.#leaseName() }, 0);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Leadership.release: the same as stopping (the Lease is released; this replica never leads again). */
  release(): Promise<void> {
    return this.stop();
  }

  /** `leaseTransitions` of the Lease when this replica took it: a fencing term for writes (undefined before). */
  term(): number | undefined {
    return this.#term;
  }

  /** The holder last observed. */
  holder(): string | undefined {
    return this.#holder;
  }

  /**
   * Another replica holding the Lease as last read, with the peer address it
   * wrote; undefined when none is known: no holder, this replica holds it,
   * the holder wrote no address, or its claim has expired as this replica
   * measures it. Answers from memory (Check's path asks it).
   */
  holderPeer(): LeaseHolderPeer | undefined {
    const peer = this.#holderPeer;
    if (peer === undefined || this.#leading || peer.identity !== this.#holder) return undefined;
    const observed = this.#observed;
    return observed !== undefined && observed.at + observed.durationMs > this.#o.clock.now() ? peer : undefined;
  }

  status(): LeadershipStatus {
    return { lease: this.#leaseName(), identity: this.identity, leading: this.#leading, holder: this.#holder, term: this.#term, lastRenewedAt: this.#lastRenewedAt };
  }

  /** Starts campaigning and resolves at once; `elected` resolves when this replica leads. */
  start(): Promise<void> {
    if (this.#started || this.#ended) return Promise.resolve();
    this.#started = true;
    this.#o.logger.info("campaigning for the leader Lease", { lease: this.#leaseName(), identity: this.identity, ...this.#timing });
    this.#run();
    return Promise.resolve();
  }

  /**
   * The Lease was seen released (or deleted): a replica that does not lead
   * tries to take it now instead of at its next retry. A leader, or a
   * replica that stopped, ignores it.
   */
  nudge(): void {
    if (!this.#started || this.#ended || this.#leading) return;
    if (!this.#attemptNow()) this.#nudged = true;
  }

  /**
   * The peer address (options.peerAddress) became known or changed: the
   * next attempt runs now rather than up to a retry period later, so a
   * leader's Lease names where followers forward to from its first moments
   * (a replica whose peer port is bound after it took the Lease wrote it
   * without one). An attempt in flight is followed by another at once.
   */
  announcePeer(): void {
    if (!this.#started || this.#ended) return;
    if (!this.#attemptNow()) this.#peerChanged = true;
  }

  /** Starts an attempt now instead of at the scheduled time; false when one is in flight (the caller marks why the next runs at once). */
  #attemptNow(): boolean {
    if (this.#attempt !== undefined) return false;
    this.#next?.cancel();
    this.#run();
    return true;
  }

  /** Resolves when no attempt is in flight (tests step the fake clock with it; stop waits for it). */
  async settled(): Promise<void> {
    while (this.#attempt !== undefined) await this.#attempt;
  }

  #leaseName(): string {
    return `${this.#o.namespace}/${this.#o.lease}`;
  }

  #run(): void {
    this.#next = undefined;
    if (this.#ended || this.#attempt !== undefined) return;
    const startedAt = this.#o.clock.now();
    this.#attempt = this.#tryAcquireOrRenew(startedAt)
      .then((outcome) => this.#after(outcome, startedAt))
      .finally(() => {
        this.#attempt = undefined;
        this.#schedule();
      });
  }

  #schedule(): void {
    if (this.#ended) return;
    const { retryPeriodMs } = this.#timing;
    const nudged = (this.#nudged && !this.#leading) || this.#peerChanged;
    this.#nudged = false;
    this.#peerChanged = false;
    const wait = nudged ? 0 : this.#leading ? retryPeriodMs : retryPeriodMs * (1 + ACQUIRE_JITTER * (this.#o.random ?? Math.random)());
    this.#next = this.#o.clock.setTimeout(() => this.#run(), wait);
  }

  #after(outcome: Attempt, startedAt: number): void {
    if (this.#ended) return;
    if (outcome.kind === "held") {
      this.#lastRenewedAt = startedAt;
      this.#deadline?.cancel();
      this.#deadline = this.#o.clock.setTimeout(() => this.#stepDown(`could not renew the lease within the renew deadline (${this.#timing.renewDeadlineMs} ms)`), startedAt + this.#timing.renewDeadlineMs - this.#o.clock.now());
      if (!this.#leading) this.#becomeLeader();
      return;
    }
    if (outcome.kind === "taken" && this.#leading) {
      this.#stepDown(`another replica holds the lease: ${outcome.by}`);
      return;
    }
    if (outcome.kind === "failed" && this.#leading) this.#o.logger.warn("lease renewal failed; retrying until the renew deadline", { lease: this.#leaseName(), reason: outcome.why });
  }

  #becomeLeader(): void {
    this.#leading = true;
    this.#metrics.leader.set({ lease: this.#leaseName() }, 1);
    this.#metrics.transitions.inc({ lease: this.#leaseName(), event: "acquired" });
    this.#o.logger.info("leading: this replica holds the Lease", { lease: this.#leaseName(), identity: this.identity, term: this.#term });
    this.#resolveElected();
  }

  #stepDown(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#next?.cancel();
    this.#deadline?.cancel();
    const wasLeading = this.#leading;
    this.#leading = false;
    this.#metrics.leader.set({ lease: this.#leaseName() }, 0);
    if (!wasLeading) return;
    this.#metrics.transitions.inc({ lease: this.#leaseName(), event: "lost" });
    this.#o.logger.error("stopped leading", { lease: this.#leaseName(), identity: this.identity, reason });
    this.#lostController.abort(new TicketplaneError(ERROR_CODES.CONFLICT, `leadership lost: ${reason}`, { lease: this.#leaseName(), identity: this.identity }));
  }

  async #tryAcquireOrRenew(now: number): Promise<Attempt> {
    const { coordination, namespace, lease: name } = this.#o;
    let current: V1Lease;
    try {
      current = await this.#call((options) => coordination.readNamespacedLease({ name, namespace }, options));
    } catch (err) {
      if (isNotFound(err)) return this.#create(now);
      return this.#failed("read", err);
    }
    const spec = current.spec ?? {};
    const seenAt = this.#o.clock.now();
    this.#observe(spec, seenAt);
    const holder = spec.holderIdentity ?? "";
    this.#holder = holder === "" ? undefined : holder;
    this.#notePeer(holder, current.metadata?.annotations?.[PEER_ADDRESS_ANNOTATION]);
    if (holder !== "" && holder !== this.identity) {
      const observed = this.#observed;
      if (observed !== undefined && observed.at + observed.durationMs > seenAt) return { kind: "taken", by: holder };
    }
    const next = this.#nextSpec(spec, now);
    try {
      const written = await this.#call((options) => coordination.replaceNamespacedLease({ name, namespace, body: { ...current, metadata: this.#withPeerAddress(current.metadata ?? {}), spec: next } }, options));
      this.#observe(written.spec ?? next, this.#o.clock.now());
      this.#holder = this.identity;
      this.#term = next.leaseTransitions ?? 0;
      return { kind: "held" };
    } catch (err) {
      if (isConflict(err)) {
        this.#o.logger.debug("the lease changed between read and write; re-reading at the next attempt", { lease: this.#leaseName() });
        return { kind: "failed", why: "409 Conflict: the lease changed under us" };
      }
      return this.#failed("replace", err);
    }
  }

  /** As client-go: renewing our own record keeps its acquireTime and transitions; taking it (expired, released) is a transition. */
  #nextSpec(spec: V1LeaseSpec, now: number): V1LeaseSpec {
    const ours = spec.holderIdentity === this.identity;
    const transitions = spec.leaseTransitions ?? 0;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#timing.leaseDurationMs / 1000),
      acquireTime: ours && spec.acquireTime !== undefined ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: ours ? transitions : transitions + 1,
    };
  }

  async #create(now: number): Promise<Attempt> {
    const { coordination, namespace, lease: name } = this.#o;
    const spec: V1LeaseSpec = { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(this.#timing.leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
    try {
      const created = await this.#call((options) => coordination.createNamespacedLease({ namespace, body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: this.#withPeerAddress({ name, namespace, labels: { "app.kubernetes.io/managed-by": "ticketplane" } }), spec } }, options));
      this.#observe(created.spec ?? spec, this.#o.clock.now());
      this.#holder = this.identity;
      this.#term = 0;
      return { kind: "held" };
    } catch (err) {
      if (isAlreadyExists(err)) return { kind: "failed", why: "another replica created the lease first" };
      return this.#failed("create", err);
    }
  }

  #failed(call: string, err: unknown): Attempt {
    this.#metrics.failures.inc({ lease: this.#leaseName() });
    const why = `${call}: ${describeKubeError(err)}`;
    if (!this.#leading) this.#o.logger.debug("lease attempt failed", { lease: this.#leaseName(), reason: why });
    return { kind: "failed", why };
  }

  #notePeer(holder: string, address: string | undefined): void {
    if (holder === "" || address === undefined || address === "") this.#holderPeer = undefined;
    else if (this.#holderPeer?.identity !== holder || this.#holderPeer.address !== address) this.#holderPeer = { kind: "peer", identity: holder, address };
  }

  /** The Lease's metadata as this replica writes it: with its peer address, once known. */
  #withPeerAddress(metadata: V1ObjectMeta): V1ObjectMeta {
    const address = this.#o.peerAddress?.();
    if (address === undefined) return metadata;
    return { ...metadata, annotations: { ...metadata.annotations, [PEER_ADDRESS_ANNOTATION]: address } };
  }

  /** Notes when the record last changed, as this replica saw it: the clock expiry is measured by. */
  #observe(spec: V1LeaseSpec, now: number): void {
    const key = JSON.stringify([spec.holderIdentity ?? "", String(spec.renewTime ?? ""), String(spec.acquireTime ?? ""), spec.leaseTransitions ?? 0, spec.leaseDurationSeconds ?? 0]);
    if (this.#observed?.key === key) return;
    const seconds = spec.leaseDurationSeconds;
    this.#observed = { key, at: now, durationMs: typeof seconds === "number" && seconds > 0 ? seconds * 1000 : this.#timing.leaseDurationMs };
  }

  #call<T>(call: (options: CallOptions) => Promise<T>): Promise<T> {
    return withDeadline(this.#o.clock, this.#timing.retryPeriodMs, call);
  }

  async #stop(): Promise<void> {
    const wasLeading = this.#leading && !this.#ended;
    this.#ended = true;
    this.#next?.cancel();
    this.#deadline?.cancel();
    await this.settled();
    // An attempt that finished after `ended` was set did not make us leader (#after ignores it), but it may have written the lease.
    if (wasLeading || this.#holder === this.identity) await this.#release();
    if (this.#leading || wasLeading) {
      this.#leading = false;
      this.#metrics.leader.set({ lease: this.#leaseName() }, 0);
      this.#lostController.abort(new TicketplaneError(ERROR_CODES.UNAVAILABLE, "leadership released: this replica is stopping", { lease: this.#leaseName() }));
    }
  }

  /** Clears the holder (client-go's ReleaseOnCancel) so a successor need not wait for the lease to expire. Failures are logged: the lease then simply expires. */
  async #release(): Promise<void> {
    const { coordination, namespace, lease: name, clock } = this.#o;
    try {
      const current = await this.#call((options) => coordination.readNamespacedLease({ name, namespace }, options));
      if (current.spec?.holderIdentity !== this.identity) return;
      const now = microTime(clock.now());
      await this.#call((options) => coordination.replaceNamespacedLease({ name, namespace, body: { ...current, spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now } } }, options));
      this.#holder = undefined;
      this.#metrics.transitions.inc({ lease: this.#leaseName(), event: "released" });
      this.#o.logger.info("released the leader Lease", { lease: this.#leaseName(), identity: this.identity });
    } catch (err) {
      this.#o.logger.warn("could not release the leader Lease; it expires on its own", { lease: this.#leaseName(), error: describeKubeError(err) });
    }
  }
}

/** A MicroTime as client-node's serializer writes it (a Date, sent as RFC 3339 with fractional seconds). */
function microTime(ms: number): Date {
  return new Date(ms);
}
