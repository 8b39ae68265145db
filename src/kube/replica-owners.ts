/**
 * Who sets a Deployment's replicas: ticketplane, an HPA, or a KEDA
 * ScaledObject. Watched (not listed per call) with two informers:
 * autoscaling/v2 HorizontalPodAutoscalers and keda.sh/v1alpha1
 * ScaledObjects, in the watched namespaces.
 *
 * - An HPA whose `scaleTargetRef` is the Deployment (kind Deployment, group
 *   apps) → "hpa"; one named `keda-hpa-<name>` is KEDA's own → "keda".
 * - A ScaledObject whose `scaleTargetRef.name` is the Deployment (kind
 *   absent or Deployment) → "keda", with or without its HPA yet.
 * - A cluster without KEDA answers 404 to the ScaledObject list: that is
 *   normal, logged once, and means no ScaledObject owns anything (install
 *   KEDA's CRDs, then restart ticketplane to see them).
 *
 * Until both lists are in, `ownerOf` rejects (TP_UNAVAILABLE): scaling a
 * Deployment an HPA owns, for not knowing yet, is the fight to avoid.
 */
import { AutoscalingV2Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { once } from "../common/runnable.js";
import type { Runnable } from "../common/runnable.js";
import { isRecord } from "../config/spec-errors.js";
import type { ReplicaOwner } from "../reconcile/ports.js";
import { Informer, startIfServed } from "./informer.js";
import type { ResourceSource, WatchPort } from "./informer.js";
import type { InformerTuning } from "./inventory.js";
import { page, where, type RawList, type Scope } from "./resources.js";

export const KEDA_GROUP = "keda.sh";
export const KEDA_VERSION = "v1alpha1";
/** KEDA names the HPA it creates for a ScaledObject `keda-hpa-<scaledobject>`. */
export const KEDA_HPA_PREFIX = "keda-hpa-";

/** An HPA or ScaledObject as cached: only what names its target. */
export interface CachedScaler {
  readonly namespace: string;
  readonly name: string;
  /** The target's kind ("Deployment" when a ScaledObject leaves it out). */
  readonly targetKind: string;
  readonly targetName: string;
  readonly resourceVersion: string;
}

export interface ReplicaOwnersOptions {
  readonly kubeConfig: KubeConfig;
  readonly watch: WatchPort;
  /** Empty: every namespace. */
  readonly namespaces: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly informers?: InformerTuning;
}


export class ReplicaOwners implements Runnable {
  readonly name = "replica-owners";
  readonly #o: ReplicaOwnersOptions;
  readonly #hpas: Informer<CachedScaler>[] = [];
  readonly #scaledObjects: Informer<CachedScaler>[] = [];
  /** ScaledObject informers that started (a cluster without KEDA has none). */
  #kedaLive: Informer<CachedScaler>[] = [];
  #ready = false;
  readonly stop: () => Promise<void>;

  constructor(options: ReplicaOwnersOptions) {
    this.#o = options;
    const autoscaling = options.kubeConfig.makeApiClient(AutoscalingV2Api);
    const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const scopes: Scope[] = options.namespaces.length === 0 ? [undefined] : [...options.namespaces];
    const common = { watch: options.watch, clock: options.clock, keyOf: (s: CachedScaler) => `${s.namespace}/${s.name}`, ...(options.informers ?? {}) };
    for (const scope of scopes) {
      this.#hpas.push(new Informer({ ...common, source: hpasIn(autoscaling, scope), strip: stripHpa, logger: options.logger.child({ informer: "horizontalpodautoscalers" }) }));
      this.#scaledObjects.push(new Informer({ ...common, source: scaledObjectsIn(custom, scope), strip: stripScaledObject, logger: options.logger.child({ informer: "scaledobjects" }) }));
    }
    this.stop = once(async () => {
      this.#ready = false;
      for (const i of [...this.#hpas, ...this.#scaledObjects]) await i.stop();
    });
  }

  /** Lists HPAs and ScaledObjects; resolves once both are known (a missing ScaledObject CRD counts as none). Rejects when HPAs cannot be listed for good (RBAC). */
  async start(signal: AbortSignal): Promise<void> {
    try {
      const [keda] = await Promise.all([Promise.all(this.#scaledObjects.map(async (i) => ((await this.#startKeda(i, signal)) ? i : undefined))), Promise.all(this.#hpas.map((i) => i.start(signal)))]);
      this.#kedaLive = keda.filter((i) => i !== undefined);
    } catch (err) {
      // The informers that did list must not keep watching.
      await this.stop();
      throw err;
    }
    this.#ready = true;
  }

  #startKeda(informer: Informer<CachedScaler>, signal: AbortSignal): Promise<boolean> {
    return startIfServed(informer, signal, this.#o.logger, "KEDA ScaledObjects are not served here (no keda.sh CRD): no ScaledObject owns replicas");
  }

  /** Who sets the Deployment's replicas. Rejects (TP_UNAVAILABLE) before the first lists are in. */
  ownerOf(namespace: string, deployment: string): ReplicaOwner {
    if (!this.#ready) throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, "HPAs and ScaledObjects not listed yet: who owns replicas is unknown", { namespace, deployment });
    const targets = (s: CachedScaler): boolean => s.namespace === namespace && s.targetKind === "Deployment" && s.targetName === deployment;
    if (this.#kedaLive.some((i) => [...i.items().values()].some(targets))) return "keda";
    for (const i of this.#hpas) {
      for (const hpa of i.items().values()) if (targets(hpa)) return hpa.name.startsWith(KEDA_HPA_PREFIX) ? "keda" : "hpa";
    }
    return "ticketplane";
  }

  readinessReasons(): readonly string[] {
    return [...this.#hpas, ...this.#kedaLive].flatMap((i) => i.readinessReason() ?? []);
  }
}


function hpasIn(api: AutoscalingV2Api, scope: Scope): ResourceSource {
  return {
    description: `HorizontalPodAutoscalers ${where(scope)}`,
    path: scope === undefined ? "/apis/autoscaling/v2/horizontalpodautoscalers" : `/apis/autoscaling/v2/namespaces/${scope}/horizontalpodautoscalers`,
    async list(p) {
      const params = { limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) };
      return page(scope === undefined ? await api.listHorizontalPodAutoscalerForAllNamespaces(params) : await api.listNamespacedHorizontalPodAutoscaler({ namespace: scope, ...params }));
    },
  };
}

function scaledObjectsIn(api: CustomObjectsApi, scope: Scope): ResourceSource {
  return {
    description: `ScaledObjects ${where(scope)}`,
    path: scope === undefined ? `/apis/${KEDA_GROUP}/${KEDA_VERSION}/scaledobjects` : `/apis/${KEDA_GROUP}/${KEDA_VERSION}/namespaces/${scope}/scaledobjects`,
    async list(p) {
      const params = { group: KEDA_GROUP, version: KEDA_VERSION, plural: "scaledobjects", limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) };
      const list: unknown = scope === undefined ? await api.listClusterCustomObject(params) : await api.listNamespacedCustomObject({ ...params, namespace: scope });
      return page(list as RawList);
    },
  };
}

/** The metadata and `spec.scaleTargetRef` of an HPA or ScaledObject; undefined when it names no target. */
function stripScaler(object: unknown, defaultKind: string | undefined): CachedScaler | undefined {
  if (!isRecord(object) || !isRecord(object.metadata) || !isRecord(object.spec)) return undefined;
  const m = object.metadata;
  const ref = object.spec.scaleTargetRef;
  if (typeof m.name !== "string" || !isRecord(ref) || typeof ref.name !== "string") return undefined;
  const kind = typeof ref.kind === "string" && ref.kind !== "" ? ref.kind : defaultKind;
  if (kind === undefined) return undefined;
  // Another group's "Deployment" (an Argo Rollout's, say) is not ours.
  const apiVersion = typeof ref.apiVersion === "string" ? ref.apiVersion : "apps/v1";
  const targetKind = apiVersion.startsWith("apps/") ? kind : `${kind}.${apiVersion}`;
  return Object.freeze({ namespace: typeof m.namespace === "string" ? m.namespace : "default", name: m.name, targetKind, targetName: ref.name, resourceVersion: typeof m.resourceVersion === "string" ? m.resourceVersion : "" });
}

export const stripHpa = (object: unknown): CachedScaler | undefined => stripScaler(object, undefined);
/** KEDA's default target kind is a Deployment (apps/v1). */
export const stripScaledObject = (object: unknown): CachedScaler | undefined => stripScaler(object, "Deployment");
