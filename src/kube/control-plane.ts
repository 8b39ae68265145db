/**
 * The control plane's own objects in its namespace, as one set: the leader
 * Lease, the ledger ConfigMaps claimed by that Lease, the signing key Secret
 * with its rotation check, and the Event recorder. Wired as
 * docs/kubernetes.md says: the Lease is the first part (it stops last, after
 * the ledger's final save), then its watch (a released Lease is taken at
 * once), the ledger mirror every replica keeps, the key watcher runs on every replica, the Event
 * recorder is leader-only (only the leader acts, so only it records).
 */
import { CoordinationV1Api, CoreV1Api, EventsV1Api, Watch } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { ModeParts } from "../runtime/ports.js";
import { EventRecorder } from "./events.js";
import { LeaseLeadership, type LeadershipStatus, type LeaseTiming } from "./lease-leadership.js";
import { LeaseWatcher } from "./lease-watcher.js";
import { ApiLedgerMirror } from "./ledger-mirror.js";
import { ApiLedgerStore } from "./ledger-store.js";
import { kubeApis } from "./resources.js";
import { SecretKeyProvider, SecretKeyWatcher } from "./secret-keys.js";

/** The control plane's namespace when nothing names one. */
export const DEFAULT_CONTROL_NAMESPACE = "ticketplane-system";
export const DEFAULT_LEASE_NAME = "ticketplane-leader";
export const DEFAULT_KEYS_SECRET = "ticketplane-keys";
/** `reportingController` of the Events ticketplane writes. */
export const REPORTING_CONTROLLER = "ticketplane.dev/controller";

export interface KubeControlPlaneOptions {
  readonly kubeConfig: KubeConfig;
  /** Where the Lease, the ledger ConfigMaps and the key Secret live. */
  readonly namespace: string;
  readonly leaseName: string;
  /** The Lease holder identity (`leaseIdentity(POD_NAME or hostname)`). */
  readonly identity: string;
  readonly keysSecret: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly leaseTiming?: Partial<LeaseTiming>;
  /** How often the key Secret is checked for rotation (default 10 s). */
  readonly keyCheckEveryMs?: number;
  /** This replica's peer API address, written on the Lease while it leads (undefined until bound). */
  readonly peerAddress?: () => string | undefined;
}

export interface KubeControlPlane {
  readonly leadership: LeaseLeadership;
  readonly ledgerStore: ApiLedgerStore;
  /** Every replica's copy of the ledger ConfigMaps (the mode plugs it in; it applies only while this replica follows). */
  readonly ledgerMirror: ApiLedgerMirror;
  readonly keys: SecretKeyProvider;
  readonly events: EventRecorder;
  /** The mode's parts: the Lease first, the key watcher on every replica, the Event recorder leader-only. */
  readonly parts: ModeParts;
  /** For `/api/config` and startup lines. */
  status(): { readonly namespace: string; readonly leadership: LeadershipStatus; readonly ledger: string; readonly keys: string };
}

/**
 * Builds the set. Nothing is called on the API server until the parts
 * start (the Lease campaigns) and the runtime loads keys and the ledger.
 */
export function createKubeControlPlane(options: KubeControlPlaneOptions): KubeControlPlane {
  const { kubeConfig, namespace, clock, registry } = options;
  const part = (component: string): Logger => options.logger.child({ component });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  const leadership = new LeaseLeadership({
    coordination,
    namespace,
    lease: options.leaseName,
    identity: options.identity,
    clock,
    logger: part("lease"),
    registry,
    ...(options.leaseTiming === undefined ? {} : { timing: options.leaseTiming }),
    ...(options.peerAddress === undefined ? {} : { peerAddress: options.peerAddress }),
  });
  // Followers watch the Lease: a released one is taken at once (graceful hand-over in one round trip, not a retry period).
  const leaseWatcher = new LeaseWatcher({ coordination, watch: new Watch(kubeConfig), namespace, lease: options.leaseName, onReleased: () => leadership.nudge(), clock, logger: part("lease") });
  const ledgerStore = new ApiLedgerStore({ core, namespace, claim: leadership, clock, logger: part("ledger-store"), registry });
  const ledgerMirror = new ApiLedgerMirror({ apis: kubeApis(kubeConfig), watch: new Watch(kubeConfig), namespace, clock, logger: part("ledger-mirror"), registry });
  const keys = new SecretKeyProvider({ core, namespace, name: options.keysSecret, clock, logger: part("keys") });
  const events = new EventRecorder({
    events: kubeConfig.makeApiClient(EventsV1Api),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: options.identity,
    defaultNamespace: namespace,
    clock,
    logger: part("events"),
    registry,
  });
  const parts: ModeParts = {
    first: [leadership, leaseWatcher],
    everyReplica: (hooks) => [
      new SecretKeyWatcher({ provider: keys, onChange: () => hooks.reloadKeys(), clock, logger: part("keys"), ...(options.keyCheckEveryMs === undefined ? {} : { everyMs: options.keyCheckEveryMs }) }),
    ],
    leaderOnly: [events],
  };
  return {
    leadership,
    ledgerStore,
    ledgerMirror,
    keys,
    events,
    parts,
    status: () => ({ namespace, leadership: leadership.status(), ledger: ledgerStore.description, keys: keys.where }),
  };
}
