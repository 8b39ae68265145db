/**
 * The reconciler: a leader-only part that keeps every app's Deployments,
 * pod deletion costs, drain marks, status and Events in step with its
 * scaling policy. Per app key it observes (the ticket core's views and the
 * ports), plans (plan.ts, pure) and applies (apply.ts); the work queue
 * owns retries, requeues and dedup. Triggers: ticket core events (issue,
 * release, queue, pods: the inventory's changes arrive as these), `enqueue`
 * from the mode's adapters, the plan's own requeue times, and a periodic
 * resync of every app.
 *
 * It acts only while `Leadership.isLeader()`; when `lost` fires it drops its
 * queue at once and every write in flight checks again before the next one.
 */
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, errorMessage, toTicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import { once } from "../common/runnable.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { appKey } from "../config/app-spec.js";
import type { Leadership, ScaleViews } from "../runtime/ports.js";
import type { TicketViews } from "../tickets/ports.js";
import { specOf } from "../tickets/spec-of.js";
import type { Registry } from "prom-client";
import { applyPlan } from "./apply.js";
import { DecisionLog } from "./decision-log.js";
import { reconcileMetrics, type ReconcileMetrics } from "./metrics.js";
import { EMPTY_MEMORY, type AppMemory, type Observed, type ObservedPod, type ObservedWorkload } from "./observed.js";
import { afterScale, plan, type Action } from "./plan.js";
import type { MetricSource, ReconcilePorts } from "./ports.js";
import type { ScaleDecision } from "./status.js";
import { WorkQueue, type WorkResult } from "./work-queue.js";

export interface ReconcilerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly leadership: Leadership;
  readonly views: TicketViews;
  readonly ports: ReconcilePorts;
  /** The formula and hpa policies' figures; without it those apps report MetricUnavailable. */
  readonly metrics?: MetricSource;
  /** Every app is reconciled at least this often (default 30 s). */
  readonly resyncMs?: number;
  /** Backoff of the work queue (defaults: 500 ms doubling to 5 min, ±20 % jitter). */
  readonly backoff?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number; readonly random?: () => number };
}

