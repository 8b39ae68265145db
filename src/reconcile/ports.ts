/**
 * The ports the reconciler observes and acts through. Each is small so that
 * a Kubernetes adapter (src/kube/) implements it over one API and a test
 * fake implements it without casts. Every method may reject with a
 * TicketplaneError (the adapters map API errors with toKubeError); the
 * reconciler's work queue retries with backoff, waiting at least
 * `context.retryAfterMs` when the error carries it (a 429's Retry-After).
 */
import type { AppKey, AppSpec, ScalingMetric } from "../config/app-spec.js";
import type { DrainMark } from "../config/pod-annotations.js";
import type { AppStatus } from "./status.js";

export type { DrainMark, DrainedBy } from "../config/pod-annotations.js";

/** Who sets a Deployment's replicas: ticketplane, or an HPA or KEDA ScaledObject that targets it. */
export type ReplicaOwner = "ticketplane" | "hpa" | "keda";

export interface WorkloadRef {
  readonly namespace: string;
  readonly deployment: string;
}

export interface ScaleReading {
  /** `spec.replicas` of the Deployment's scale subresource. */
  readonly replicas: number;
  /** Its resourceVersion, for the optimistic write. */
  readonly resourceVersion: string;
  readonly owner: ReplicaOwner;
}

/** The `scale` subresource of a Deployment, with optimistic concurrency. */
export interface ScaleTarget {
  /** The scale now; undefined when the Deployment does not exist. */
  read(ref: WorkloadRef): Promise<ScaleReading | undefined>;
  /**
   * Sets `spec.replicas` if the scale is still at `resourceVersion`. Rejects
   * with TicketplaneError TP_CONFLICT when it moved on (HTTP 409): the caller
   * re-reads and decides again.
   */
  write(ref: WorkloadRef, replicas: number, resourceVersion: string): Promise<void>;
}

/** `controller.kubernetes.io/pod-deletion-cost` on the pods of an app. */
export interface PodCosts {
  /** The cost each pod of the app carries now; pods without one are absent. */
  read(app: AppKey): Promise<ReadonlyMap<string, number>>;
  /** Sets each named pod's cost; a pod gone meanwhile is skipped, not an error. */
  set(app: AppKey, costs: ReadonlyMap<string, number>): Promise<void>;
}

/** The draining mark on the pods of an app (the inventory turns it into `PodInput.draining`). */
export interface Draining {
  /** The pods of the app marked draining now. */
  read(app: AppKey): Promise<ReadonlyMap<string, DrainMark>>;
  /**
   * Marks a pod draining. Idempotent: a pod already marked keeps its first
   * mark. Resolves false when the pod does not exist.
   */
  mark(app: AppKey, pod: string, mark: DrainMark): Promise<boolean>;
  /** Removes the mark; a pod gone or not marked is not an error. */
  unmark(app: AppKey, pod: string): Promise<void>;
}

/** The TicketedApp status subresource (or wherever a mode shows it). */
export interface StatusSink {
  write(app: AppKey, status: AppStatus): Promise<void>;
}

/** A Kubernetes Event on the app's object. */
export interface AppEvent {
  readonly type: "Normal" | "Warning";
  /** UpperCamelCase, from a closed set (see EVENT_REASONS). */
  readonly reason: EventReason;
  readonly message: string;
}

export const EVENT_REASONS = [
  "ScaledUp",
  "ScaledDown",
  "Draining",
  "ReplicasChangedExternally",
  "DeploymentMissing",
  "MetricUnavailable",
  "ScaleInBlocked",
  "RoutedToResolver",
  "RoutedToApp",
  "VirtualServiceMissing",
  "VirtualServiceMalformed",
] as const;
export type EventReason = (typeof EVENT_REASONS)[number];

export interface EventSink {
  record(app: AppKey, event: AppEvent): Promise<void>;
}

/** The figures the formula and hpa policies scale on; undefined when not measured. */
export interface MetricSource {
  value(app: AppKey, metric: ScalingMetric): number | undefined;
}

/** Where an app's route sends requests: its pods (Serve) or the scale-from-zero resolver (Proxy). */
export type RouteMode = "Serve" | "Proxy";

/** What the app's route object (an Istio VirtualService) says now. */
export type RouteReading =
  | { readonly kind: "found"; readonly mode: RouteMode; readonly resourceVersion: string }
  /** The object or its ticketplane route does not exist. */
  | { readonly kind: "missing"; readonly message: string }
  /** It exists but cannot be flipped (no destination, a shape we do not know); `message` names the field. */
  | { readonly kind: "malformed"; readonly message: string };

/**
 * The route a scale-to-zero app's traffic takes in front of ticketplane (the
 * VirtualService flip). Only the route ticketplane owns changes; everything
 * else in the object is kept.
 */
export interface RouteSwitch {
  /** A live read (never a cache): the reconciler confirms a flip by reading it back. */
  read(app: AppKey, spec: AppSpec): Promise<RouteReading>;
  /**
   * Points the route at `mode`'s destination if the object is still at
   * `resourceVersion`; TicketplaneError TP_CONFLICT when it moved on (the
   * caller re-reads), TP_NOT_FOUND when it is gone.
   */
  write(app: AppKey, spec: AppSpec, mode: RouteMode, resourceVersion: string): Promise<void>;
}

/** Everything the reconciler acts through. */
export interface ReconcilePorts {
  readonly scale: ScaleTarget;
  readonly costs: PodCosts;
  readonly draining: Draining;
  readonly status: StatusSink;
  readonly events: EventSink;
  /** The scale-to-zero route flip; without it an app with minPods 0 goes to zero without one (no resolver in front). */
  readonly routes?: RouteSwitch;
}
