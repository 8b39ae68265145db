/**
 * ScaleTarget over a Deployment's `scale` subresource (apps/v1): read gives
 * `spec.replicas`, the resourceVersion to write against, and who owns
 * replicas (ReplicaOwners); write replaces the Scale with that
 * resourceVersion, so a change made meanwhile (kubectl scale, an HPA) is a
 * 409 → TP_CONFLICT and never overwritten blindly.
 *
 * Reads answer from the Deployment informer's cache when it can be trusted
 * (the cached Deployment's `spec.replicas` and resourceVersion are what the
 * subresource would return), so the common path costs no round trip. The
 * cache lags the API server, and the one lag that would mislead the
 * reconciler is its own write not yet seen: old replicas there would read as
 * someone else's change (a false ReplicasChangedExternally, a stale value
 * adopted). So after every write, and after every live read that found the
 * cache behind, the target keeps what it knows to be true (ScaleFreshness)
 * and reads live whenever the cache's replicas differ from it, until the
 * cache shows that very resourceVersion. The first read of a Deployment is
 * live too (a new leader's cache may not show the last leader's write). A
 * failed write (a 409 included) leaves nothing known: reads are live until
 * one finds the cache current.
 * A stale resourceVersion from the cache costs one 409, which the caller
 * answers with a re-read, and that re-read is live.
 */
import type { AppsV1Api, V1Scale } from "@kubernetes/client-node";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { kubeCall, type CallSettings } from "./kube-call.js";
import type { ReplicaOwners } from "./replica-owners.js";
import { ScaleFreshness, type CachedScale } from "./scale-freshness.js";
import type { CachedDeployment } from "./strip.js";
import type { ScaleReading, ScaleTarget, WorkloadRef } from "../reconcile/ports.js";

/** The informer cache of Deployments (KubeInventory implements it). */
export interface CachedDeployments {
  /** The cached Deployment, if the cache holds it. Never does I/O. */
  deployment(namespace: string, name: string): CachedDeployment | undefined;
}

export interface KubeScaleTargetOptions {
  readonly apps: AppsV1Api;
  readonly owners: Pick<ReplicaOwners, "ownerOf">;
  readonly call: CallSettings;
  /** Where reads answer from when it is current; without it every read is a GET. */
  readonly deployments?: CachedDeployments;
}

export class KubeScaleTarget implements ScaleTarget {
  readonly #o: KubeScaleTargetOptions;
  readonly #freshness = new ScaleFreshness();

  constructor(options: KubeScaleTargetOptions) {
    this.#o = options;
  }

  async read(ref: WorkloadRef): Promise<ScaleReading | undefined> {
    const owner = this.#o.owners.ownerOf(ref.namespace, ref.deployment);
    const key = keyOf(ref);
    const cached = this.#cached(ref);
    if (cached !== undefined && this.#freshness.trusts(key, cached)) return { ...cached, owner };
    const live = await this.#readLive(ref);
    // Compared with the cache as it is now, after the round trip.
    this.#freshness.observedLive(key, live, this.#cached(ref));
    return live === undefined ? undefined : { ...live, owner };
  }

  async write(ref: WorkloadRef, replicas: number, resourceVersion: string): Promise<void> {
    const key = keyOf(ref);
    const body: V1Scale = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: ref.deployment, namespace: ref.namespace, resourceVersion }, spec: { replicas } };
    let written: V1Scale;
    try {
      written = await kubeCall(this.#o.call, { op: "write scale", namespace: ref.namespace, deployment: ref.deployment, replicas, resourceVersion }, (o) => this.#o.apps.replaceNamespacedDeploymentScale({ name: ref.deployment, namespace: ref.namespace, body }, o));
    } catch (err) {
      // A 409 says the cache was behind; a timeout or 5xx may or may not have written.
      this.#freshness.forget(key);
      throw err;
    }
    this.#freshness.wrote(key, { replicas: written.spec?.replicas ?? replicas, resourceVersion: written.metadata?.resourceVersion ?? "" });
  }

  #cached(ref: WorkloadRef): CachedScale | undefined {
    const d = this.#o.deployments?.deployment(ref.namespace, ref.deployment);
    // Without spec.replicas the API server's default applies: only a GET knows it.
    if (d?.replicas === undefined) return undefined;
    return { replicas: d.replicas, resourceVersion: d.resourceVersion };
  }

  async #readLive(ref: WorkloadRef): Promise<CachedScale | undefined> {
    let scale: V1Scale;
    try {
      scale = await kubeCall(this.#o.call, { op: "read scale", namespace: ref.namespace, deployment: ref.deployment }, (o) => this.#o.apps.readNamespacedDeploymentScale({ name: ref.deployment, namespace: ref.namespace }, o));
    } catch (err) {
      if (err instanceof TicketplaneError && err.code === ERROR_CODES.NOT_FOUND) return undefined;
      throw err;
    }
    return { replicas: scale.spec?.replicas ?? 0, resourceVersion: scale.metadata?.resourceVersion ?? "" };
  }
}

const keyOf = (ref: WorkloadRef): string => `${ref.namespace}/${ref.deployment}`;
