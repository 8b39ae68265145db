/**
 * What one reconcile of an app sees, gathered fresh every time (level-
 * triggered: never the event that caused the run), and what the reconciler
 * remembers between runs. Plain data; the plan (plan.ts) is a pure function
 * of the two.
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { DrainedBy } from "../config/pod-annotations.js";
import type { PodLoad, ScaleHistory } from "../tickets/index.js";
import type { RouteReading, ScaleReading, WorkloadRef } from "./ports.js";
import type { AppStatus, ScaleDecision } from "./status.js";

/** The app's Deployment, or its canary Deployment. */
export type Role = "stable" | "canary";

export interface ObservedWorkload {
  readonly role: Role;
  readonly ref: WorkloadRef;
  /** Undefined: the Deployment does not exist. */
  readonly scale: ScaleReading | undefined;
}

export interface ObservedPod extends PodLoad {
  readonly role: Role;
  /** Who marked it draining, when `drainSince` is set. */
  readonly drainedBy?: DrainedBy;
  /** Its pod-deletion-cost now, if it has one. */
  readonly cost?: number;
}

export interface Observed {
  readonly app: AppKey;
  readonly spec: AppSpec;
  readonly now: number;
  readonly workloads: readonly ObservedWorkload[];
  readonly pods: readonly ObservedPod[];
  readonly queued: number;
  /** Free slots on serving pods. */
  readonly free: number;
  /** The value of `spec.scaling.metric` (formula, hpa). */
  readonly metric?: number;
  /** The app's route (VirtualService), read for apps with minPods 0 when a RouteSwitch is given. */
  readonly route?: RouteReading;
  /** The resolver holds a request for the app (asked for its first pod within the hold timeout). */
  readonly woken?: boolean;
  /** The resolver's probe found a pod of the app answering since the route last went to the resolver. */
  readonly servingConfirmed?: boolean;
}

export interface WorkloadMemory {
  readonly history: ScaleHistory;
  /** The replicas last known to be ours (written, or adopted at the first run): a different reading means someone else changed them. */
  readonly baseline?: number;
  /** No replica write before this (ms): set when someone else changed replicas. */
  readonly holdUntil?: number;
  /** Pods removed by lowering replicas that the inventory may still list: not counted, never undrained. */
  readonly removing: readonly string[];
}

export interface AppMemory {
  readonly workloads: Readonly<Partial<Record<Role, WorkloadMemory>>>;
  readonly lastScale?: ScaleDecision;
  /** The status last written (so an unchanged one is not written again). */
  readonly status?: AppStatus;
  /** Warnings in force, by key, so that one problem is one Event, not one per run. */
  readonly warned: readonly string[];
}

export const EMPTY_MEMORY: AppMemory = { workloads: {}, warned: [] };
