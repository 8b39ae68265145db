import type { Clock, Timer } from "../../common/clock.js";
import type { Logger } from "../../common/logger.js";
import type { EncodedResource } from "../cache/encoded-resource.js";
import type { PodCarriers, Snapshot } from "../cache/snapshot.js";
import { TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import type { XdsMetrics } from "./metrics.js";

/** What the routability tracker needs to know of a connected stream. */
export interface AckingStream {
  readonly group: string;
  readonly nodeId: string;
  /** The version of (typeUrl, name) this stream's client has ACKed. */
  acked(typeUrl: TypeUrl, name: string): EncodedResource | undefined;
  /**
   * Set on the stand-in for another replica's gateways of the group
   * (remote-acks.ts): whether every one of them has ACKed everything that
   * carries the pod, as that replica reported. Local streams leave it unset.
   */
  readonly ackedPod?: (podKey: string) => boolean;
}

/** One group's local gateways and the pods all of them have ACKed (what a replica reports to the owner). */
export interface LocalAckState {
  readonly group: string;
  readonly gateways: readonly string[];
  readonly ackedPods: readonly string[];
}

export type RoutableListener = (group: string, podKey: string, routable: boolean) => void;

/** The three types whose ACK makes a pod routable. */
const GATING_TYPES: readonly TypeUrl[] = [TYPE_URLS.cluster, TYPE_URLS.endpoints, TYPE_URLS.routes];

interface Pending {
  readonly waiting: Set<AckingStream>;
  readonly deadline: number;
  /** What carries the pod in the group's current snapshot (undefined: nothing names it), found once per snapshot rather than on every stream's every ACK. */
  carriers: PodCarriers | undefined;
}

interface GroupState {
  snapshot: Snapshot | undefined;
  readonly streams: Set<AckingStream>;
  readonly routable: Set<string>;
  readonly pending: Map<string, Pending>;
  timer: Timer | undefined;
}

export interface RoutabilityOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: XdsMetrics;
  /** Bounded wait for a gateway that never ACKs (default 5000 ms). */
  readonly ackTimeoutMs?: number;
}

/**
 * Make before use. A pod (key `<ns>/<app>/<pod>`) is routable for a node
 * group once every stream of the group connected while it waited has ACKed,
 * for each of Cluster, ClusterLoadAssignment and RouteConfiguration, a
 * version of every resource of that type that carries the pod
 * (EncodedResource.carries: its own Cluster and ClusterLoadAssignment by
 * BuiltResource.pods, the RouteConfiguration by the app prefixes it routes,
 * BuiltResource.apps). So a pod of a new app waits for the route table
 * that routes its app, not only for its cluster and endpoints. With no
 * stream connected it is routable at once.
 * After `ackTimeoutMs` it is declared routable anyway, with a warning and
 * `ticketplane_xds_ack_timeout_total{group}`. Groups are independent.
 * A pod dropped from the snapshot is reported not routable.
 *
 * Time: deadlines and the timer that calls `sweep()` both come from the
 * Clock, so a fake clock drives the ACK wait in tests.
 */
export class RoutabilityTracker {
  readonly #groups = new Map<string, GroupState>();
  readonly #listeners = new Set<RoutableListener>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: XdsMetrics;
  readonly #timeoutMs: number;

  constructor(options: RoutabilityOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#timeoutMs = options.ackTimeoutMs ?? 5_000;
  }

