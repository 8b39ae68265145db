/**
 * ScaleTarget over a Deployment's `scale` subresource (apps/v1): read gives
 * `spec.replicas`, the resourceVersion to write against, and who owns
 * replicas (ReplicaOwners); write replaces the Scale with that
 * resourceVersion, so a change made meanwhile (kubectl scale, an HPA) is a
 * 409 → TP_CONFLICT and never overwritten blindly.
 */
import type { AppsV1Api, V1Scale } from "@kubernetes/client-node";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { kubeCall, type CallSettings } from "./kube-call.js";
import type { ReplicaOwners } from "./replica-owners.js";
import type { ScaleReading, ScaleTarget, WorkloadRef } from "../reconcile/ports.js";

export interface KubeScaleTargetOptions {
  readonly apps: AppsV1Api;
  readonly owners: Pick<ReplicaOwners, "ownerOf">;
  readonly call: CallSettings;
}

export class KubeScaleTarget implements ScaleTarget {
  readonly #o: KubeScaleTargetOptions;

  constructor(options: KubeScaleTargetOptions) {
    this.#o = options;
  }

  async read(ref: WorkloadRef): Promise<ScaleReading | undefined> {
    const owner = this.#o.owners.ownerOf(ref.namespace, ref.deployment);
    let scale: V1Scale;
    try {
      scale = await kubeCall(this.#o.call, { op: "read scale", namespace: ref.namespace, deployment: ref.deployment }, (o) => this.#o.apps.readNamespacedDeploymentScale({ name: ref.deployment, namespace: ref.namespace }, o));
    } catch (err) {
      if (err instanceof TicketplaneError && err.code === ERROR_CODES.NOT_FOUND) return undefined;
      throw err;
    }
    return { replicas: scale.spec?.replicas ?? 0, resourceVersion: scale.metadata?.resourceVersion ?? "", owner };
  }

  async write(ref: WorkloadRef, replicas: number, resourceVersion: string): Promise<void> {
    const body: V1Scale = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: ref.deployment, namespace: ref.namespace, resourceVersion }, spec: { replicas } };
    await kubeCall(this.#o.call, { op: "write scale", namespace: ref.namespace, deployment: ref.deployment, replicas, resourceVersion }, (o) => this.#o.apps.replaceNamespacedDeploymentScale({ name: ref.deployment, namespace: ref.namespace, body }, o));
  }
}
