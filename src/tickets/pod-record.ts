/**
 * One pod in an app's ledger, with its slots. Implements PodView so it can be
 * handed out on the hot path without copying; callers must treat it as
 * read-only and must not keep it (it changes as the ledger does).
 */
import { isServing } from "./pod-state.js";
import type { PodInput, PodView } from "./types.js";
import type { TicketRecord } from "./ticket-record.js";

export class PodRecord implements PodView {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  ready: boolean;
  draining: boolean;
  canary: boolean;
  routable: boolean;
  slots: number;
  used = 0;
  idleSince: number | undefined;
  // Private fields stay out of JSON and object spreads of the view.
  #holders: (TicketRecord | undefined)[];
  /** Every slot below this one is held: where the search for a free slot starts (slots fill from the lowest, so issuing never rescans the held ones). */
  #searchFrom = 0;

  constructor(input: PodInput, slots: number, routable: boolean, now: number) {
    this.name = input.name;
    this.host = input.host;
    this.port = input.port;
    this.ready = input.ready;
    this.draining = input.draining ?? false;
    this.canary = input.canary ?? false;
    this.routable = routable;
    this.slots = slots;
    this.idleSince = now;
    this.#holders = new Array<TicketRecord | undefined>(slots).fill(undefined);
  }

  /** Takes new tickets (pod-state.ts). */
  get serving(): boolean {
    return isServing(this);
  }

  get free(): number {
    return this.slots - this.used;
  }

  /** Same pod as `input` (name and address)? A pod re-created under its old name at a new address is a new pod. */
  sameAs(input: PodInput): boolean {
    return input.host === this.host && input.port === this.port;
  }

  /** Applies readiness, draining and canary from `input`; true when anything changed. */
  update(input: PodInput): boolean {
    const draining = input.draining ?? false;
    const canary = input.canary ?? false;
    const changed = this.ready !== input.ready || this.draining !== draining || this.canary !== canary;
    this.ready = input.ready;
    this.draining = draining;
    this.canary = canary;
    return changed;
  }

  holder(slot: number): TicketRecord | undefined {
    return this.#holders[slot];
  }

  /** Lowest free slot index, or -1. */
  firstFreeSlot(): number {
    for (let i = this.#searchFrom; i < this.slots; i++) {
      if (this.#holders[i] === undefined) {
        this.#searchFrom = i;
        return i;
      }
    }
    this.#searchFrom = this.slots;
    return -1;
  }

  hold(ticket: TicketRecord): void {
    if (this.#holders[ticket.slot] !== undefined) throw new Error(`slot ${ticket.slot} of pod ${this.name} is taken`);
    this.#holders[ticket.slot] = ticket;
    this.used++;
    this.idleSince = undefined;
  }

  drop(ticket: TicketRecord, now: number): void {
    if (this.#holders[ticket.slot] !== ticket) throw new Error(`ticket ${ticket.id} does not hold slot ${ticket.slot} of pod ${this.name}`);
    this.#holders[ticket.slot] = undefined;
    if (ticket.slot < this.#searchFrom) this.#searchFrom = ticket.slot;
    this.used--;
    if (this.used === 0) this.idleSince = now;
  }

  /** Tickets on slots at or beyond `slots` (to release before shrinking). */
  holdersFrom(slots: number): TicketRecord[] {
    return this.#holders.slice(slots).filter((t): t is TicketRecord => t !== undefined);
  }

  /** Changes the slot count; every slot being removed must be empty. */
  resize(slots: number): void {
    if (this.holdersFrom(slots).length > 0) throw new Error(`pod ${this.name} still holds tickets beyond slot ${slots}`);
    this.#holders.length = slots;
    this.#holders.fill(undefined, this.slots);
    this.slots = slots;
  }

  tickets(): TicketRecord[] {
    return this.#holders.filter((t): t is TicketRecord => t !== undefined);
  }

  view(): PodView {
    const v: PodView = {
      name: this.name,
      host: this.host,
      port: this.port,
      ready: this.ready,
      draining: this.draining,
      canary: this.canary,
      routable: this.routable,
      slots: this.slots,
      used: this.used,
    };
    return this.idleSince === undefined ? v : { ...v, idleSince: this.idleSince };
  }
}