  onRoutable(listener: RoutableListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  isRoutable(group: string, podKey: string): boolean {
    return this.#groups.get(group)?.routable.has(podKey) ?? false;
  }

  pendingPods(group: string): string[] {
    return [...(this.#groups.get(group)?.pending.keys() ?? [])];
  }

  snapshotChanged(group: string, snapshot: Snapshot): void {
    const g = this.#group(group);
    const touched = g.snapshot ? snapshot.podsTouchedSince(g.snapshot) : undefined;
    g.snapshot = snapshot;
    // Only the pods the change touched, and those still pending, can change state; without that knowledge, every pod.
    const candidates = touched ? new Set([...touched, ...g.pending.keys()]) : new Set([...snapshot.pods(), ...g.routable, ...g.pending.keys()]);
    const deadline = this.#clock.now() + this.#timeoutMs;
    for (const pod of candidates) {
      if (!snapshot.hasPod(pod)) {
        g.pending.delete(pod);
        if (g.routable.delete(pod)) this.#emit(group, pod, false);
        continue;
      }
      if (g.routable.has(pod)) continue;
      const existing = g.pending.get(pod);
      const waiting = existing?.waiting ?? new Set(g.streams);
      const carriers = snapshot.carriersOf(pod);
      if (existing) existing.carriers = carriers;
      for (const s of [...waiting]) if (satisfied(s, pod, carriers)) waiting.delete(s);
      if (waiting.size === 0) this.#markRoutable(g, group, pod);
      else if (!existing) g.pending.set(pod, { waiting, deadline, carriers });
    }
    this.#arm(g);
  }

  streamJoined(stream: AckingStream): void {
    const g = this.#group(stream.group);
    g.streams.add(stream);
    for (const [pod, p] of g.pending) if (!satisfied(stream, pod, p.carriers)) p.waiting.add(stream);
  }

  streamLeft(stream: AckingStream): void {
    const g = this.#groups.get(stream.group);
    if (!g) return;
    g.streams.delete(stream);
    for (const [pod, p] of [...g.pending]) {
      if (!p.waiting.delete(stream)) continue;
      if (p.waiting.size === 0) this.#markRoutable(g, stream.group, pod);
    }
    this.#arm(g);
  }

  /** Re-checks the pods this stream was holding back (call after it ACKs). */
  streamAcked(stream: AckingStream): void {
    const g = this.#groups.get(stream.group);
    // Nothing waits in the steady state: every ACK of every stream passes here.
    if (!g?.snapshot || g.pending.size === 0) return;
    for (const [pod, p] of [...g.pending]) {
      if (!p.waiting.has(stream) || !satisfied(stream, pod, p.carriers)) continue;
      p.waiting.delete(stream);
      if (p.waiting.size === 0) this.#markRoutable(g, stream.group, pod);
    }
    this.#arm(g);
  }

  /**
   * Per group with at least one local stream (another replica's stand-ins
   * not counted): its node ids and the pods of the group's snapshot that every
   * one of those streams has ACKed. O(pods × streams): called every few
   * hundred ms by a follower's reporter, not per request.
   */
  localAckState(): LocalAckState[] {
    const out: LocalAckState[] = [];
    for (const [group, g] of this.#groups) {
      const local = [...g.streams].filter((s) => s.ackedPod === undefined);
      if (local.length === 0 || g.snapshot === undefined) continue;
      const snapshot = g.snapshot;
      const ackedPods = [...snapshot.pods()]
        .filter((pod) => {
          const carriers = snapshot.carriersOf(pod);
          return local.every((s) => satisfied(s, pod, carriers));
        })
        .sort();
      out.push({ group, gateways: local.map((s) => s.nodeId).sort(), ackedPods });
    }
    return out;
  }

  /** Declares routable every pending pod whose deadline has passed. */
  sweep(): void {
    const now = this.#clock.now();
    for (const [group, g] of this.#groups) {
      for (const [pod, p] of [...g.pending]) {
        if (p.deadline > now) continue;
        this.#metrics.ackTimeouts.inc({ group });
        this.#logger.warn("xds: gateways did not ACK a pod's resources in time; routing to it anyway", {
          group,
          pod,
          waitMs: this.#timeoutMs,
          nodes: [...p.waiting].map((s) => s.nodeId),
        });
        this.#markRoutable(g, group, pod);
      }
      this.#arm(g);
    }
  }

  /** Clears timers; the tracker stays queryable. */
  close(): void {
    for (const g of this.#groups.values()) {
      g.timer?.cancel();
      g.timer = undefined;
    }
  }

  #group(group: string): GroupState {
    let g = this.#groups.get(group);
    if (!g) this.#groups.set(group, (g = { snapshot: undefined, streams: new Set(), routable: new Set(), pending: new Map(), timer: undefined }));
    return g;
  }

  #markRoutable(g: GroupState, group: string, pod: string): void {
    g.pending.delete(pod);
    g.routable.add(pod);
    this.#emit(group, pod, true);
  }

  #emit(group: string, pod: string, routable: boolean): void {
    for (const listener of [...this.#listeners]) listener(group, pod, routable);
  }

  /** Keeps one timer per group while it has pending pods. */
  #arm(g: GroupState): void {
    if (g.pending.size === 0) {
      g.timer?.cancel();
      g.timer = undefined;
      return;
    }
    if (g.timer) return;
    let earliest = Infinity;
    for (const p of g.pending.values()) earliest = Math.min(earliest, p.deadline);
    const delay = Math.max(1, Math.min(this.#timeoutMs, earliest - this.#clock.now()));
    g.timer = this.#clock.setTimeout(() => {
      g.timer = undefined;
      this.sweep();
    }, delay);
  }
}

function satisfied(stream: AckingStream, pod: string, byType: PodCarriers | undefined): boolean {
  if (stream.ackedPod !== undefined) return stream.ackedPod(pod);
  if (!byType) return true;
  for (const typeUrl of GATING_TYPES) {
    for (const name of byType.get(typeUrl) ?? []) {
      if (!stream.acked(typeUrl, name)?.carries(pod)) return false;
    }
  }
  return true;
}
