/**
 * A simulated Deployment and ReplicaSet controller over the test API
 * server's store: a Deployment gets one ReplicaSet per pod template
 * (`<name>-<hash>`, owned by the Deployment; older ones are scaled to 0), a
 * ReplicaSet gets its pods (`<rs>-<xxxxx>`, owned by it, with the template's
 * labels), both get their status counts. Scaling down deletes pods in the
 * order the ReplicaSet documentation gives: unscheduled before scheduled,
 * Pending before Running, not ready before ready, lower
 * `controller.kubernetes.io/pod-deletion-cost` first, newer first.
 *
 * No kubelet runs: pods stay Pending until a test marks them ready
 * (`markPodReady`) or `readyAfterMs` passes, when they get a node, a
 * loopback pod IP, phase Running and the Ready condition.
 */
import { createHash, randomInt } from "node:crypto";
import { text } from "./kinds.ts";
import type { KindSpec, KObject } from "./kinds.ts";
import { deepEqual } from "./patch.ts";
import { nameOf, namespaceOf } from "./store.ts";
import type { ObjectStore, StoreEvent } from "./store.ts";

export const POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";
const MANAGER = "kube-controller-manager";
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export interface ReplicaControllerOptions {
  /** Pods become ready this long after they are created; without it they stay Pending until markPodReady. */
  readonly readyAfterMs?: number;
  /** The node a ready pod is scheduled on (default `node-1`). */
  readonly nodeName?: string;
}

type Obj = Record<string, unknown>;

interface OwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

function kindOf(store: ObjectStore, group: string, plural: string): KindSpec {
  const k = store.kinds.find((x) => x.group === group && x.plural === plural);
  if (k === undefined) throw new Error(`replica controller: the store serves no ${plural}`);
  return k;
}

function controllerRef(obj: KObject): OwnerRef | undefined {
  return ((obj.metadata?.ownerReferences ?? []) as OwnerRef[]).find((r) => r.controller === true);
}

function ownedBy(owner: KObject): (obj: KObject) => boolean {
  const uid = owner.metadata?.uid;
  return (obj) => controllerRef(obj)?.uid === uid && obj.metadata?.deletionTimestamp === undefined;
}

function refTo(owner: KObject): OwnerRef {
  return { apiVersion: String(owner.apiVersion), kind: String(owner.kind), name: nameOf(owner), uid: String(owner.metadata?.uid), controller: true, blockOwnerDeletion: true };
}

function spec(obj: KObject): Obj {
  return (obj.spec ?? {}) as Obj;
}

function isReady(pod: KObject): boolean {
  const conditions = ((pod.status as Obj | undefined)?.conditions ?? []) as { type?: string; status?: string }[];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

/** A short stable hash of a pod template, as the `pod-template-hash` label carries one. */
function templateHash(template: unknown): string {
  const digest = createHash("sha256").update(JSON.stringify(template ?? {})).digest();
  return [...digest.subarray(0, 10)].map((b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join("");
}

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join("");
}

const PHASE_RANK: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Orders pods for deletion, first to go first (the ReplicaSet controller's
 * ranking, without its node-spreading and readiness-time rules):
 * unscheduled, then Pending/Unknown/Running, then not ready, then lower
 * deletion cost, then newer creation (`created` breaks ties within a second).
 */
export function deletionOrder(pods: readonly KObject[], created: (pod: KObject) => number = () => 0): KObject[] {
  const cost = (p: KObject) => Number((p.metadata?.annotations)?.[POD_DELETION_COST] ?? 0) || 0;
  const rank = (p: KObject): number[] => [
    spec(p).nodeName === undefined ? 0 : 1,
    PHASE_RANK[text((p.status as Obj | undefined)?.phase, "Pending")] ?? 0,
    isReady(p) ? 1 : 0,
    cost(p),
    -Date.parse(String(p.metadata?.creationTimestamp ?? 0)),
    -created(p),
  ];
  return [...pods].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    const i = ra.findIndex((v, n) => v !== rb[n]);
    return i < 0 ? 0 : (ra[i] ?? 0) - (rb[i] ?? 0);
  });
}

