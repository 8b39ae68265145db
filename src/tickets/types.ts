/**
 * The data the ticket core (src/tickets) takes and hands out. Pure: no I/O;
 * time comes from a Clock given at construction, randomness from an injected
 * source. The interfaces other parts use it through are in ports.ts.
 */
import type { AppKey } from "../config/app-spec.js";
import type { TicketClaims } from "./ticket-token.js";

export type { KeyRing, SigningKey } from "../config/key-ring.js";

/** A pod as an inventory observes it (the config file, an informer, a local process). */
export interface PodInput {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The inventory's readiness (Kubernetes readiness, the file's `ready`, a probe). */
  readonly ready: boolean;
  /** Being removed: keeps its tickets, gets no new ones. */
  readonly draining?: boolean;
  /** Belongs to the canary Deployment. */
  readonly canary?: boolean;
}

/** A pod as the ticket core holds it. See pod-state.ts for what the state words mean. */
/** Where a pod is reached: what the gateways' clusters and endpoints are built from. */
export interface PodAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface PodView extends Required<PodInput> {
  /** Every connected gateway of the app's node group has ACKed this pod's cluster, endpoints and route. */
  readonly routable: boolean;
  readonly slots: number;
  readonly used: number;
  /** When the pod last held no ticket (ms), or undefined while it holds one. */
  readonly idleSince?: number;
}

export interface TicketView {
  readonly id: string;
  readonly app: AppKey;
  readonly pod: string;
  readonly slot: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly lastActiveAt: number;
  /** Long-lived connections (WebSockets) open on this ticket; while > 0 the ticket never goes idle. */
  readonly openConnections: number;
  /** The id of the key that signed the ticket's token (absent in snapshots older than key ids). */
  readonly keyId?: string;
  /**
   * The holder came back (presented the cookie, or its WebSocket opened).
   * Until then the ticket is on probation and is released after
   * `ticket.probation`. Absent in older snapshots: treated as confirmed.
   */
  readonly confirmed?: boolean;
  /** Who the ticket was issued to (an address), for the per-client limit. */
  readonly client?: string;
}

export interface QueueView {
  readonly id: string;
  /** 1-based place in line. */
  readonly position: number;
  /** A freed slot is held for this entry. */
  readonly reserved: boolean;
}

/** A place in line as the ledger keeps it (the snapshot's and the journal's form). */
export interface QueuedView {
  readonly id: string;
  /** When the client was first turned away: the line's order. */
  readonly enqueuedAt: number;
  readonly lastSeenAt: number;
  readonly client?: string;
}

/**
 * What the client presented: every value of the ticket cookie and of the
 * queue cookie (a browser may send several cookies of one name: other paths,
 * sibling domains, junk), and who the client is.
 */
export interface Credentials {
  readonly ticketTokens?: readonly string[];
  readonly queueTokens?: readonly string[];
  /** The client's address, for the per-client limits; undefined: not limited. */
  readonly client?: string;
}

/** Why a presented ticket token was not accepted. */
export type TicketRejection = "malformed" | "forged" | "unknown_key" | "expired" | "wrong_app" | "pod_gone" | "released" | "unknown_app";

/** The outcome of verifying a ticket token. */
export type Verification =
  /** The ticket holds a slot now: route to its pod. (`kind` lets it stand as an Admission without a copy.) */
  | { readonly ok: true; readonly kind: "valid"; readonly ticket: TicketView; readonly pod: PodView }
  /** No token was presented. */
  | { readonly ok: false; readonly reason: "absent" }
  /** A token was presented and is not valid; `claims` when its signature was good (e.g. expired). */
  | { readonly ok: false; readonly reason: TicketRejection; readonly claims?: TicketClaims };

export type Rejected = Extract<Verification, { ok: false }>;

/** What the allocator is asked for a request that holds no valid ticket. */
export interface AllocationRequest {
  /** The queue cookie's values; the first that names a waiting entry of this app is the client's place. */
  readonly queueTokens?: readonly string[];
  /** The client's address, for the per-client limits. */
  readonly client?: string;
  /** Why the request holds no valid ticket; an expired ticket's slot is freed at once. */
  readonly rejected: Rejected;
  /**
   * The ticket cookie's values as presented. The ticket core does not read
   * them (`rejected` says what they were worth here); an allocator that
   * forwards to the app's owner sends them on, and the owner verifies them
   * against its own ledger, which may hold a ticket this replica has not seen yet.
   */
  readonly ticketTokens?: readonly string[];
}

