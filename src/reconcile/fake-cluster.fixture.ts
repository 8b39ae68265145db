/**
 * An in-memory cluster behind the reconciler's ports, for its tests: it
 * keeps Deployments (replicas, a resourceVersion, an owner) and their pods
 * (deletion cost, drain mark), answers stale writes with 409 as the API
 * server does, creates and deletes pods as a ReplicaSet would (not ready
 * first, then lower pod-deletion-cost, then newest), and plays the
 * inventory: after each change the ticket core gets the app's pods, a
 * drain mark becoming `draining`. Fault injection: a conflict on the next
 * write, failures of the next calls.
 */
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import type { DrainMark } from "../config/pod-annotations.js";
import type { TicketInventory } from "../tickets/ports.js";
import type { AppEvent, Draining, EventSink, PodCosts, ReconcilePorts, ReplicaOwner, ScaleReading, ScaleTarget, StatusSink, WorkloadRef } from "./ports.js";
import type { AppStatus } from "./status.js";

export interface FakePod {
  readonly name: string;
  readonly deployment: string;
  readonly ip: string;
  readonly created: number;
  ready: boolean;
  cost?: number;
  mark?: DrainMark;
}

interface FakeDeployment {
  readonly name: string;
  replicas: number;
  resourceVersion: number;
  owner: ReplicaOwner;
}

export class FakeCluster {
  readonly deployments = new Map<string, FakeDeployment>();
  readonly pods: FakePod[] = [];
  readonly events: { readonly app: AppKey; readonly event: AppEvent; readonly at: number }[] = [];
  readonly statuses: AppStatus[] = [];
  /** Replica writes that went through, in order. */
  readonly writes: { readonly deployment: string; readonly from: number; readonly to: number; readonly at: number }[] = [];
  /** Pods deleted by scale-in, in order. */
  readonly deleted: string[] = [];
  /** Calls made, by port method. */
  readonly calls = new Map<string, number>();
  readonly #core: Pick<TicketInventory, "setPods">;
  readonly #clock: Clock;
  readonly #spec: AppSpec;
  #seq = 0;
  #conflictNext = 0;
  #failNext: { method: string; count: number; error: () => Error } | undefined;
  /** New pods are ready at once (else a test marks them). */
  readyOnCreate = true;

  constructor(core: Pick<TicketInventory, "setPods">, clock: Clock, spec: AppSpec, replicas: Readonly<Record<string, number>>) {
    this.#core = core;
    this.#clock = clock;
    this.#spec = spec;
    for (const [name, n] of Object.entries(replicas)) {
      this.deployments.set(name, { name, replicas: n, resourceVersion: 1, owner: "ticketplane" });
      this.#sync(name);
    }
    this.publish();
  }