/** Marks a pod scheduled, Running and Ready with `ip` (as the scheduler and a kubelet would), through the API. */
export function markPodReady(store: ObjectStore, namespace: string, name: string, ip: string, nodeName = "node-1"): KObject {
  const pods = kindOf(store, "", "pods");
  const pod = store.get(pods, namespace, name);
  if (spec(pod).nodeName === undefined) store.update(pods, namespace, name, { ...pod, spec: { ...spec(pod), nodeName } }, { manager: "kube-scheduler" });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const condition = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: now });
  const containers = (spec(pod).containers ?? []) as Obj[];
  const status = {
    phase: "Running",
    hostIP: "127.0.0.1",
    podIP: ip,
    podIPs: [{ ip }],
    startTime: now,
    conditions: ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition),
    containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, imageID: "", ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
  };
  const current = store.get(pods, namespace, name);
  return store.update(pods, namespace, name, { ...current, status }, { manager: "kubelet", subresource: "status" });
}

export class ReplicaController {
  readonly #store: ObjectStore;
  readonly #options: ReplicaControllerOptions;
  readonly #deployments: KindSpec;
  readonly #replicaSets: KindSpec;
  readonly #pods: KindSpec;
  readonly #queue = new Map<string, { kind: KindSpec; namespace: string; name: string }>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Creation order of the pods this controller made (breaks creationTimestamp ties). */
  readonly #created = new Map<string, number>();
  #seq = 0;
  #nextIp = 0;
  #unsubscribe: (() => void) | undefined;
  #scheduled: NodeJS.Immediate | undefined;

  constructor(store: ObjectStore, options: ReplicaControllerOptions = {}) {
    this.#store = store;
    this.#options = options;
    this.#deployments = kindOf(store, "apps", "deployments");
    this.#replicaSets = kindOf(store, "apps", "replicasets");
    this.#pods = kindOf(store, "", "pods");
  }