/** The allocator's answer. */
export type Allocation =
  /** A new ticket was issued (the presented one, if any, was rejected for `replaced`). */
  | { readonly kind: "issued"; readonly ticket: TicketView; readonly pod: PodView; readonly token: string; readonly replaced?: TicketRejection }
  /** No free slot: the client waits at `position` (1-based) and keeps its place with `queueToken`. */
  | {
      readonly kind: "queued";
      readonly position: number;
      readonly length: number;
      readonly queueToken: string;
      readonly retryAfterMs: number;
      /** How long the wait probably is at this position, from the app's recent releases (ReleaseHistory); absent when too little is known. */
      readonly estimatedWaitMs?: number;
    }
  /**
   * No free slot and the queue is full, or the app has no pods and cannot get
   * any, or this client already holds as many tickets or queue places as
   * `limits` allows, or (`no_owner`) this replica may not allocate for the
   * app now (it does not own it, or its ledger is not rebuilt yet).
   */
  | { readonly kind: "refused"; readonly reason: RefusalReason; readonly retryAfterMs: number }
  | { readonly kind: "unknown_app" }
  /**
   * Forwarded only: a presented ticket holds a slot on the app's owner (this
   * replica's view has not caught up): route to its pod as if it had verified
   * here. The ticket core itself never answers it.
   */
  | { readonly kind: "held"; readonly ticket: TicketView; readonly pod: PodView };

/**
 * Why no slot and no place in line: the queue is full; the app has no pods
 * and cannot get any; this client's limit; or (forwarded only) the app's
 * owner could not be asked in time — fail closed: never a local slot;
 * or (`no_owner`) this replica may not allocate and has no owner to ask.
 */
export type RefusalReason = "queue_full" | "no_capacity" | "client_limit" | "no_owner" | "owner_unavailable";

/** Check's decision on the ticket side: a valid ticket, or what the allocator answered. */
export type Admission = Extract<Verification, { ok: true }> | Allocation;

/** A value now, or later (an allocator that forwards to another replica answers later). */
export type MaybePromise<T> = T | Promise<T>;

export interface AppFigures {
  readonly app: AppKey;
  readonly pods: number;
  /** Pods that take new tickets (see pod-state.ts). */
  readonly servingPods: number;
  /** Slots on every pod of the app: used + free + slots on pods that take no new tickets. */
  readonly capacity: number;
  /** Tickets held. */
  readonly used: number;
  /** Of those, tickets still on probation (their holder has not come back yet). */
  readonly onProbation: number;
  /** Free slots on serving pods: what new users can get now. */
  readonly free: number;
  readonly queued: number;
  readonly desiredPods: number;
  /** Tickets issued since the ledger began (k8sticket_users_total). */
  readonly issuedTotal: number;
}

export type ReleaseReason = "probation" | "idle" | "lifetime" | "pod_gone" | "app_removed" | "spec_changed" | "key_removed" | "superseded";

/** What changed in the ticket core; listeners get these synchronously after each change. */
export type TicketCoreEvent =
  | { readonly kind: "issued"; readonly app: AppKey; readonly ticket: TicketView }
  /** A ticket's holder came back: its probation is over. */
  | { readonly kind: "confirmed"; readonly app: AppKey; readonly ticket: TicketView }
  | { readonly kind: "released"; readonly app: AppKey; readonly ticket: TicketView; readonly reason: ReleaseReason }
  /** The app's line changed: who joined and who left (ids) since the last event, for the ledger journal; reservations changed too. */
  | { readonly kind: "queue"; readonly app: AppKey; readonly joined: readonly QueuedView[]; readonly left: readonly string[] }
  | { readonly kind: "pods"; readonly app: AppKey }
  | { readonly kind: "apps" };

/** Every app's ledger and queue, JSON-safe, as a ledger store keeps it. */
export interface LedgerSnapshot {
  readonly version: 1;
  readonly savedAt: number;
  readonly tickets: readonly TicketView[];
  readonly queue: readonly { readonly app: AppKey; readonly id: string; readonly enqueuedAt: number; readonly lastSeenAt: number; readonly client?: string }[];
  readonly issuedTotal: Readonly<Record<AppKey, number>>;
}

export interface RestoreReport {
  readonly restoredTickets: number;
  readonly restoredQueue: number;
  readonly dropped: readonly { readonly id: string; readonly reason: string }[];
}
