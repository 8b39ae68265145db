/**
 * A Deployment made of local processes: what the ReplicaSet controller and
 * the kubelet do for a Kubernetes Deployment, for one app on this machine.
 * It keeps `replicas` pods; a pod is a child process on a free port of
 * 127.0.0.1, ready while its HTTP readiness probe answers. Lowering replicas
 * stops exactly the pods a ReplicaSet would delete: not ready first, then
 * the lowest pod-deletion-cost, then the newest — so the reconciler's costs
 * choose the pod, as in Kubernetes. A pod whose process exits on its own
 * keeps its name and port and is restarted with a doubling backoff (the
 * kubelet's CrashLoopBackOff), reset once it has run well for a while.
 *
 * Single-threaded by construction (one event loop); `onChange` is called
 * after every change the inventory must see (a pod listed, ready, draining,
 * gone).
 */
import { randomBytes } from "node:crypto";
import type { Clock, Timer } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { AppKey } from "../config/app-spec.js";
import type { PodCommand } from "../config/local-file.js";
import type { DrainMark } from "../config/pod-annotations.js";
import type { PodInput } from "../tickets/types.js";
import { freePort, probeHttp } from "./http-probe.js";
import { PodProcess, type PodExit } from "./pod-process.js";

/** The timings of probes, restarts and stops (the kubelet's, shortened for a laptop). */
export interface PodTiming {
  /** Readiness probe period (default 500 ms). */
  readonly probePeriodMs: number;
  /** A probe without an answer this long fails (default 1 s). */
  readonly probeTimeoutMs: number;
  /** A ready pod turns not ready after this many failed probes in a row (default 3). */
  readonly failureThreshold: number;
  /** The first restart after a crash waits this long, the next twice as long… (default 1 s). */
  readonly restartBaseMs: number;
  /** …up to this (default 30 s). */
  readonly restartMaxMs: number;
  /** A pod ready for this long before it crashed restarts after `restartBaseMs` again (default 60 s). */
  readonly backoffResetMs: number;
  /** Between SIGTERM and SIGKILL when a pod is stopped (default 5 s). */
  readonly stopGraceMs: number;
}

export const POD_TIMING_DEFAULTS: PodTiming = {
  probePeriodMs: 500,
  probeTimeoutMs: 1000,
  failureThreshold: 3,
  restartBaseMs: 1000,
  restartMaxMs: 30_000,
  backoffResetMs: 60_000,
  stopGraceMs: 5000,
};

/** Where pods are guarded against outliving ticketplane (the orphan guard). */
export interface GroupWatch {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
}

export interface ProcessDeploymentOptions {
  readonly app: AppKey;
  readonly deployment: string;
  readonly command: PodCommand;
  /** Replicas at creation (the app's minPods). */
  readonly replicas: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly guard: GroupWatch;
  readonly onChange: () => void;
  readonly timing?: Partial<PodTiming>;
}

/** A pod as the admin API and tests see it. */
export interface LocalPodView {
  readonly name: string;
  readonly port: number;
  readonly pid?: number;
  readonly ready: boolean;
  /** starting: launched, not yet ready; running: ready; backoff: crashed, waiting to restart. */
  readonly phase: "starting" | "running" | "backoff";
  readonly restarts: number;
  readonly cost?: number;
  readonly draining: boolean;
  readonly lastExit?: string;
}

interface LocalPod {
  readonly name: string;
  readonly seq: number;
  port: number;
  process?: PodProcess;
  ready: boolean;
  failures: number;
  probing: boolean;
  readySince?: number;
  restarts: number;
  cost?: number;
  mark?: DrainMark;
  lastExit?: string;
  probeTimer?: Timer;
  restartTimer?: Timer;
  /** Set once the pod is removed: nothing restarts or probes it any more. */
  removed: boolean;
}

export class ProcessDeployment {
  readonly app: AppKey;
  readonly name: string;
  readonly #o: ProcessDeploymentOptions;
  readonly #timing: PodTiming;
  readonly #pods: LocalPod[] = [];
  readonly #stopping = new Set<Promise<void>>();
  #replicas: number;
  #resourceVersion = 1;
  #seq = 0;
  #stopped = false;

  constructor(options: ProcessDeploymentOptions) {
    this.#o = options;
    this.app = options.app;
    this.name = options.deployment;
    this.#timing = { ...POD_TIMING_DEFAULTS, ...options.timing };
    this.#replicas = options.replicas;
  }

