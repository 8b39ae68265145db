/**
 * EventRecorder: Kubernetes Events (events.k8s.io/v1, the API current
 * controllers use; `kubectl describe` and `kubectl get events` show them)
 * for scale decisions, invalid apps and the like.
 *
 * As client-go's tools/events recorder does:
 * - isomorphic events (same regarding and related object, type, reason,
 *   action and reporting controller) within `seriesWindowMs` (6 min) of the
 *   last one are one Event with a `series` (count, lastObservedTime), not a
 *   new object each: the first occurrence is created at once, repeats are
 *   counted in memory and written as one patch every `seriesFlushMs`
 *   (client-go waits for a 30-minute heartbeat; we patch sooner so an
 *   operator sees the count move). The note shown is the latest one.
 * - new Events are rate limited per regarding object by a token bucket
 *   (client-go's spam filter: burst 25, one more every 5 minutes); what the
 *   limit drops is counted, never queued without bound.
 * - `record` never throws and never waits: writes go through one queue (at
 *   most `maxPending`), 429/5xx/network failures are retried a few times
 *   with backoff (Retry-After honoured), and what still fails is logged
 *   and counted. A recorder that cannot reach the API server costs the
 *   caller nothing.
 */
import type { EventsV1Api, EventsV1Event, V1ObjectReference } from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import type { Registry } from "prom-client";
import type { Clock, Timer } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { sharedCounter } from "../common/metrics.js";
import { once, type Runnable } from "../common/runnable.js";
import { withDeadline, type CallOptions } from "./call-deadline.js";
import { describeKubeError, isAlreadyExists, isNotFound, isRetryable, retryAfterMs } from "./errors.js";

/** The object an Event is about. */
export interface EventObject {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly name: string;
  /** Namespaced objects: the Event is written in this namespace. */
  readonly namespace?: string;
  readonly uid?: string;
}

export interface EventInput {
  readonly regarding: EventObject;
  readonly related?: EventObject;
  readonly type: "Normal" | "Warning";
  /** Why, in UpperCamelCase ("ScaledUp", "InvalidSpec"); at most 128 characters. */
  readonly reason: string;
  /** What was done ("Scale", "Validate"); at most 128 characters. */
  readonly action: string;
  /** For a person; cut at 1 KiB. */
  readonly note: string;
}

export interface EventRecorderOptions {
  readonly events: EventsV1Api;
  /** e.g. "ticketplane.dev/controller". */
  readonly reportingController: string;
  /** This replica (its Lease identity or pod name). */
  readonly reportingInstance: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Where Events about cluster-scoped objects go (default "default"). */
  readonly defaultNamespace?: string;
  readonly burst?: number;
  readonly refillEveryMs?: number;
  readonly seriesWindowMs?: number;
  readonly seriesFlushMs?: number;
  readonly maxPending?: number;
  readonly maxTries?: number;
  readonly callTimeoutMs?: number;
}

/** One Event object this recorder wrote, and its series. */
interface Series {
  readonly name: string;
  readonly namespace: string;
  readonly input: EventInput;
  count: number;
  lastObservedAt: number;
  note: string;
  /** Repeats not yet written. */
  dirty: boolean;
  /** The create has been accepted: repeats may be patched. */
  created: boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

const DEFAULTS = { burst: 25, refillEveryMs: 300_000, seriesWindowMs: 360_000, seriesFlushMs: 30_000, maxPending: 1000, maxTries: 4, callTimeoutMs: 10_000 };
const MAX_SERIES = 4096;

export class EventRecorder implements Runnable {
  readonly name = "events";
  readonly stop: () => Promise<void>;
  readonly #o: EventRecorderOptions & typeof DEFAULTS;
  readonly #series = new Map<string, Series>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #queue: (() => Promise<void>)[] = [];
  readonly #metrics;
  #draining: Promise<void> | undefined;
  #flushTimer: Timer | undefined;
  #stopped = false;

