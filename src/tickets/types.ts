/**
 * The public contract of the ticket core (src/tickets). Pure: no I/O; time
 * comes from a Clock given at construction, randomness from an injected source.
 * authz, xds and the standalone runtime use the core only through these types.
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";

/** A pod as the ticket core sees it. */
export interface PodInput {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Kubernetes/file readiness. */
  readonly ready: boolean;
  /** Draining pods keep their tickets but get no new ones. */
  readonly draining?: boolean;
  /** Belongs to the canary Deployment. */
  readonly canary?: boolean;
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
}

/** What the client presented: the ticket cookie and the queue cookie, both optional. */
export interface Credentials {
  readonly ticketToken?: string;
  readonly queueToken?: string;
}

/** Why a presented ticket token was not accepted. */
export type TicketRejection = "malformed" | "forged" | "unknown_key" | "expired" | "wrong_app" | "pod_gone" | "released";

export type Admission =
  /** The presented ticket is valid: route to its pod. */
  | { readonly kind: "valid"; readonly ticket: TicketView; readonly pod: PodView }
  /** A new ticket was issued (the presented one, if any, was rejected for `replaced`). */
  | { readonly kind: "issued"; readonly ticket: TicketView; readonly pod: PodView; readonly token: string; readonly replaced?: TicketRejection }
  /** No free slot: the client waits at `position` (1-based) and keeps its place with `queueToken`. */
  | { readonly kind: "queued"; readonly position: number; readonly length: number; readonly queueToken: string; readonly retryAfterMs: number }
  /** No free slot and the queue is full (or the app has no pods and cannot scale). */
  | { readonly kind: "refused"; readonly reason: "queue_full" | "no_capacity"; readonly retryAfterMs: number }
  | { readonly kind: "unknown_app" };

export interface AppFigures {
  readonly app: AppKey;
  readonly pods: number;
  /** Pods that can take new tickets: ready, not draining, routable. */
  readonly servingPods: number;
  readonly capacity: number;
  readonly used: number;
  readonly free: number;
  readonly queued: number;
  readonly desiredPods: number;
  /** Tickets issued since start (k8sticket_users_total). */
  readonly issuedTotal: number;
}

export type OfficeChange =
  | { readonly kind: "issued"; readonly app: AppKey; readonly ticket: TicketView }
  | { readonly kind: "released"; readonly app: AppKey; readonly ticket: TicketView; readonly reason: "idle" | "lifetime" | "pod_gone" | "app_removed" | "spec_changed" }
  | { readonly kind: "queue"; readonly app: AppKey }
  | { readonly kind: "pods"; readonly app: AppKey }
  | { readonly kind: "apps" };

/** A signing key. Tokens carry the key id; every key in the ring verifies, only `active` signs. */
export interface SigningKey {
  readonly id: string;
  readonly secret: Uint8Array;
}

export interface KeyRing {
  readonly active: string;
  readonly keys: readonly SigningKey[];
}

/** The ticket core facade: every app's ledger and queue. Not thread-safe by design (one event loop). */
export interface TicketDesk {
  /** Replace the set of apps; removed apps release their tickets; changed specs keep tickets that still fit. */
  setApps(specs: readonly AppSpec[]): void;
  /** Replace an app's pods as observed. Pods that vanish release their tickets. */
  setPods(app: AppKey, pods: readonly PodInput[]): void;
  /** Set by the xDS side once every connected gateway of the app's node group has ACKed the pod (make before use). */
  setRoutable(app: AppKey, pod: string, routable: boolean): void;
  /** The Check decision: validate the ticket, or issue one, or queue. Refreshes activity on success. */
  admit(app: AppKey, credentials: Credentials): Admission;
  /** Request-level activity on a ticket (by ticket id). Unknown ids are ignored. */
  touch(app: AppKey, ticketId: string): void;
  /** A long-lived connection (keyed by request id) opened / closed on a ticket. */
  openConnection(app: AppKey, ticketId: string, connectionId: string): void;
  closeConnection(connectionId: string): void;
  /** Release idle and expired tickets, expire queue reservations, hand freed slots to the queue. */
  sweep(): readonly OfficeChange[];
  pods(app: AppKey): readonly PodView[];
  tickets(app: AppKey): readonly TicketView[];
  figures(app: AppKey): AppFigures | undefined;
  apps(): readonly AppSpec[];
  /** Listeners are called synchronously after each change. Returns an unsubscribe function. */
  subscribe(listener: (change: OfficeChange) => void): () => void;
  /** JSON-safe state for persistence. */
  snapshot(): DeskSnapshot;
  /** Restore tickets and queue from a snapshot taken earlier; returns what could not be restored and why. */
  restore(snapshot: DeskSnapshot): RestoreReport;
}

export interface DeskSnapshot {
  readonly version: 1;
  readonly savedAt: number;
  readonly tickets: readonly TicketView[];
  readonly queue: readonly { readonly app: AppKey; readonly id: string; readonly enqueuedAt: number; readonly lastSeenAt: number }[];
  readonly issuedTotal: Readonly<Record<AppKey, number>>;
}

export interface RestoreReport {
  readonly restoredTickets: number;
  readonly restoredQueue: number;
  readonly dropped: readonly { readonly id: string; readonly reason: string }[];
}
