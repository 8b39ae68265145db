/**
 * The reconciler's ports over the Kubernetes API: the Deployment's `scale`
 * subresource (with the HPA or KEDA ScaledObject that may own its replicas),
 * pod deletion costs and drain marks as pod annotations, the TicketedApp
 * status subresource, and Events through the EventRecorder. Reads come from
 * the informers' caches (KubeInventory's pods and Deployments — the scale
 * read goes live only while that cache may not show our last write — the
 * replica owners' HPAs and ScaledObjects); writes are single API calls with a deadline, their
 * failures mapped to TicketplaneError by toKubeError (409 → TP_CONFLICT, a
 * 429's Retry-After as `context.retryAfterMs`).
 *
 * The bundle is also a Runnable: `start` lists HPAs and ScaledObjects (the
 * scale port refuses to read until it knows who owns replicas), `stop` ends
 * those watches. Start it before the Reconciler, stop it after.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { Watch } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import type { HostPort } from "../config/address.js";
import type { ReconcilePorts } from "../reconcile/ports.js";
import { KubeEventSink, KubeStatusSink } from "./app-status.js";
import type { EventRecorder } from "./events.js";
import type { WatchPort } from "./informer.js";
import type { InformerTuning, KubeInventory } from "./inventory.js";
import { KubeDraining, KubePodCosts } from "./pod-marks.js";
import { ReplicaOwners } from "./replica-owners.js";
import { kubeApis } from "./resources.js";
import { KubeScaleTarget } from "./scale-target.js";
import { KubeRouteSwitch } from "./virtual-service.js";

export interface KubeReconcilePortsOptions {
  readonly kubeConfig: KubeConfig;
  readonly inventory: KubeInventory;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Deadline of each API call (default 10 s). */
  readonly callTimeoutMs?: number;
  /** The namespaces whose HPAs and ScaledObjects are watched; empty or absent: every namespace (pass the inventory's). */
  readonly namespaces?: readonly string[];
  /** The watch transport (default: client-node's Watch on kubeConfig). */
  readonly watch?: WatchPort;
  /** Informer settings for the HPA and ScaledObject watches (tests shorten them). */
  readonly informers?: InformerTuning;
  /** The resolver's Service as the mesh reaches it: with it, apps with minPods 0 flip their VirtualService route for scale to zero (KubeRouteSwitch). */
  readonly resolver?: HostPort;
}

/** The ports, plus the lifecycle of the watches behind them. */
export interface KubeReconcilePorts extends ReconcilePorts, Runnable {
  /** Who owns replicas of HPAs and ScaledObjects (for the admin API and tests). */
  readonly owners: ReplicaOwners;
}

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export function createKubeReconcilePorts(options: KubeReconcilePortsOptions): KubeReconcilePorts {
  const apis = kubeApis(options.kubeConfig);
  const call = { clock: options.clock, timeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS };
  const owners = new ReplicaOwners({
    kubeConfig: options.kubeConfig,
    watch: options.watch ?? new Watch(options.kubeConfig),
    namespaces: options.namespaces ?? [],
    clock: options.clock,
    logger: options.logger.child({ part: "replica-owners" }),
    ...(options.informers === undefined ? {} : { informers: options.informers }),
  });
  return {
    name: "reconcile-ports",
    owners,
    start: (signal) => owners.start(signal),
    stop: () => owners.stop(),
    scale: new KubeScaleTarget({ apps: apis.apps, owners, call, deployments: options.inventory }),
    costs: new KubePodCosts({ core: apis.core, inventory: options.inventory, call }),
    draining: new KubeDraining({ core: apis.core, inventory: options.inventory, call }),
    status: new KubeStatusSink({ custom: apis.custom, inventory: options.inventory, call, logger: options.logger, registry: options.registry }),
    events: new KubeEventSink({ inventory: options.inventory, recorder: options.events }),
    ...(options.resolver === undefined ? {} : { routes: new KubeRouteSwitch({ custom: apis.custom, call, resolver: options.resolver }) }),
  };
}