  constructor(options: EventRecorderOptions) {
    this.#o = { ...DEFAULTS, ...options };
    this.stop = once(async () => {
      await this.flush();
      this.#stopped = true;
      this.#flushTimer?.cancel();
    });
    this.#metrics = {
      events: sharedCounter(options.registry, { name: "ticketplane_kube_events_total", help: "Kubernetes Events recorded, by outcome (created, aggregated into a series, dropped by the rate limit or a full queue, failed)", labelNames: ["outcome"] }),
    };
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Records an occurrence. Never throws, never waits: the write happens in the background. */
  record(input: EventInput): void {
    try {
      this.#record(input);
    } catch (err) {
      this.#o.logger.warn("could not record an Event", { reason: input.reason, error: describeKubeError(err) });
    }
  }

  /** Writes pending series counts now and resolves when every queued write is done (tests; stop). */
  async flush(): Promise<void> {
    this.#flushSeries();
    while (this.#draining !== undefined) await this.#draining;
  }

  #record(input: EventInput): void {
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    const key = seriesKey(input, this.#o.reportingController);
    const existing = this.#series.get(key);
    if (existing !== undefined && now - existing.lastObservedAt < this.#o.seriesWindowMs) {
      existing.count += 1;
      existing.lastObservedAt = now;
      existing.note = cut(input.note, 1024);
      existing.dirty = true;
      this.#metrics.events.inc({ outcome: "aggregated" });
      this.#flushTimer ??= this.#o.clock.setTimeout(() => {
        this.#flushTimer = undefined;
        this.#flushSeries();
      }, this.#o.seriesFlushMs);
      return;
    }
    if (!this.#take(input.regarding, now)) {
      this.#metrics.events.inc({ outcome: "rate_limited" });
      this.#o.logger.debug("Event dropped by the rate limit", { regarding: `${input.regarding.kind}/${input.regarding.name}`, reason: input.reason });
      return;
    }
    const series: Series = {
      name: `${cut(input.regarding.name, 200)}.${now.toString(16)}${randomBytes(3).toString("hex")}`,
      namespace: input.regarding.namespace ?? this.#o.defaultNamespace ?? "default",
      input,
      count: 1,
      lastObservedAt: now,
      note: cut(input.note, 1024),
      dirty: false,
      created: false,
    };
    this.#remember(key, series);
    this.#enqueue(() => this.#create(key, series));
  }

