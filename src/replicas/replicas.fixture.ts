/**
 * Replicas in one process for the peer API's tests: each its own ticket
 * core, registry and ReplicaLink on 127.0.0.1:0, all on one fake clock and
 * one key ring, with an ownership the test sets. Real gRPC between them.
 */
import { Registry } from "prom-client";
import { silentLogger } from "../common/logger.js";
import type { AppKey } from "../config/app-spec.js";
import type { AppOwner, AppOwnership } from "../runtime/ports.js";
import { keyRing, makeSpec, pod, sequentialIds } from "../tickets/tickets.fixture.js";
import { TicketCore } from "../tickets/ticket-core.js";
import type { FakeClock } from "../../test/support/fake-clock.js";
import type { AckSink, AckSource, GroupAckState } from "./ack-state.js";
import { ReplicaLink } from "./replica-link.js";
import type { ResolverSignals } from "./wake-forwarder.js";

export const SPEC = makeSpec({ ticket: { idleTimeoutMs: 60_000, probationMs: 10_000 } });
export const APP: AppKey = "ns/app";
export const RING = keyRing("k1");

/** An ownership the test moves by hand. */
export class SetOwnership implements AppOwnership {
  owner: AppOwner = { kind: "unknown", reason: "not set yet" };
  ownerOf(): AppOwner {
    return this.owner;
  }
}

/** The xDS side a link needs, without an ADS server: reports received, a settable local ACK state. */
export class RecordedAcks implements AckSink, AckSource {
  readonly reports: { replica: string; groups: readonly GroupAckState[] }[] = [];
  local: GroupAckState[] = [];
  applyAckReport(replica: string, groups: readonly GroupAckState[]): void {
    this.reports.push({ replica, groups });
  }
  ackState(): readonly GroupAckState[] {
    return this.local;
  }
}

/** The in-process resolver signals of a replica (its reconciler, in the product): what reached it, in order. */
export class RecordedSignals implements ResolverSignals {
  readonly calls: string[] = [];
  wake(app: AppKey): void {
    this.calls.push(`wake ${app}`);
  }
  serving(app: AppKey): void {
    this.calls.push(`serving ${app}`);
  }
  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }
}

export interface TestReplica {
  readonly name: string;
  readonly core: TicketCore;
  readonly ownership: SetOwnership;
  readonly link: ReplicaLink;
  readonly registry: Registry;
  readonly acks: RecordedAcks;
  readonly signals: RecordedSignals;
}

export async function startReplica(name: string, clock: FakeClock, xds?: AckSink & AckSource): Promise<TestReplica> {
  const core = new TicketCore({ clock, keys: RING, randomId: sequentialIds(name), routableByDefault: true });
  core.setApps([SPEC]);
  core.setPods(APP, [pod("p1"), pod("p2")]);
  const ownership = new SetOwnership();
  const registry = new Registry();
  const acks = new RecordedAcks();
  const signals = new RecordedSignals();
  const link = new ReplicaLink({
    settings: { ownership, listen: { host: "127.0.0.1", port: 0 }, identity: name },
    tickets: core,
    keys: () => RING,
    notReady: () => undefined,
    xds: xds ?? acks,
    resolver: signals,
    clock,
    logger: silentLogger,
    registry,
    // Behaviour, not timing: a shared 2-core machine may take longer than the production deadline.
    forwardDeadlineMs: 5_000,
    wakeDeadlineMs: 5_000,
  });
  await link.start();
  return { name, core, ownership, link, registry, acks, signals };
}

/** Makes `owner` own every app: itself on its own replica, a peer on the others. */
export function ownedBy(owner: TestReplica, ...others: TestReplica[]): void {
  owner.ownership.owner = { kind: "self" };
  for (const r of others) r.ownership.owner = { kind: "peer", address: owner.link.address(), identity: owner.name };
}

/** The value of a counter or gauge with these labels (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return found?.value ?? 0;
}
