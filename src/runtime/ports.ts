/**
 * The seam between the mode-neutral runtime and a mode. A mode (standalone
 * file, Kubernetes, local processes) is a set of adapters behind these
 * ports; the runtime (ticket core, Check and access-log servers, xDS server,
 * admin server) is the same in every mode. app.ts plugs one mode in.
 */
import type { Runnable } from "../common/runnable.js";
import type { AppKey } from "../config/app-spec.js";
import type { HostPort } from "../config/address.js";
import type { GatewayConfig, ListenConfig, UnmatchedPolicy } from "../config/config-file.js";
import type { SpecError } from "../config/app-spec.js";
import type { LedgerAccess, TicketInventory, TicketViews } from "../tickets/ports.js";
import type { LedgerRecord } from "../tickets/ledger-journal.js";
import type { KeyRing, LedgerSnapshot } from "../tickets/types.js";

/** Where apps and their pods come from: the watched config file, Kubernetes informers, local processes. */
export interface Inventory extends Runnable {
  /** Where apps and pods go. Called once, before `start`. */
  feed(target: Pick<TicketInventory, "setApps" | "setPods">): void;
  /** `start` resolves only after the current apps and pods are in the target; changes follow as they happen. */
  start(signal: AbortSignal): Promise<void>;
  /** Why the inventory makes the process not ready (empty when fine). */
  readinessReasons(): readonly string[];
  /** Re-reads the source now (SIGHUP). Never rejects: failures are logged and shown in readiness. */
  reload(): Promise<void>;
}

