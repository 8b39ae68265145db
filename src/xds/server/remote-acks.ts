/**
 * Make before use across replicas, on the owner: other replicas' gateways
 * as the routability tracker sees them. A replica reports, per node group,
 * its connected gateways and the pods every one of them has ACKed; here
 * each (replica, group) becomes one stand-in stream, so a pod of that group
 * becomes routable for new tickets only once that replica's gateways have
 * ACKed it too (or the tracker's bounded ACK wait passes, as for a local
 * gateway). A report replaces the replica's previous one: a group it no
 * longer lists (its gateways went away) leaves. A replica that stops
 * reporting for `expireMs` (on the Clock) leaves entirely.
 */
import type { Clock, Timer } from "../../common/clock.js";
import type { Logger } from "../../common/logger.js";
import type { EncodedResource } from "../cache/encoded-resource.js";
import type { AckingStream, LocalAckState, RoutabilityTracker } from "./routability.js";

/** A replica's report for one group (what LocalAckState says on the sending replica). */
export type ReportedAcks = LocalAckState;

class RemoteGateways implements AckingStream {
  readonly nodeId: string;
  #pods: ReadonlySet<string>;
  gateways: readonly string[];

  constructor(
    readonly group: string,
    replica: string,
    state: ReportedAcks,
  ) {
    this.nodeId = `replica ${replica}`;
    this.#pods = new Set(state.ackedPods);
    this.gateways = state.gateways;
  }

  update(state: ReportedAcks): void {
    this.#pods = new Set(state.ackedPods);
    this.gateways = state.gateways;
  }

  acked(): EncodedResource | undefined {
    return undefined;
  }

  readonly ackedPod = (podKey: string): boolean => this.#pods.has(podKey);
}

interface Reporter {
  readonly groups: Map<string, RemoteGateways>;
  expiry: Timer;
}

export interface RemoteAcksOptions {
  readonly tracker: RoutabilityTracker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A replica silent this long is forgotten (default 3 s: a few of its 1 s heartbeats). */
  readonly expireMs?: number;
}

export class RemoteAcks {
  readonly #o: RemoteAcksOptions;
  readonly #reporters = new Map<string, Reporter>();

  constructor(options: RemoteAcksOptions) {
    this.#o = options;
  }

  /** Applies `replica`'s report (see the module doc). */
  apply(replica: string, groups: readonly ReportedAcks[]): void {
    const { tracker } = this.#o;
    let r = this.#reporters.get(replica);
    if (r === undefined) {
      r = { groups: new Map(), expiry: this.#expiry(replica) };
      this.#reporters.set(replica, r);
      this.#o.logger.info("xds: another replica reports its gateways' ACKs", { replica });
    } else {
      r.expiry.cancel();
      r.expiry = this.#expiry(replica);
    }
    const listed = new Set<string>();
    for (const state of groups) {
      listed.add(state.group);
      const known = r.groups.get(state.group);
      if (known === undefined) {
        const stream = new RemoteGateways(state.group, replica, state);
        r.groups.set(state.group, stream);
        tracker.streamJoined(stream);
        tracker.streamAcked(stream);
      } else {
        known.update(state);
        tracker.streamAcked(known);
      }
    }
    for (const [group, stream] of [...r.groups]) {
      if (listed.has(group)) continue;
      r.groups.delete(group);
      tracker.streamLeft(stream);
    }
  }

  /** Per replica: the groups it reported and their gateways (for /api/xds). */
  status(): { replica: string; groups: { group: string; gateways: readonly string[] }[] }[] {
    return [...this.#reporters].map(([replica, r]) => ({ replica, groups: [...r.groups.values()].map((s) => ({ group: s.group, gateways: s.gateways })) }));
  }

  /** Forgets every replica (their stand-ins leave) and clears timers. */
  close(): void {
    for (const replica of [...this.#reporters.keys()]) this.#forget(replica);
  }

  #expiry(replica: string): Timer {
    const ms = this.#o.expireMs ?? 3_000;
    return this.#o.clock.setTimeout(() => {
      this.#o.logger.warn("xds: a replica stopped reporting its gateways' ACKs; they no longer hold pods back", { replica, silentMs: ms });
      this.#forget(replica);
    }, ms);
  }

  #forget(replica: string): void {
    const r = this.#reporters.get(replica);
    if (r === undefined) return;
    r.expiry.cancel();
    this.#reporters.delete(replica);
    for (const stream of r.groups.values()) this.#o.tracker.streamLeft(stream);
  }
}