  /** The token bucket of the regarding object. */
  #take(regarding: EventObject, now: number): boolean {
    const key = `${regarding.kind}/${regarding.namespace ?? ""}/${regarding.name}`;
    const b = this.#buckets.get(key) ?? { tokens: this.#o.burst, at: now };
    const refilled = Math.floor((now - b.at) / this.#o.refillEveryMs);
    if (refilled > 0) {
      b.tokens = Math.min(this.#o.burst, b.tokens + refilled);
      b.at += refilled * this.#o.refillEveryMs;
    }
    if (b.tokens >= this.#o.burst) b.at = now;
    this.#buckets.set(key, b);
    if (this.#buckets.size > MAX_SERIES) this.#pruneBuckets(now);
    if (b.tokens <= 0) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets buckets that have refilled completely (pods come and go; an untouched object's bucket is as good as new). */
  #pruneBuckets(now: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + Math.floor((now - b.at) / this.#o.refillEveryMs) >= this.#o.burst) this.#buckets.delete(k);
  }

  #remember(key: string, series: Series): void {
    this.#series.set(key, series);
    if (this.#series.size <= MAX_SERIES) return;
    // Forget the series seen longest ago (a later repeat simply starts a new Event).
    const now = this.#o.clock.now();
    for (const [k, s] of this.#series) if (now - s.lastObservedAt >= this.#o.seriesWindowMs || this.#series.size > MAX_SERIES) this.#series.delete(k);
  }

  #flushSeries(): void {
    for (const [key, s] of this.#series) {
      if (s.dirty && s.created) {
        s.dirty = false;
        this.#enqueue(() => this.#patchSeries(key, s));
      }
    }
  }

  #enqueue(write: () => Promise<void>): void {
    if (this.#queue.length >= this.#o.maxPending) {
      this.#metrics.events.inc({ outcome: "dropped" });
      this.#o.logger.warn("Event queue full; dropping an Event write", { pending: this.#queue.length });
      return;
    }
    this.#queue.push(write);
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  async #drain(): Promise<void> {
    for (let write = this.#queue.shift(); write !== undefined; write = this.#queue.shift()) await write();
  }

  async #create(key: string, s: Series): Promise<void> {
    const { events } = this.#o;
    const body = this.#event(s);
    const ok = await this.#tries(`create Event ${s.namespace}/${s.name}`, async (o) => {
      try {
        await events.createNamespacedEvent({ namespace: s.namespace, body }, o);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    });
    if (ok) {
      s.created = true;
      this.#metrics.events.inc({ outcome: "created" });
      if (s.dirty) this.#flushTimer ??= this.#o.clock.setTimeout(() => ((this.#flushTimer = undefined), this.#flushSeries()), this.#o.seriesFlushMs);
    } else if (this.#series.get(key) === s) this.#series.delete(key);
  }

  async #patchSeries(key: string, s: Series): Promise<void> {
    const { events } = this.#o;
    const patch = { series: { count: s.count, lastObservedTime: new Date(s.lastObservedAt) }, note: s.note };
    let gone = false;
    await this.#tries(`update Event ${s.namespace}/${s.name}`, async (o) => {
      try {
        await events.patchNamespacedEvent({ name: s.name, namespace: s.namespace, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch, o));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        gone = true;
      }
    });
    // Deleted (or expired by the API server's event TTL): the next occurrence starts a new Event.
    if (gone && this.#series.get(key) === s) this.#series.delete(key);
  }

  /** Runs a write with retries on 429, 5xx and network failures. Returns whether it succeeded; failures are logged, never thrown. */
  async #tries(what: string, write: (options: CallOptions) => Promise<void>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await withDeadline(this.#o.clock, this.#o.callTimeoutMs, write);
        return true;
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.#o.maxTries || this.#stopped) {
          this.#metrics.events.inc({ outcome: "failed" });
          this.#o.logger.warn("could not write an Event", { event: what, attempts: attempt, error: describeKubeError(err) });
          return false;
        }
        await this.#sleep(retryAfterMs(err) ?? 500 * 2 ** (attempt - 1));
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#o.clock.setTimeout(resolve, ms));
  }

  #event(s: Series): EventsV1Event {
    const { input } = s;
    return {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: s.name, namespace: s.namespace },
      eventTime: new Date(s.lastObservedAt),
      reportingController: this.#o.reportingController,
      reportingInstance: cut(this.#o.reportingInstance, 128),
      action: cut(input.action, 128),
      reason: cut(input.reason, 128),
      type: input.type,
      note: s.note,
      regarding: reference(input.regarding),
      ...(input.related === undefined ? {} : { related: reference(input.related) }),
    };
  }
}

function reference(o: EventObject): V1ObjectReference {
  return { kind: o.kind, name: o.name, ...(o.apiVersion === undefined ? {} : { apiVersion: o.apiVersion }), ...(o.namespace === undefined ? {} : { namespace: o.namespace }), ...(o.uid === undefined ? {} : { uid: o.uid }) };
}

function seriesKey(input: EventInput, controller: string): string {
  const ref = (o: EventObject | undefined) => (o === undefined ? null : [o.kind, o.namespace ?? "", o.name, o.uid ?? ""]);
  return JSON.stringify([ref(input.regarding), ref(input.related), input.type, input.reason, input.action, controller]);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