  start(): this {
    this.#unsubscribe ??= this.#store.subscribe((e) => this.#onEvent(e));
    for (const kind of [this.#deployments, this.#replicaSets]) for (const o of this.#store.all(kind)) this.#enqueue(kind, namespaceOf(o), nameOf(o));
    return this;
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue.clear();
  }

  /** Marks a pod ready now, with the next loopback IP (127.0.1.1, 127.0.1.2, …) unless `ip` is given. */
  markReady(namespace: string, name: string, ip?: string): KObject {
    return markPodReady(this.#store, namespace, name, ip ?? this.#allocateIp(), this.#options.nodeName);
  }

  /** The pods a Deployment owns through its ReplicaSets (not those being deleted). */
  podsOf(namespace: string, deployment: string): KObject[] {
    const d = this.#store.find(this.#deployments, namespace, deployment);
    if (d === undefined) return [];
    const sets = this.#store.all(this.#replicaSets, namespace).filter(ownedBy(d));
    return this.#store.all(this.#pods, namespace).filter((p) => sets.some((rs) => ownedBy(rs)(p)));
  }

  #allocateIp(): string {
    const n = this.#nextIp++;
    return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
  }

  #onEvent(e: StoreEvent): void {
    if (e.kind !== this.#deployments && e.kind !== this.#replicaSets && e.kind !== this.#pods) return;
    const ns = namespaceOf(e.object);
    if (e.kind !== this.#pods && e.type !== "DELETED") this.#enqueue(e.kind, ns, nameOf(e.object));
    const owner = controllerRef(e.object);
    if (owner?.kind === "ReplicaSet") this.#enqueue(this.#replicaSets, ns, owner.name);
    if (owner?.kind === "Deployment") this.#enqueue(this.#deployments, ns, owner.name);
  }

  #enqueue(kind: KindSpec, namespace: string, name: string): void {
    this.#queue.set(`${kind.plural}/${namespace}/${name}`, { kind, namespace, name });
    this.#schedule();
  }

  #schedule(): void {
    this.#scheduled ??= setImmediate(() => {
      this.#scheduled = undefined;
      const work = [...this.#queue.values()];
      this.#queue.clear();
      for (const w of work) {
        const obj = this.#store.find(w.kind, w.namespace, w.name);
        if (obj === undefined || obj.metadata?.deletionTimestamp !== undefined) continue;
        if (w.kind === this.#deployments) this.#syncDeployment(obj);
        else this.#syncReplicaSet(obj);
      }
    });
  }

  #syncDeployment(d: KObject): void {
    const ns = namespaceOf(d);
    const template = spec(d).template as Obj | undefined;
    const hash = templateHash(template);
    const name = `${nameOf(d)}-${hash}`;
    const desired = Number(spec(d).replicas ?? 1);
    const owned = this.#store.all(this.#replicaSets, ns).filter(ownedBy(d));
    for (const old of owned) if (nameOf(old) !== name && spec(old).replicas !== 0) this.#write(this.#replicaSets, old, { ...old, spec: { ...spec(old), replicas: 0 } });
    const current = owned.find((rs) => nameOf(rs) === name);
    const templateMeta = (template?.metadata ?? {}) as Obj;
    const labels = { ...(templateMeta.labels as Record<string, string> | undefined), "pod-template-hash": hash };
    const selector = (spec(d).selector ?? {}) as Obj;
    if (current === undefined) {
      this.#store.create(this.#replicaSets, ns, {
        metadata: { name, namespace: ns, labels, ownerReferences: [refTo(d)], annotations: { "deployment.kubernetes.io/desired-replicas": String(desired), "deployment.kubernetes.io/revision": String(owned.length + 1) } },
        spec: { replicas: desired, selector: { ...selector, matchLabels: { ...(selector.matchLabels as Record<string, string> | undefined), "pod-template-hash": hash } }, template: { ...template, metadata: { ...templateMeta, labels } } },
      }, { manager: MANAGER });
    } else if (spec(current).replicas !== desired) this.#write(this.#replicaSets, current, { ...current, spec: { ...spec(current), replicas: desired } });
    const pods = this.#store.all(this.#pods, ns).filter((p) => owned.some((rs) => ownedBy(rs)(p)));
    const updated = current === undefined ? [] : pods.filter(ownedBy(current));
    const ready = pods.filter(isReady).length;
    const status = { observedGeneration: d.metadata?.generation, replicas: pods.length, updatedReplicas: updated.length, readyReplicas: ready, availableReplicas: ready, unavailableReplicas: Math.max(0, desired - ready) };
    this.#writeStatus(this.#deployments, d, status);
  }

  #syncReplicaSet(rs: KObject): void {
    const ns = namespaceOf(rs);
    const pods = this.#store.all(this.#pods, ns).filter(ownedBy(rs));
    const desired = Number(spec(rs).replicas ?? 1);
    for (let i = pods.length; i < desired; i++) pods.push(this.#createPod(rs));
    if (pods.length > desired) {
      const doomed = deletionOrder(pods, (p) => this.#created.get(String(p.metadata?.uid)) ?? 0).slice(0, pods.length - desired);
      for (const p of doomed) {
        this.#store.delete(this.#pods, ns, nameOf(p));
        pods.splice(pods.indexOf(p), 1);
      }
    }
    const ready = pods.filter(isReady).length;
    this.#writeStatus(this.#replicaSets, rs, { observedGeneration: rs.metadata?.generation, replicas: pods.length, fullyLabeledReplicas: pods.length, readyReplicas: ready, availableReplicas: ready });
  }

  #createPod(rs: KObject): KObject {
    const ns = namespaceOf(rs);
    const template = (spec(rs).template ?? {}) as Obj;
    const templateMeta = (template.metadata ?? {}) as Obj;
    const pod = this.#store.create(this.#pods, ns, { metadata: { ...templateMeta, name: `${nameOf(rs)}-${randomSuffix()}`, namespace: ns, ownerReferences: [refTo(rs)] }, spec: template.spec ?? {} }, { manager: MANAGER });
    this.#created.set(String(pod.metadata?.uid), ++this.#seq);
    const delay = this.#options.readyAfterMs;
    if (delay !== undefined) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        const now = this.#store.find(this.#pods, ns, nameOf(pod));
        if (now !== undefined && now.metadata?.uid === pod.metadata?.uid && !isReady(now)) this.markReady(ns, nameOf(pod));
      }, delay);
      this.#timers.add(timer);
    }
    return pod;
  }

  #write(kind: KindSpec, current: KObject, next: KObject): void {
    this.#store.update(kind, namespaceOf(current), nameOf(current), next, { manager: MANAGER });
  }

  #writeStatus(kind: KindSpec, obj: KObject, status: Obj): void {
    const merged = { ...(obj.status as Obj | undefined), ...status };
    if (deepEqual(merged, obj.status)) return;
    this.#store.update(kind, namespaceOf(obj), nameOf(obj), { ...obj, status: merged }, { manager: MANAGER, subresource: "status" });
  }
}
