/**
 * One issued ticket bound to one slot. Implements TicketView so the hot path
 * can return it without copying; it is live (lastActiveAt moves), so callers
 * that keep a ticket must take `view()`.
 */
import type { AppKey } from "../config/app-spec.js";
import type { PodRecord } from "./pod-record.js";
import type { TicketView, Verification } from "./types.js";

export class TicketRecord implements TicketView {
  readonly id: string;
  readonly app: AppKey;
  readonly pod: string;
  readonly slot: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly keyId: string | undefined;
  readonly client: string | undefined;
  lastActiveAt: number;
  /** The holder came back; until then the ticket is on probation. */
  confirmed: boolean;
  openConnections = 0;
  #connections: Set<string> | undefined;
  /** Built once so verifying a valid ticket allocates nothing. */
  readonly #verified: Extract<Verification, { ok: true }>;

  constructor(fields: Omit<TicketView, "openConnections">, pod: PodRecord) {
    this.id = fields.id;
    this.app = fields.app;
    this.pod = fields.pod;
    this.slot = fields.slot;
    this.issuedAt = fields.issuedAt;
    this.expiresAt = fields.expiresAt;
    this.lastActiveAt = fields.lastActiveAt;
    this.keyId = fields.keyId;
    this.client = fields.client;
    this.confirmed = fields.confirmed ?? true;
    this.#verified = { ok: true, kind: "valid", ticket: this, pod };
  }

  get verified(): Extract<Verification, { ok: true }> {
    return this.#verified;
  }

  /** Registers a connection id; false if it was already open. */
  addConnection(id: string): boolean {
    this.#connections ??= new Set();
    if (this.#connections.has(id)) return false;
    this.#connections.add(id);
    this.openConnections = this.#connections.size;
    return true;
  }

  removeConnection(id: string): boolean {
    if (this.#connections?.delete(id) !== true) return false;
    this.openConnections = this.#connections.size;
    return true;
  }

  connectionIds(): string[] {
    return this.#connections === undefined ? [] : [...this.#connections];
  }

  /** Activity: the holder is there, so the ticket is firm. */
  active(now: number): void {
    this.lastActiveAt = now;
    this.confirmed = true;
  }

  /** Still on probation `probationMs` after issue: its holder never came back. */
  unclaimed(now: number, probationMs: number): boolean {
    return !this.confirmed && now - this.issuedAt >= probationMs;
  }

  /** Idle: no open connection and no activity for `idleTimeoutMs`. */
  idle(now: number, idleTimeoutMs: number): boolean {
    return this.openConnections === 0 && now - this.lastActiveAt >= idleTimeoutMs;
  }

  view(): TicketView {
    // One literal, optional fields added only when set (a view is built per issue and release): the same keys, in the same order, as a spread would give.
    const v: { -readonly [K in keyof TicketView]: TicketView[K] } = {
      id: this.id,
      app: this.app,
      pod: this.pod,
      slot: this.slot,
      issuedAt: this.issuedAt,
      expiresAt: this.expiresAt,
      lastActiveAt: this.lastActiveAt,
      openConnections: this.openConnections,
      confirmed: this.confirmed,
    };
    if (this.keyId !== undefined) v.keyId = this.keyId;
    if (this.client !== undefined) v.client = this.client;
    return v;
  }
}