  get app(): AppKey {
    return appKey(this.#spec.namespace, this.#spec.name);
  }

  /** The reconciler's ports over this cluster, each a separate object as its adapter would be. */
  get ports(): ReconcilePorts {
    const scale: ScaleTarget = { read: (ref) => this.readScale(ref), write: (ref, n, rv) => this.writeScale(ref, n, rv) };
    const costs: PodCosts = { read: () => this.#call("costs.read", () => this.readCosts()), set: (app, c) => this.setCosts(app, c) };
    const draining: Draining = { read: () => this.#call("draining.read", () => this.readMarks()), mark: (app, pod, m) => this.mark(app, pod, m), unmark: (app, pod) => this.unmark(app, pod) };
    const status: StatusSink = { write: (_app, st) => this.#call("status.write", () => void this.statuses.push(st)) };
    const events: EventSink = { record: (app, e) => this.record(app, e) };
    return { scale, costs, draining, status, events };
  }

  // ── fault injection and outside actors ──────────────────────────────

  /** The next `n` scale writes meet a 409 (another writer touched the object: its resourceVersion moves on, replicas do not). */
  conflictOnNextWrite(n = 1): void {
    this.#conflictNext = n;
  }

  /** The next `count` calls of `method` ("scale.read", "costs.set", …) reject. */
  failNext(method: string, count: number, error: () => Error = () => new TicketplaneError(ERROR_CODES.UNAVAILABLE, "500 InternalError")): void {
    this.#failNext = { method, count, error };
  }

  /** Someone else (a person with kubectl, another controller) sets replicas. */
  setReplicasFromOutside(deployment: string, replicas: number): void {
    const d = this.#deployment(deployment);
    d.replicas = replicas;
    d.resourceVersion++;
    this.#sync(deployment);
    this.publish();
  }

  setOwner(deployment: string, owner: ReplicaOwner): void {
    this.#deployment(deployment).owner = owner;
  }

  podsOf(deployment: string): FakePod[] {
    return this.pods.filter((p) => p.deployment === deployment);
  }

  /** The ticket core gets the app's pods as an inventory would report them. */
  publish(): void {
    this.#core.setPods(
      this.app,
      this.pods.map((p) => ({ name: p.name, host: p.ip, port: 8080, ready: p.ready, draining: p.mark !== undefined, canary: p.deployment !== this.#spec.deployment })),
    );
  }

  // ── ScaleTarget ─────────────────────────────────────────────────────

  readScale(ref: WorkloadRef): Promise<ScaleReading | undefined> {
    return this.#call("scale.read", () => {
      const d = this.deployments.get(ref.deployment);
      return d === undefined ? undefined : { replicas: d.replicas, resourceVersion: String(d.resourceVersion), owner: d.owner };
    });
  }

  writeScale(ref: WorkloadRef, replicas: number, resourceVersion: string): Promise<void> {
    return this.#call("scale.write", () => {
      const d = this.#deployment(ref.deployment);
      if (this.#conflictNext > 0) {
        this.#conflictNext--;
        d.resourceVersion++;
      }
      if (String(d.resourceVersion) !== resourceVersion) throw new TicketplaneError(ERROR_CODES.CONFLICT, `409 Conflict: deployments.apps "${ref.deployment}": the object has been modified`, { deployment: ref.deployment });
      this.writes.push({ deployment: ref.deployment, from: d.replicas, to: replicas, at: this.#clock.now() });
      d.replicas = replicas;
      d.resourceVersion++;
      this.#sync(ref.deployment);
      this.publish();
    });
  }

  // ── PodCosts, Draining ──────────────────────────────────────────────

  readCosts(): Map<string, number> {
    return new Map(this.pods.filter((p) => p.cost !== undefined).map((p) => [p.name, p.cost ?? 0]));
  }

  readMarks(): Map<string, DrainMark> {
    return new Map(this.pods.filter((p) => p.mark !== undefined).map((p) => [p.name, p.mark as DrainMark]));
  }

  setCosts(_app: AppKey, costs: ReadonlyMap<string, number>): Promise<void> {
    return this.#call("costs.set", () => {
      for (const [name, cost] of costs) {
        const p = this.pods.find((x) => x.name === name);
        if (p !== undefined) p.cost = cost;
      }
    });
  }

  mark(_app: AppKey, pod: string, mark: DrainMark): Promise<boolean> {
    return this.#call("draining.mark", () => {
      const p = this.pods.find((x) => x.name === pod);
      if (p === undefined) return false;
      p.mark ??= mark;
      this.publish();
      return true;
    });
  }

  unmark(_app: AppKey, pod: string): Promise<void> {
    return this.#call("draining.unmark", () => {
      const p = this.pods.find((x) => x.name === pod);
      if (p?.mark === undefined) return;
      delete p.mark;
      this.publish();
    });
  }

  // ── StatusSink, EventSink ───────────────────────────────────────────

  record(app: AppKey, event: AppEvent): Promise<void> {
    return this.#call("events.record", () => {
      this.events.push({ app, event, at: this.#clock.now() });
    });
  }

  reasons(): string[] {
    return this.events.map((e) => e.event.reason);
  }

  #deployment(name: string): FakeDeployment {
    const d = this.deployments.get(name);
    if (d === undefined) throw new Error(`no deployment ${name}`);
    return d;
  }

  /** Creates or deletes pods as a ReplicaSet would. */
  #sync(deployment: string): void {
    const d = this.#deployment(deployment);
    const pods = this.podsOf(deployment);
    for (let i = pods.length; i < d.replicas; i++) {
      const n = ++this.#seq;
      this.pods.push({ name: `${deployment}-${String(n).padStart(3, "0")}`, deployment, ip: `10.1.0.${n}`, created: n, ready: this.readyOnCreate });
    }
    if (pods.length > d.replicas) {
      const order = [...pods].sort((a, b) => Number(a.ready) - Number(b.ready) || (a.cost ?? 0) - (b.cost ?? 0) || b.created - a.created);
      for (const p of order.slice(0, pods.length - d.replicas)) {
        this.pods.splice(this.pods.indexOf(p), 1);
        this.deleted.push(p.name);
      }
    }
  }

  #call<T>(method: string, body: () => T): Promise<T> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const f = this.#failNext;
    if (f !== undefined && f.method === method && f.count > 0) {
      f.count--;
      return Promise.reject(f.error());
    }
    try {
      return Promise.resolve(body());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
