/**
 * The process driver: local mode's pods. One ProcessDeployment per app
 * (named by the app's `deployment`, its pods started with the app's `run`
 * command), the orphan guard that kills them all if ticketplane dies, and
 * the reconciler's ports over them — the same ports the Kubernetes
 * adapters implement, so the same Reconciler scales local pods:
 *
 *   ScaleTarget  the deployment's replicas, with a resourceVersion (409 when stale);
 *   PodCosts     pod-deletion-cost, read by the deployment when it picks the pods to stop;
 *   Draining     the drain mark, which the ticket core sees as `draining`;
 *   StatusSink   the latest status per app, kept for the admin API;
 *   EventSink    logged, and the latest ones kept per app.
 *
 * It feeds every change of pods to the ticket core (`setPods`).
 */
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import type { PodCommand } from "../config/local-file.js";
import type { AppEvent, ReconcilePorts, ScaleReading, WorkloadRef } from "../reconcile/ports.js";
import type { AppStatus } from "../reconcile/status.js";
import type { TicketInventory } from "../tickets/ports.js";
import { OrphanGuard } from "./orphan-guard.js";
import { ProcessDeployment, type LocalPodView, type PodTiming } from "./process-deployment.js";

/** Events kept per app for the admin API. */
export const KEPT_EVENTS = 50;

export interface ProcessDriverOptions {
  readonly apps: readonly AppSpec[];
  readonly run: Readonly<Record<AppKey, PodCommand>>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timing?: Partial<PodTiming>;
  /** Between the guard's SIGTERM and SIGKILL when ticketplane died (default 2 s). */
  readonly guardGraceMs?: number;
}

/** One app's pods, status and recent Events, for the admin API and tests. */
export interface LocalAppView {
  readonly app: AppKey;
  readonly deployment: string;
  readonly replicas: number;
  readonly pods: readonly LocalPodView[];
  readonly status?: AppStatus;
  readonly events: readonly (AppEvent & { readonly time: string })[];
}

export class ProcessDriver {
  readonly #o: ProcessDriverOptions;
  readonly #guard: OrphanGuard;
  readonly #deployments = new Map<AppKey, ProcessDeployment>();
  readonly #statuses = new Map<AppKey, AppStatus>();
  readonly #events = new Map<AppKey, (AppEvent & { readonly time: string })[]>();
  #target: Pick<TicketInventory, "setPods"> | undefined;

  constructor(options: ProcessDriverOptions) {
    this.#o = options;
    const logger = options.logger.child({ component: "pods" });
    this.#guard = new OrphanGuard({ logger, ...(options.guardGraceMs === undefined ? {} : { graceMs: options.guardGraceMs }) });
    for (const spec of options.apps) {
      const key = appKey(spec.namespace, spec.name);
      const command = options.run[key];
      if (command === undefined || spec.deployment === undefined) continue;
      const deployment = new ProcessDeployment({
        app: key,
        deployment: spec.deployment,
        command,
        replicas: spec.minPods,
        clock: options.clock,
        logger,
        guard: this.#guard,
        onChange: () => this.#publish(key),
        ...(options.timing === undefined ? {} : { timing: options.timing }),
      });
      this.#deployments.set(key, deployment);
    }
  }

  /** Where pods go. Called once, before `start`. */
  feed(target: Pick<TicketInventory, "setPods">): void {
    this.#target = target;
  }

  /** The orphan guard's pid (tests check it is gone too). */
  get guardPid(): number | undefined {
    return this.#guard.pid;
  }

  /** Starts the orphan guard, then every app's initial pods. */
  async start(): Promise<void> {
    await this.#guard.start();
    for (const d of this.#deployments.values()) d.start();
  }

  /** Stops every pod, then the guard. */
  async stop(): Promise<void> {
    await Promise.all([...this.#deployments.values()].map((d) => d.stop()));
    await this.#guard.stop();
  }

  deployment(app: AppKey): ProcessDeployment | undefined {
    return this.#deployments.get(app);
  }

  views(): LocalAppView[] {
    return [...this.#deployments.entries()].map(([app, d]) => {
      const status = this.#statuses.get(app);
      return { app, deployment: d.name, replicas: d.replicas, pods: d.view(), ...(status === undefined ? {} : { status }), events: this.#events.get(app) ?? [] };
    });
  }

  /** The reconciler's ports over the local pods. */
  ports(): ReconcilePorts {
    return {
      scale: {
        read: (ref) => Promise.resolve(this.#readScale(ref)),
        write: (ref, replicas, rv) => this.#act(() => this.#byRef(ref).write(replicas, rv)),
      },
      costs: {
        read: (app) => Promise.resolve(this.#deployments.get(app)?.costs() ?? new Map<string, number>()),
        set: (app, costs) => this.#act(() => this.#deployments.get(app)?.setCosts(costs)),
      },
      draining: {
        read: (app) => Promise.resolve(this.#deployments.get(app)?.marks() ?? new Map()),
        mark: (app, pod, mark) => Promise.resolve(this.#deployments.get(app)?.mark(pod, mark) ?? false),
        unmark: (app, pod) => this.#act(() => this.#deployments.get(app)?.unmark(pod)),
      },
      status: { write: (app, status) => this.#act(() => void this.#statuses.set(app, status)) },
      events: { record: (app, event) => this.#act(() => this.#record(app, event)) },
    };
  }

  #readScale(ref: WorkloadRef): ScaleReading | undefined {
    const d = this.#find(ref);
    return d === undefined ? undefined : { replicas: d.replicas, resourceVersion: d.resourceVersion, owner: "ticketplane" };
  }

  #find(ref: WorkloadRef): ProcessDeployment | undefined {
    for (const d of this.#deployments.values()) if (d.name === ref.deployment && d.app.startsWith(`${ref.namespace}/`)) return d;
    return undefined;
  }

  #byRef(ref: WorkloadRef): ProcessDeployment {
    const d = this.#find(ref);
    if (d === undefined) throw new TicketplaneError(ERROR_CODES.NOT_FOUND, `no local deployment ${ref.namespace}/${ref.deployment}`, { namespace: ref.namespace, deployment: ref.deployment });
    return d;
  }

  /** Runs a synchronous port action as the ports' promise (its throw a rejection). */
  #act(body: () => void): Promise<void> {
    try {
      body();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #record(app: AppKey, event: AppEvent): void {
    const kept = this.#events.get(app) ?? [];
    kept.push({ ...event, time: new Date(this.#o.clock.now()).toISOString() });
    if (kept.length > KEPT_EVENTS) kept.splice(0, kept.length - KEPT_EVENTS);
    this.#events.set(app, kept);
    const level = event.type === "Warning" ? "warn" : "info";
    this.#o.logger[level](event.message, { app, reason: event.reason });
  }

  #publish(app: AppKey): void {
    const d = this.#deployments.get(app);
    if (d !== undefined) this.#target?.setPods(app, d.pods());
  }
}
