/**
 * The ticket core's faces, narrow so that each caller depends on what it
 * uses and a fake can implement one without casts:
 *
 * - verify    any replica: is this token a ticket that holds a slot now?
 *             Reads only (signature, pod, released-or-not); never allocates.
 * - allocate  the owner of the app only: issue, queue, release.
 * - activity  requests and WebSocket open/close as the gateways report them.
 * - inventory apps and pods from an inventory, routability from the xDS server.
 * - views     read-only figures and lists, and the event stream.
 * - ledger    snapshot and restore, for a ledger store.
 * TicketCore implements all of them; Check composes verify and allocate
 * through `admit` (admit.ts).
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type {
  AllocationRequest,
  Allocation,
  AppFigures,
  KeyRing,
  LedgerSnapshot,
  MaybePromise,
  PodInput,
  PodAddress,
  PodView,
  QueueView,
  RestoreReport,
  TicketCoreEvent,
  TicketView,
  Verification,
} from "./types.js";

export interface TicketVerifier {
  /** Verifies the ticket token presented for `app` (undefined or "": none). Never throws. */
  verify(app: AppKey, token: string | undefined): Verification;
}

export interface TicketAllocator {
  /**
   * A request that holds no valid ticket: issue one, queue it, or refuse.
   * The ticket core answers at once; an allocator that forwards the call to
   * the app's owner (src/replicas/) answers with a promise that never rejects.
   */
  allocate(app: AppKey, request: AllocationRequest): MaybePromise<Allocation>;
  /** Releases idle and expired tickets, expires queue reservations, hands freed slots to the queue. */
  sweep(): readonly TicketCoreEvent[];
}

export interface ActivityRecorder {
  /** Request-level activity on a ticket. Unknown ids are ignored. */
  touch(app: AppKey, ticketId: string): void;
  /** A long-lived connection (keyed by request id) opened on a ticket. */
  openConnection(app: AppKey, ticketId: string, connectionId: string): void;
  /** …and closed: the close is activity, the idle timeout counts from here. */
  closeConnection(connectionId: string): void;
}

export interface TicketInventory {
  /** Replaces the set of apps; removed apps release their tickets; changed specs keep tickets that still fit. */
  setApps(specs: readonly AppSpec[]): void;
  /** Replaces an app's pods as observed. Pods that vanish release their tickets. */
  setPods(app: AppKey, pods: readonly PodInput[]): void;
  /** Set by the xDS server once every connected gateway of the app's node group has ACKed the pod (make before use). */
  setRoutable(app: AppKey, pod: string, routable: boolean): void;
}

export interface TicketViews {
  /** The apps served; the ticket core answers the same array until they change (specOf indexes it once). */
  apps(): readonly AppSpec[];
  /** Pods sorted by name (copies). */
  pods(app: AppKey): readonly PodView[];
  /** Each pod's name and address, sorted by name: the same array until a pod of the app comes, goes or moves (an unknown app: an empty one). */
  podAddresses(app: AppKey): readonly PodAddress[];
  tickets(app: AppKey): readonly TicketView[];
  /** Queue entries in line order (first = head). */
  queue(app: AppKey): readonly QueueView[];
  figures(app: AppKey): AppFigures | undefined;
  /** Listeners are called synchronously after each change. Returns an unsubscribe function. */
  subscribe(listener: (event: TicketCoreEvent) => void): () => void;
}

export interface LedgerAccess {
  /** Every app's ledger and queue, JSON-safe. */
  snapshot(): LedgerSnapshot;
  /**
   * Makes the ledgers of `apps` (default: every app) those of a snapshot
   * read from storage, after the apps and pods are in: the owner's rebuild,
   * a follower's mirror. The argument is untrusted (`unknown`): every entry
   * is checked; what does not fit is dropped and reported; a ticket held
   * here that the snapshot does not hold as it is held here is released
   * (`superseded`), so never two tickets on one slot.
   */
  restore(snapshot: unknown, apps?: readonly AppKey[]): RestoreReport;
}

export interface KeyHolder {
  /**
   * Rotates keys: tokens signed by a key still in the ring keep verifying;
   * new tokens use `active`; tickets signed by a key no longer in the ring
   * are released (no token of theirs can verify any more).
   * Throws TicketplaneError(INVALID_CONFIG) for an unusable ring.
   */
  setKeys(ring: KeyRing): void;
}

/** What Check needs of the ticket core. */
export type CheckPorts = TicketVerifier & TicketAllocator & ActivityRecorder;

/** What `admit` composes: verify, activity and allocate. */
export type AdmitPorts = TicketVerifier & ActivityRecorder & Pick<TicketAllocator, "allocate">;

/** `admit`'s ports with an allocator that answers at once (the ticket core itself). */
export type ImmediateCheckPorts = TicketVerifier & ActivityRecorder & { allocate(app: AppKey, request: AllocationRequest): Allocation };