/** The settings of the gateway listener we configure over xDS, and their changes. */
export interface GatewaySource {
  current(): GatewayConfig;
  /** Called after the settings changed. Returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** What a ledger store found when it loaded. */
export type LedgerLoad =
  | { readonly kind: "missing" }
  /** `snapshot` is untrusted: the ticket core checks every entry when it restores it. */
  | { readonly kind: "loaded"; readonly snapshot: unknown; readonly savedAt: number }
  /** The stored ledger is not ours (corrupt, foreign, a future version): kept aside for inspection, never trusted. */
  | { readonly kind: "set-aside"; readonly reason: string; readonly movedTo: string };

/**
 * Where the ledger is stored: a state file, objects in the API server. A
 * store keeps a snapshot and a journal of what changed since: appending an
 * issue costs O(1) whatever the size of the ledger, and a compaction (a new
 * snapshot) now and then bounds the journal.
 */
export interface LedgerStore {
  /** What and where, for log lines and /api/config ("state file /var/lib/tp/tp.state.json"). */
  readonly description: string;
  /**
   * Claims the store for this process (a lock file, a Lease) before anything
   * is read. Rejects (TP_CONFLICT) naming the holder when another process has it.
   */
  acquire(): Promise<void>;
  /**
   * Reads the stored ledger: the snapshot with the journal replayed over it
   * (replayJournal). Bad content is a returned value; I/O failures reject (TP_IO).
   */
  load(): Promise<LedgerLoad>;
  /** Appends records to the journal, durably. Rejects (TP_IO) when it cannot. */
  append(records: readonly LedgerRecord[]): Promise<void>;
  /** Compaction: stores the whole ledger atomically, then empties the journal. Rejects (TP_IO) when it cannot. */
  save(snapshot: LedgerSnapshot, apps: readonly AppKey[]): Promise<void>;
  /** Gives the claim up (after the last save). Idempotent. */
  release(): Promise<void>;
}

/** Where a follower's mirror puts the owner's ledger: the ticket core's restore, and its events (apps and pods arriving). */
export type MirrorTarget = Pick<LedgerAccess, "restore"> & Pick<TicketViews, "subscribe">;

/**
 * A follower's copy of the owner's ledger (Kubernetes: the ledger
 * ConfigMaps, watched), so every replica verifies tickets from local state:
 * a ticket released or reassigned on the owner stops validating here too.
 */
export interface LedgerMirror extends Runnable {
  /** Where mirrored ledgers go, and whether to apply them (false once this replica owns the ledger). Called once, before `start`. */
  feed(target: MirrorTarget, follow: () => boolean): void;
  /** `start` resolves once the stored ledgers are read and applied. */
  start(signal: AbortSignal): Promise<void>;
  /** True once the stored ledgers have been read and applied. */
  synced(): boolean;
  /** Why the mirror may be stale (empty when fine). */
  readinessReasons(): readonly string[];
}

/** Where the key ring is read from, and what the admin API may say about it (never a secret). */
export interface KeySourceView {
  readonly kind: string;
  readonly [detail: string]: string | number | boolean | undefined;
}

export type KeyLoad =
  | { readonly ok: true; readonly ring: KeyRing; readonly source: KeySourceView; readonly notes?: readonly string[] }
  | { readonly ok: false; readonly where: string; readonly errors: readonly SpecError[] };

/** Where signing keys come from: a keys file (or a generated key), a Secret. */
export interface KeyProvider {
  /** Reads the ring. Bad content and unreadable sources are returned values, never thrown. */
  load(): Promise<KeyLoad>;
}

/** Whether this replica leads (acts as the owner of every app). */
export interface Leadership {
  /** True while this replica leads. */
  isLeader(): boolean;
  /** Resolves once this replica leads; at once where there is one replica. */
  readonly elected: Promise<void>;
  /** Aborted when this replica stops leading; leader-only parts must stop acting, and the process exits. */
  readonly lost: AbortSignal;
  /**
   * Gives the lead up now (a Lease: released, so a successor takes over at
   * once). The manager calls it on the way out, after the leader-only parts
   * stopped (the ledger's final save) and before the servers drain; from
   * then on `isLeader()` is false. Absent where there is one replica.
   */
  release?(): Promise<void>;
}

/** The one replica of standalone and local modes: always the leader. */
export function soleReplica(): Leadership {
  return { isLeader: () => true, elected: Promise.resolve(), lost: new AbortController().signal };
}

/**
 * Who allocates for an app (issue, queue, release): this replica, another
 * replica reachable at `address` (its internal peer API), or nobody known
 * right now (no holder, or its address unknown: callers fail closed).
 */
export type AppOwner =
  | { readonly kind: "self" }
  | { readonly kind: "peer"; readonly address: string; readonly identity: string }
  | { readonly kind: "unknown"; readonly reason: string };

/**
 * The ownership seam. Today one Lease makes its holder the owner of every
 * app; the seam takes an app so that apps can later hash into buckets with a
 * Lease each (Knative's bucketed leader election) without changing callers.
 * `ownerOf` is called on Check's path: it must answer from memory, at once.
 */
export interface AppOwnership {
  ownerOf(app: AppKey): AppOwner;
}

/** The one replica of standalone and local modes owns every app. */
export function soleOwnership(): AppOwnership {
  const self: AppOwner = { kind: "self" };
  return { ownerOf: () => self };
}

/**
 * A mode that runs as several replicas (Kubernetes): who owns each app, and
 * where this replica serves the internal peer API (src/replicas/). Absent:
 * one replica owns everything and no peer port is opened.
 */
export interface ReplicaSettings {
  readonly ownership: AppOwnership;
  /** Where the peer API listens (`listen.peer`). */
  readonly listen: HostPort;
  /** This replica's name for peers' logs (the Lease identity). */
  readonly identity: string;
  /** Called once the peer port is bound, with the bound port: the mode then advertises `host:port` to peers (the Lease annotation). */
  onPeerBound?(port: number): void;
}

/** The addresses the runtime's servers bound. */
export interface BoundAddresses {
  readonly authz: string;
  readonly accessLog: string;
  readonly xds: string;
  readonly admin: string;
}

/** Status the runtime shows about the parts behind the ports, for a mode's /api/config view. */
export interface RuntimeStatus {
  readonly keys: unknown;
  readonly ledger: unknown;
}

/** What the runtime hands a mode's extra parts. */
export interface RuntimeHooks {
  /** Re-reads the signing keys (what SIGHUP does); never rejects. */
  reloadKeys(): Promise<void>;
  /** The addresses the runtime's servers bound (known once they listen: read it in a part's `start`). */
  addresses(): BoundAddresses;
}

/**
 * The parts a mode runs besides its inventory, and where they go in the
 * start order (Kubernetes mode: the Lease, the key Secret's watcher, the
 * Event recorder).
 */
export interface ModeParts {
  /** Started before every other part and stopped after all of them (the Lease: the ledger's final save still holds it). */
  readonly first?: readonly Runnable[];
  /** Started after the inventory on every replica. */
  everyReplica?(hooks: RuntimeHooks): readonly Runnable[];
  /** Leader-only, started after the sweeper and before the reconciler, so they stop after it (the Event recorder flushes what it recorded). */
  readonly leaderOnly?: readonly Runnable[];
  /** Started after every other part, so the servers they connect to listen; stopped first (local mode: the dev gateway). */
  last?(hooks: RuntimeHooks): readonly Runnable[];
}

/** Each app's route mode as the gateway routes should show it, and when any changes. */
export interface RouteModes {
  /** "proxy": the app's traffic without a ticket goes to the resolver (no Check at the gateway); "serve": to its pods through Check. */
  mode(app: AppKey): "serve" | "proxy";
  /** Called after any app's mode changed; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

/** One mode's adapters, as app.ts plugs them into the runtime. */
export interface Mode {
  readonly name: string;
  readonly listen: ListenConfig;
  readonly inventory: Inventory;
  readonly gateway: GatewaySource;
  readonly ledgerStore: LedgerStore;
  /** Several replicas: how followers keep a copy of the owner's ledger (none where one replica is all there is). */
  readonly ledgerMirror?: LedgerMirror;
  readonly keys: KeyProvider;
  readonly leadership: Leadership;
  /** The inventory can add pods (a reconciler scales); false where pods are only listed. */
  readonly canAddPods: boolean;
  /** Trusted proxies in front of the gateways, for telling clients apart (0: the connection's source address). */
  readonly trustedHops: number;
  /** What Check answers for a request of no ticketed app (absent: `deny`, a 404). */
  readonly unmatched?: UnmatchedPolicy;
  /** Parts beyond the inventory (none by default). */
  readonly parts?: ModeParts;
  /** Several replicas: ownership and the peer API (absent: this replica owns every app). */
  readonly replicas?: ReplicaSettings;
  /**
   * Where the gateways themselves send an app at zero (local mode: the dev
   * gateway's route goes to the resolver, as a flipped VirtualService does
   * in Istio). Absent: the gateways' routes never change with the mode.
   */
  readonly routeModes?: RouteModes;
  /**
   * Each app's mode as the entry point in front of Check routes it, where
   * that is not our own route table (Kubernetes: the app's Istio
   * VirtualService, as every replica's informer sees it). Check lets every
   * request of an app in "proxy" through untouched, to the resolver. Absent:
   * `routeModes` (our routes are the entry point), else every app serves.
   */
  readonly entryModes?: RouteModes;
  /** `GET /api/config`: the mode's settings in force, with the runtime's key and ledger status. */
  configView(status: RuntimeStatus): unknown;
  /** Lines for a person once everything listens (stderr). */
  nextSteps(addresses: BoundAddresses): readonly string[];
}

/** One replica change the reconciler made, and why (the reconciler's ScaleDecision). */
export interface ScaleDecisionView {
  /** RFC 3339. */
  readonly time: string;
  readonly deployment: string;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

/**
 * What the reconciler tells the views about each app (where a reconciler
 * runs): its mode as its status last said, and its recent scale decisions.
 */
export interface ScaleViews {
  /** Serve, or Proxy (scaled to zero: the resolver holds requests); undefined before the first reconcile. */
  mode(app: AppKey): "Serve" | "Proxy" | undefined;
  /** The recent scale decisions written, newest last (bounded). */
  recentDecisions(app: AppKey): readonly ScaleDecisionView[];
}