  get replicas(): number {
    return this.#replicas;
  }

  get resourceVersion(): string {
    return String(this.#resourceVersion);
  }

  /** Starts the pods of the initial replicas. */
  start(): void {
    this.#sync();
  }

  /**
   * Sets replicas if the deployment is still at `resourceVersion`, then
   * starts or stops pods to match. Throws TP_CONFLICT when it moved on (the
   * caller re-reads), TP_UNAVAILABLE once stopped.
   */
  write(replicas: number, resourceVersion: string): void {
    if (this.#stopped) throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `deployment ${this.name} is stopping`, { app: this.app, deployment: this.name });
    if (resourceVersion !== this.resourceVersion) {
      throw new TicketplaneError(ERROR_CODES.CONFLICT, `deployment ${this.name} changed (resourceVersion ${this.resourceVersion}, not ${resourceVersion})`, { app: this.app, deployment: this.name });
    }
    if (!Number.isInteger(replicas) || replicas < 0) throw new TicketplaneError(ERROR_CODES.INVALID_ARGUMENT, `replicas must be an integer ≥ 0, not ${replicas}`, { app: this.app, deployment: this.name });
    this.#replicas = replicas;
    this.#resourceVersion++;
    this.#sync();
  }

  /** The pods as the ticket core takes them. */
  pods(): PodInput[] {
    return this.#pods.map((p) => ({ name: p.name, host: "127.0.0.1", port: p.port, ready: p.ready, draining: p.mark !== undefined }));
  }

  view(): LocalPodView[] {
    return this.#pods.map((p) => ({
      name: p.name,
      port: p.port,
      ...(p.process?.pid !== undefined && !p.process.gone ? { pid: p.process.pid } : {}),
      ready: p.ready,
      phase: p.ready ? "running" : p.restartTimer !== undefined ? "backoff" : "starting",
      restarts: p.restarts,
      ...(p.cost !== undefined ? { cost: p.cost } : {}),
      draining: p.mark !== undefined,
      ...(p.lastExit !== undefined ? { lastExit: p.lastExit } : {}),
    }));
  }

  costs(): Map<string, number> {
    return new Map(this.#pods.flatMap((p) => (p.cost === undefined ? [] : [[p.name, p.cost] as const])));
  }

  /** Sets each named pod's cost; a pod gone meanwhile is skipped. */
  setCosts(costs: ReadonlyMap<string, number>): void {
    for (const p of this.#pods) {
      const cost = costs.get(p.name);
      if (cost !== undefined) p.cost = cost;
    }
  }

  marks(): Map<string, DrainMark> {
    return new Map(this.#pods.flatMap((p) => (p.mark === undefined ? [] : [[p.name, p.mark] as const])));
  }

  /** Marks a pod draining (a pod already marked keeps its first mark); false when there is no such pod. */
  mark(pod: string, mark: DrainMark): boolean {
    const p = this.#pods.find((x) => x.name === pod);
    if (p === undefined) return false;
    if (p.mark === undefined) {
      p.mark = mark;
      this.#o.onChange();
    }
    return true;
  }

  unmark(pod: string): void {
    const p = this.#pods.find((x) => x.name === pod);
    if (p?.mark === undefined) return;
    delete p.mark;
    this.#o.onChange();
  }

  /** Stops every pod (SIGTERM, SIGKILL after the grace period); resolves once all have exited. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const p of [...this.#pods]) this.#remove(p);
    while (this.#stopping.size > 0) await Promise.all([...this.#stopping]);
  }

  #sync(): void {
    if (this.#stopped) return;
    while (this.#pods.length < this.#replicas) {
      const pod: LocalPod = { name: `${this.name}-${randomBytes(4).toString("hex").slice(0, 5)}`, seq: ++this.#seq, port: 0, ready: false, failures: 0, probing: false, restarts: 0, removed: false };
      this.#pods.push(pod);
      this.#launch(pod);
    }
    if (this.#pods.length > this.#replicas) {
      // The ReplicaSet controller's order: not ready, then lower pod-deletion-cost, then newer.
      const order = [...this.#pods].sort((a, b) => Number(a.ready) - Number(b.ready) || (a.cost ?? 0) - (b.cost ?? 0) || b.seq - a.seq);
      for (const p of order.slice(0, this.#pods.length - this.#replicas)) this.#remove(p);
    }
    this.#o.onChange();
  }

  #launch(pod: LocalPod): void {
    const { logger } = this.#o;
    const ready = pod.port === 0 ? freePort() : Promise.resolve(pod.port);
    ready.then(
      (port) => {
        if (pod.removed) return;
        pod.port = port;
        const proc = new PodProcess({ pod: pod.name, port, command: this.#o.command, logger });
        pod.process = proc;
        if (proc.pid !== undefined) this.#o.guard.watch(proc.pid);
        logger.info("pod started", { app: this.app, pod: pod.name, port, pid: proc.pid, restarts: pod.restarts });
        pod.probeTimer = this.#o.clock.setInterval(() => this.#probe(pod, proc), this.#timing.probePeriodMs);
        void proc.exited.then((exit) => this.#exited(pod, proc, exit));
        this.#o.onChange();
      },
      (err: unknown) => this.#exited(pod, undefined, { error: `no free port: ${errorMessage(err)}` }),
    );
  }

  #probe(pod: LocalPod, proc: PodProcess): void {
    if (pod.probing || pod.removed || pod.process !== proc) return;
    pod.probing = true;
    void probeHttp(pod.port, this.#o.command.readinessPath, this.#o.clock, this.#timing.probeTimeoutMs).then((ok) => {
      pod.probing = false;
      if (pod.removed || pod.process !== proc || proc.gone) return;
      if (ok) {
        pod.failures = 0;
        if (pod.ready) return;
        pod.ready = true;
        pod.readySince = this.#o.clock.now();
        this.#o.logger.info("pod ready", { app: this.app, pod: pod.name, port: pod.port });
        this.#o.onChange();
        return;
      }
      pod.failures++;
      if (!pod.ready || pod.failures < this.#timing.failureThreshold) return;
      pod.ready = false;
      this.#o.logger.warn("pod not ready: its readiness probe fails", { app: this.app, pod: pod.name, failures: pod.failures, path: this.#o.command.readinessPath });
      this.#o.onChange();
    });
  }

  /** The run ended: gone for good if the pod was removed, else restarted after the backoff. */
  #exited(pod: LocalPod, proc: PodProcess | undefined, exit: PodExit): void {
    if (proc?.pid !== undefined) this.#o.guard.unwatch(proc.pid);
    pod.probeTimer?.cancel();
    delete pod.probeTimer;
    if (pod.removed) return;
    const now = this.#o.clock.now();
    if (pod.readySince !== undefined && now - pod.readySince >= this.#timing.backoffResetMs) pod.restarts = 0;
    pod.ready = false;
    pod.failures = 0;
    delete pod.readySince;
    pod.lastExit = describeExit(exit);
    const delayMs = Math.min(this.#timing.restartMaxMs, this.#timing.restartBaseMs * 2 ** pod.restarts);
    pod.restarts++;
    this.#o.logger.warn("pod exited; restarting after a backoff", { app: this.app, pod: pod.name, exit: pod.lastExit, delayMs, restarts: pod.restarts });
    pod.restartTimer = this.#o.clock.setTimeout(() => {
      delete pod.restartTimer;
      if (!pod.removed) this.#launch(pod);
    }, delayMs);
    this.#o.onChange();
  }

  /** Takes the pod out of the list at once (no more tickets, no endpoint) and stops its process. */
  #remove(pod: LocalPod): void {
    pod.removed = true;
    pod.ready = false;
    pod.probeTimer?.cancel();
    pod.restartTimer?.cancel();
    this.#pods.splice(this.#pods.indexOf(pod), 1);
    const proc = pod.process;
    if (proc === undefined || proc.gone) return;
    const stopping = proc.stop(this.#o.clock, this.#timing.stopGraceMs).then((exit) => {
      if (proc.pid !== undefined) this.#o.guard.unwatch(proc.pid);
      this.#o.logger.info("pod stopped", { app: this.app, pod: pod.name, exit: describeExit(exit) });
    });
    this.#stopping.add(stopping);
    void stopping.finally(() => this.#stopping.delete(stopping));
  }
}

export function describeExit(exit: PodExit): string {
  if ("error" in exit) return `did not start: ${exit.error}`;
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}
