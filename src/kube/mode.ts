/**
 * Kubernetes mode: apps and pods come from the cluster (KubeInventory over
 * informers); the ledger store, the key provider and the leadership are
 * injected, so the API-server ledger store, the Secret key provider and the
 * Lease plug in here without the mode knowing which it was given. The
 * gateway listener settings are fixed at start (flags or the process
 * config file).
 */
import { Watch } from "@kubernetes/client-node";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { formatHostPort } from "../config/address.js";
import { formatSpecError } from "../config/app-spec.js";
import { CHECK_DEFAULTS, type GatewayConfig, type ListenConfig, type UnmatchedPolicy } from "../config/config-file.js";
import type { BoundAddresses, KeyProvider, Leadership, LedgerMirror, LedgerStore, Mode, ReplicaSettings, RuntimeStatus } from "../runtime/ports.js";
import type { KubeConnection } from "./client.js";
import type { WatchPort } from "./informer.js";
import { KubeInventory } from "./inventory.js";
import type { InformerTuning } from "./inventory.js";
import { kubeApis } from "./resources.js";

export interface KubernetesModeOptions {
  readonly connection: KubeConnection;
  /** The namespaces watched; empty: every namespace. */
  readonly namespaces: readonly string[];
  readonly listen: ListenConfig;
  readonly gateway: GatewayConfig;
  readonly trustedHops: number;
  /** What Check answers for a request of no ticketed app (absent: `deny`). */
  readonly unmatched?: UnmatchedPolicy;
  readonly ledgerStore: LedgerStore;
  /** Followers' copy of the owner's ledger (KubeControlPlane.ledgerMirror). */
  readonly ledgerMirror?: LedgerMirror;
  readonly keys: KeyProvider;
  readonly leadership: Leadership;
  /** The control plane's own objects (namespace, Lease and its holder, ledger, keys), for `/api/config`. */
  readonly control?: () => unknown;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly informers?: InformerTuning;
  /** The watch transport (default: client-node's Watch on the connection). */
  readonly watch?: WatchPort;
  /** Several replicas: who owns each app (leaseOwnership) and the peer API's settings. */
  readonly replicas?: ReplicaSettings;
}

/** "namespaces shop, web" or "every namespace", for startup lines. */
export function describeNamespaces(namespaces: readonly string[]): string {
  return namespaces.length === 0 ? "every namespace" : `namespace${namespaces.length === 1 ? "" : "s"} ${namespaces.join(", ")}`;
}

export function createKubernetesMode(options: KubernetesModeOptions): Mode & { readonly inventory: KubeInventory } {
  const { connection, namespaces, clock } = options;
  const logger = options.logger.child({ component: "kubernetes" });
  const inventory = new KubeInventory({
    apis: kubeApis(connection.kubeConfig),
    watch: options.watch ?? new Watch(connection.kubeConfig),
    namespaces,
    clock,
    logger,
    ...(options.informers === undefined ? {} : { informers: options.informers }),
  });
  return {
    name: "kubernetes",
    listen: options.listen,
    inventory,
    // Fixed for the life of the process: there is nothing to watch.
    gateway: { current: () => options.gateway, subscribe: () => () => undefined },
    ledgerStore: options.ledgerStore,
    ...(options.ledgerMirror === undefined ? {} : { ledgerMirror: options.ledgerMirror }),
    keys: options.keys,
    leadership: options.leadership,
    // Pods come and go with the Deployment's replicas (a reconciler, an HPA, a person): queue users rather than refuse them.
    canAddPods: true,
    trustedHops: options.trustedHops,
    ...(options.unmatched === undefined ? {} : { unmatched: options.unmatched }),
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
    configView: (status) => configView(options, inventory, status),
    nextSteps: (addresses) => nextSteps(options, inventory, addresses),
  };
}

function configView(options: KubernetesModeOptions, inventory: KubeInventory, status: RuntimeStatus): unknown {
  const { connection } = options;
  return {
    mode: "kubernetes",
    cluster: { server: connection.server, context: connection.context, source: connection.source },
    namespaces: options.namespaces.length === 0 ? "all" : options.namespaces,
    ...(options.control === undefined ? {} : { controlPlane: options.control() }),
    inForce: {
      listen: { authz: formatHostPort(options.listen.authz), xds: formatHostPort(options.listen.xds), accessLog: formatHostPort(options.listen.accessLog), admin: formatHostPort(options.listen.admin) },
      gateway: options.gateway,
      clientAddress: { trustedHops: options.trustedHops },
      check: { unmatched: options.unmatched ?? CHECK_DEFAULTS.unmatched },
      apps: inventory.apps().map((a) => ({ app: a.key, definedBy: a.definedBy, deployment: a.deployment, ...(a.canaryDeployment === undefined ? {} : { canaryDeployment: a.canaryDeployment }), disabled: a.disabled })),
    },
    invalidApps: inventory.invalidApps().map((i) => ({ ...i.object, errors: i.errors.map((e) => ({ path: e.path, value: e.value, rule: e.rule, message: formatSpecError(e) })) })),
    watches: inventory.readinessReasons(),
    ledgerStore: options.ledgerStore.description,
    keys: status.keys,
    ledger: status.ledger,
  };
}

function nextSteps(options: KubernetesModeOptions, inventory: KubeInventory, addresses: BoundAddresses): string[] {
  const apps = inventory.apps();
  const invalid = inventory.invalidApps();
  return [
    "",
    `ticketplane is watching ${options.connection.server} (context ${options.connection.context}) in ${describeNamespaces(options.namespaces)}: ${apps.length} app${apps.length === 1 ? "" : "s"}${invalid.length === 0 ? "" : `, ${invalid.length} invalid (see /api/config)`}.`,
    `  gateways: point Envoy's ADS at ${addresses.xds}; ext_authz Check is on ${addresses.authz}`,
    `  look inside: curl http://${addresses.admin}/api/apps   (readiness: /readyz; the Lease and its holder: /api/config)`,
    "",
  ];
}