export class Reconciler implements Runnable, ScaleViews {
  readonly name = "reconciler";
  readonly #o: ReconcilerOptions;
  readonly #queue: WorkQueue;
  readonly #metrics: ReconcileMetrics;
  readonly #memory = new Map<AppKey, AppMemory>();
  /** Per app: when the resolver last asked for a pod, and whether its probe found one answering since the route last went to it. */
  readonly #resolver = new Map<AppKey, { wokenAt?: number; served: boolean }>();
  readonly #decisions = new DecisionLog();
  #unsubscribe: (() => void) | undefined;
  #resync: Timer | undefined;
  #onLost: (() => void) | undefined;
  readonly stop: () => Promise<void>;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#metrics = reconcileMetrics(options.registry);
    this.#queue = new WorkQueue({
      clock: options.clock,
      process: (key) => this.#process(key),
      ...options.backoff,
      onRetry: (key, error, delayMs, failures) => options.logger.warn("reconcile failed; retrying", { app: key, error: errorMessage(error), delayMs, failures }),
    });
    this.stop = once(() => this.#stop());
  }

  /** Leader-only: starts reconciling every app; stops acting when the lead is lost. */
  start(_signal: AbortSignal): Promise<void> {
    const { leadership } = this.#o;
    this.#onLost = () => {
      this.#o.logger.warn("lost the lead: the reconciler stops acting");
      void this.#queue.stop();
    };
    if (leadership.lost.aborted) this.#onLost();
    else leadership.lost.addEventListener("abort", this.#onLost, { once: true });
    this.#unsubscribe = this.#o.views.subscribe((e) => {
      if (e.kind === "apps") this.enqueueAll();
      else this.enqueue(e.app);
    });
    this.#resync = this.#o.clock.setInterval(() => this.enqueueAll(), this.#o.resyncMs ?? 30_000);
    this.enqueueAll();
    return Promise.resolve();
  }

  /** Asks for a reconcile of `app` (the mode's adapters call it when a Deployment or its scale changes). */
  enqueue(app: AppKey): void {
    this.#queue.add(app);
    this.#metrics.queueDepth.set(this.#queue.depth);
  }

  enqueueAll(): void {
    for (const spec of this.#o.views.apps()) this.enqueue(appKey(spec.namespace, spec.name));
  }

  /**
   * The resolver holds a request for `app`: it wants a pod now (0 → 1), for
   * as long as the app's hold timeout. Cheap and idempotent: called for
   * every held request.
   */
  wake(app: AppKey): void {
    const r = this.#resolver.get(app);
    const first = r?.wokenAt === undefined;
    this.#resolver.set(app, { served: r?.served ?? false, wokenAt: this.#o.clock.now() });
    if (first) this.enqueue(app);
  }

  /** The resolver's probe found a pod of `app` answering: its route may point back at the pods. */
  serving(app: AppKey): void {
    this.#resolver.set(app, { served: true });
    this.enqueue(app);
  }

  /** Resolves once no reconcile is queued or running (for tests and shutdown). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** What the reconciler remembers of an app (for the admin API and tests). */
  memory(app: AppKey): AppMemory | undefined {
    return this.#memory.get(app);
  }

  /** The app's mode as its last status said (undefined before the first reconcile). */
  mode(app: AppKey): "Serve" | "Proxy" | undefined {
    return this.#memory.get(app)?.status?.mode;
  }

  /** The scale decisions written for `app`, newest last (bounded). */
  recentDecisions(app: AppKey): readonly ScaleDecision[] {
    return this.#decisions.recent(app);
  }

  async #stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#resync?.cancel();
    if (this.#onLost !== undefined) this.#o.leadership.lost.removeEventListener("abort", this.#onLost);
    await this.#queue.stop();
  }

  async #process(app: AppKey): Promise<WorkResult> {
    this.#metrics.queueDepth.set(this.#queue.depth);
    if (!this.#o.leadership.isLeader()) {
      this.#metrics.reconciles.inc({ result: "skipped" });
      return {};
    }
    const spec = specOf(this.#o.views, app);
    if (spec === undefined || spec.deployment === undefined) {
      this.#memory.delete(app);
      this.#decisions.forget(app);
      return {};
    }
    const started = this.#o.clock.now();
    try {
      const result = await this.#reconcile(app, spec);
      this.#metrics.reconciles.inc({ result: result.superseded ? "superseded" : "success" });
      return result.superseded ? { requeueAfterMs: 0 } : result.work;
    } catch (err) {
      this.#metrics.reconciles.inc({ result: "error" });
      throw err;
    } finally {
      this.#metrics.duration.observe((this.#o.clock.now() - started) / 1000);
    }
  }

  async #reconcile(app: AppKey, spec: AppSpec): Promise<{ work: WorkResult; superseded: boolean }> {
    const observed = await this.#observe(app, spec);
    let memory = this.#memory.get(app) ?? EMPTY_MEMORY;
    const p = plan(observed, memory);
    const log = this.#o.logger.child({ app });
    for (const a of p.actions) if (a.kind === "scale") log.info("scaling", { deployment: a.ref.deployment, from: a.from, to: a.to, reason: a.reason });
    const result = await applyPlan({ app, spec, ports: this.#o.ports, isLeader: () => this.#o.leadership.isLeader() }, p.actions);
    // Once the route went to the resolver, a pod must prove itself again before it points back.
    if (result.error === undefined && p.actions.some((a) => a.kind === "route" && a.mode === "Proxy")) this.#resolver.set(app, { served: false });
    if (result.conflicts > 0) this.#metrics.conflicts.inc(result.conflicts);
    if (result.error !== undefined) {
      // What was written stays remembered (a raise that went through is ours); the rest is planned again.
      const before = this.#memory.get(app) ?? EMPTY_MEMORY;
      this.#memory.set(app, this.#withScales(app, { ...before, workloads: p.memory.workloads }, result.scaled, observed.now));
      throw toTicketplaneError(result.error, ERROR_CODES.UNAVAILABLE, { app });
    }
    memory = this.#withScales(app, p.memory, result.scaled, observed.now);
    if (result.superseded) {
      // Replicas moved under the write. The plan's history stands; what it
      // assumed would be written (decision, Events, status) was not.
      const before = this.#memory.get(app) ?? EMPTY_MEMORY;
      const { lastScale: _planned, status: _unwritten, ...rest } = memory;
      this.#memory.set(app, { ...rest, warned: before.warned, ...(before.lastScale !== undefined ? { lastScale: before.lastScale } : {}), ...(before.status !== undefined ? { status: before.status } : {}) });
      log.info("replicas changed under a scale write; reconciling again");
      return { work: {}, superseded: true };
    }
    this.#memory.set(app, memory);
    return { work: p.requeueAfterMs !== undefined ? { requeueAfterMs: p.requeueAfterMs } : {}, superseded: false };
  }

  /** `memory` after the scale writes that went through (their changes, baselines and decisions); each decision is logged. */
  #withScales(app: AppKey, memory: AppMemory, scaled: readonly Extract<Action, { kind: "scale" }>[], now: number): AppMemory {
    let m = memory;
    for (const a of scaled) {
      m = afterScale(m, a, now);
      if (m.lastScale !== undefined) this.#decisions.record(app, m.lastScale);
      this.#metrics.scaleWrites.inc({ direction: a.to > a.from ? "up" : "down" });
    }
    return m;
  }

  async #observe(app: AppKey, spec: AppSpec): Promise<Observed> {
    const { views, ports, clock } = this.#o;
    const deployments = [{ role: "stable" as const, deployment: spec.deployment }, ...(spec.canary !== undefined ? [{ role: "canary" as const, deployment: spec.canary.deployment }] : [])];
    // Independent reads, in parallel: one round trip, not four.
    const reads = deployments.flatMap((d) => (d.deployment === undefined ? [] : [{ role: d.role, ref: { namespace: spec.namespace, deployment: d.deployment } }]));
    const routes = spec.minPods === 0 ? ports.routes : undefined;
    const [scales, costs, marks, route] = await Promise.all([Promise.all(reads.map((r) => ports.scale.read(r.ref))), ports.costs.read(app), ports.draining.read(app), routes?.read(app, spec)]);
    const workloads: ObservedWorkload[] = reads.map((r, i) => ({ ...r, scale: scales[i] }));
    const connections = new Map<string, number>();
    for (const t of views.tickets(app)) connections.set(t.pod, (connections.get(t.pod) ?? 0) + t.openConnections);
    const pods: ObservedPod[] = views.pods(app).map((p) => {
      const mark = marks.get(p.name);
      const cost = costs.get(p.name);
      return {
        name: p.name,
        role: p.canary ? "canary" : "stable",
        ready: p.ready,
        tickets: p.used,
        connections: connections.get(p.name) ?? 0,
        draining: p.draining,
        ...(p.idleSince !== undefined ? { idleSince: p.idleSince } : {}),
        ...(mark !== undefined ? { drainSince: mark.since, drainedBy: mark.by } : {}),
        ...(cost !== undefined ? { cost } : {}),
      };
    });
    const figures = views.figures(app);
    const metric = this.#o.metrics?.value(app, spec.scaling.metric);
    const now = clock.now();
    const r = this.#resolver.get(app);
    const woken = r?.wokenAt !== undefined && now - r.wokenAt < spec.resolverHoldTimeoutMs;
    return { app, spec, now, workloads, pods, queued: figures?.queued ?? 0, free: figures?.free ?? 0, ...(metric !== undefined ? { metric } : {}), ...(woken ? { woken } : {}), ...(route !== undefined ? { route, servingConfirmed: r?.served === true } : {}) };
  }
}
