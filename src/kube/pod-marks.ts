/**
 * PodCosts and Draining over pod annotations. Reads come from the
 * inventory's cached pods (no API call); writes are one merge patch per pod
 * that needs one, so a reconcile that changes nothing sends nothing.
 *
 * - costs: `controller.kubernetes.io/pod-deletion-cost`, which a ReplicaSet
 *   reads to pick the pod it removes (lowest first).
 * - draining: `ticketplane.dev/draining` on the pod (a restart and other
 *   replicas see it; the inventory reads it back as `PodInput.draining`),
 *   and `inventory.setDraining` so Check stops issuing on the pod at once,
 *   not when the watch brings the annotation back.
 *
 * A pod gone (404) is skipped, never an error.
 */
import type { CoreV1Api } from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppKey } from "../config/app-spec.js";
import { DRAINING_ANNOTATION, formatDrainMark, parseDeletionCost, parseDrainMark, POD_DELETION_COST_ANNOTATION } from "../config/pod-annotations.js";
import type { DrainMark } from "../config/pod-annotations.js";
import type { Draining, PodCosts } from "../reconcile/ports.js";
import type { KubeInventory } from "./inventory.js";
import { kubeCall, type CallSettings } from "./kube-call.js";

export interface PodMarksOptions {
  readonly core: CoreV1Api;
  readonly inventory: Pick<KubeInventory, "app" | "observedPods" | "setDraining">;
  readonly call: CallSettings;
}

/** Pod patches in flight at once for one app. */
const PATCH_CONCURRENCY = 8;

/** Merge-patches the pod's annotations (null deletes one). Resolves false when the pod is gone. */
async function patchAnnotations(o: PodMarksOptions, namespace: string, pod: string, annotations: Record<string, string | null>): Promise<boolean> {
  try {
    await kubeCall(o.call, { op: "annotate pod", namespace, pod }, (opts) => o.core.patchNamespacedPod({ name: pod, namespace, body: { metadata: { annotations } } }, opts), setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    return true;
  } catch (err) {
    if (err instanceof TicketplaneError && err.code === ERROR_CODES.NOT_FOUND) return false;
    throw err;
  }
}

function namespaceOf(o: PodMarksOptions, app: AppKey): string {
  const found = o.inventory.app(app);
  if (found === undefined) throw new TicketplaneError(ERROR_CODES.NOT_FOUND, `app ${app} is not known to the inventory`, { app });
  return found.spec.namespace;
}

/** Runs every task, a few at a time; rejects with the first failure once all have settled. */
async function all(tasks: readonly (() => Promise<unknown>)[]): Promise<void> {
  const failures: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      try {
        await task?.();
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PATCH_CONCURRENCY, tasks.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

export class KubePodCosts implements PodCosts {
  readonly #o: PodMarksOptions;

  constructor(options: PodMarksOptions) {
    this.#o = options;
  }

  read(app: AppKey): Promise<ReadonlyMap<string, number>> {
    const costs = new Map<string, number>();
    for (const pod of this.#o.inventory.observedPods(app)) {
      const cost = parseDeletionCost(pod.deletionCost);
      if (cost !== undefined) costs.set(pod.name, cost);
    }
    return Promise.resolve(costs);
  }

  /** One merge patch per cached pod whose cost differs; pods not cached (gone) are skipped. */
  async set(app: AppKey, costs: ReadonlyMap<string, number>): Promise<void> {
    const namespace = namespaceOf(this.#o, app);
    const cached = new Map(this.#o.inventory.observedPods(app).map((p) => [p.name, p]));
    const tasks: (() => Promise<unknown>)[] = [];
    for (const [name, cost] of costs) {
      const pod = cached.get(name);
      if (pod === undefined || parseDeletionCost(pod.deletionCost) === cost) continue;
      tasks.push(() => patchAnnotations(this.#o, namespace, name, { [POD_DELETION_COST_ANNOTATION]: String(Math.trunc(cost)) }));
    }
    await all(tasks);
  }
}

export class KubeDraining implements Draining {
  readonly #o: PodMarksOptions;
  /**
   * Marks this adapter wrote (null: removed) that the cache may not show
   * yet, by app and pod: read-your-writes, so a reconcile right after a
   * mark neither marks again nor loses the first mark's time.
   */
  readonly #written = new Map<AppKey, Map<string, DrainMark | null>>();

  constructor(options: PodMarksOptions) {
    this.#o = options;
  }

  read(app: AppKey): Promise<ReadonlyMap<string, DrainMark>> {
    const marks = new Map<string, DrainMark>();
    const written = this.#written.get(app) ?? new Map<string, DrainMark | null>();
    const seen = new Set<string>();
    for (const pod of this.#o.inventory.observedPods(app)) {
      seen.add(pod.name);
      const mark = settle(written, pod.name, parseDrainMark(pod.drainMark));
      if (mark !== undefined) marks.set(pod.name, mark);
    }
    for (const name of written.keys()) if (!seen.has(name)) written.delete(name);
    if (written.size === 0) this.#written.delete(app);
    return Promise.resolve(marks);
  }

  async mark(app: AppKey, pod: string, mark: DrainMark): Promise<boolean> {
    const namespace = namespaceOf(this.#o, app);
    // Idempotent: a pod already marked keeps its first mark (and its time).
    if ((await this.read(app)).has(pod)) {
      this.#o.inventory.setDraining(app, pod, true);
      return true;
    }
    this.#o.inventory.setDraining(app, pod, true);
    const found = await patchAnnotations(this.#o, namespace, pod, { [DRAINING_ANNOTATION]: formatDrainMark(mark) });
    if (!found) {
      this.#o.inventory.setDraining(app, pod, false);
      return false;
    }
    this.#remember(app, pod, mark);
    return true;
  }

  async unmark(app: AppKey, pod: string): Promise<void> {
    const namespace = namespaceOf(this.#o, app);
    this.#o.inventory.setDraining(app, pod, false);
    const cachedMark = this.#o.inventory.observedPods(app).find((p) => p.name === pod)?.drainMark;
    const mine = this.#written.get(app)?.get(pod);
    if (cachedMark === undefined && (mine === undefined || mine === null)) return;
    if (await patchAnnotations(this.#o, namespace, pod, { [DRAINING_ANNOTATION]: null })) this.#remember(app, pod, null);
  }

  #remember(app: AppKey, pod: string, mark: DrainMark | null): void {
    const written = this.#written.get(app) ?? new Map<string, DrainMark | null>();
    written.set(pod, mark);
    this.#written.set(app, written);
  }
}

/** The pod's mark: what we wrote while the cache lags, else the cache's (forgetting ours once the cache agrees). */
function settle(written: Map<string, DrainMark | null>, pod: string, cached: DrainMark | undefined): DrainMark | undefined {
  const mine = written.get(pod);
  if (mine === undefined) return cached;
  if (mine === null ? cached === undefined : cached !== undefined) {
    written.delete(pod);
    return cached;
  }
  return mine ?? undefined;
}
