/**
 * One app's slot ledger: its pods, their `ticketsPerPod` slots, and the
 * tickets bound to them. Invariant: a slot is held by at most one ticket, and
 * `tickets` holds exactly the tickets that hold a slot. The ledger decides
 * nothing about queues or activity; the ticket core drives it.
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { PodRecord } from "./pod-record.js";
import { TicketRecord } from "./ticket-record.js";
import type { PodInput, TicketView } from "./types.js";

export interface PodsUpdate {
  /** Tickets released because their pod vanished (already out of the ledger). */
  readonly released: readonly TicketRecord[];
  readonly changed: boolean;
}

export class AppLedger {
  readonly key: AppKey;
  readonly pods = new Map<string, PodRecord>();
  readonly tickets = new Map<string, TicketRecord>();
  readonly #perClient = new Map<string, number>();
  #spec: AppSpec;

  constructor(key: AppKey, spec: AppSpec) {
    this.key = key;
    this.#spec = spec;
  }

  get spec(): AppSpec {
    return this.#spec;
  }

  /** Applies a new spec; when ticketsPerPod shrinks, tickets on removed slots are released and returned. */
  setSpec(spec: AppSpec, now: number): TicketRecord[] {
    this.#spec = spec;
    const released: TicketRecord[] = [];
    for (const pod of this.pods.values()) {
      if (pod.slots === spec.ticketsPerPod) continue;
      for (const t of pod.holdersFrom(spec.ticketsPerPod)) {
        this.release(t, now);
        released.push(t);
      }
      pod.resize(spec.ticketsPerPod);
    }
    return released;
  }

  /** Replaces the pod set. New pods start not routable unless `routableByDefault`. */
  setPods(inputs: readonly PodInput[], now: number, routableByDefault: boolean): PodsUpdate {
    const next = new Map<string, PodInput>();
    for (const p of inputs) if (!next.has(p.name)) next.set(p.name, p);
    const released: TicketRecord[] = [];
    let changed = false;
    for (const [name, pod] of this.pods) {
      const input = next.get(name);
      if (input !== undefined && pod.sameAs(input)) continue;
      for (const t of pod.tickets()) {
        this.release(t, now);
        released.push(t);
      }
      this.pods.delete(name);
      changed = true;
    }
    for (const [name, input] of next) {
      const pod = this.pods.get(name);
      if (pod === undefined) {
        this.pods.set(name, new PodRecord(input, this.#spec.ticketsPerPod, routableByDefault, now));
        changed = true;
      } else if (pod.update(input)) {
        changed = true;
      }
    }
    return { released, changed };
  }

  /** True when the flag changed. Unknown pods are ignored. */
  setRoutable(name: string, routable: boolean): boolean {
    const pod = this.pods.get(name);
    if (pod === undefined || pod.routable === routable) return false;
    pod.routable = routable;
    return true;
  }

  /** Slots on every pod, serving or not. */
  capacity(): number {
    let slots = 0;
    for (const pod of this.pods.values()) slots += pod.slots;
    return slots;
  }

  /** Free slots on serving pods (of one group when `canary` is given). */
  freeSlots(canary?: boolean): number {
    let free = 0;
    for (const pod of this.pods.values()) if (pod.serving && (canary === undefined || pod.canary === canary)) free += pod.free;
    return free;
  }

  /**
   * The pod a new ticket goes to: among serving pods with a free slot (of one
   * group when `canary` is given), the one with the fewest free slots, ties by
   * name. Packing users this way lets idle pods empty out and be removed.
   */
  choosePod(canary?: boolean): PodRecord | undefined {
    let best: PodRecord | undefined;
    for (const pod of this.pods.values()) {
      if (!pod.serving || pod.free <= 0 || (canary !== undefined && pod.canary !== canary)) continue;
      if (best === undefined || pod.free < best.free || (pod.free === best.free && pod.name < best.name)) best = pod;
    }
    return best;
  }

  /** Tickets `client` holds now. */
  heldBy(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  /** Binds a new ticket (on probation), signed with key `keyId`, to the lowest free slot of `pod`. */
  bind(pod: PodRecord, id: string, keyId: string, now: number, client: string | undefined): TicketRecord {
    const slot = pod.firstFreeSlot();
    if (slot < 0 || this.tickets.has(id)) throw new Error(`cannot bind ticket ${id} to pod ${pod.name}`);
    const fields = { id, app: this.key, pod: pod.name, slot, issuedAt: now, expiresAt: now + this.#spec.ticket.maxLifetimeMs, lastActiveAt: now, keyId, confirmed: false };
    const t = new TicketRecord(client === undefined ? fields : { ...fields, client }, pod);
    this.#hold(pod, t);
    return t;
  }

  /** Frees the ticket's slot at once. */
  release(t: TicketRecord, now: number): void {
    if (this.tickets.get(t.id) !== t) throw new Error(`ticket ${t.id} is not in ledger ${this.key}`);
    this.tickets.delete(t.id);
    this.pods.get(t.pod)?.drop(t, now);
    if (t.client === undefined) return;
    const left = this.heldBy(t.client) - 1;
    if (left > 0) this.#perClient.set(t.client, left);
    else this.#perClient.delete(t.client);
  }

  #hold(pod: PodRecord, t: TicketRecord): void {
    pod.hold(t);
    this.tickets.set(t.id, t);
    if (t.client !== undefined) this.#perClient.set(t.client, this.heldBy(t.client) + 1);
  }

  /** Tickets still on probation. */
  onProbation(): number {
    let n = 0;
    for (const t of this.tickets.values()) if (!t.confirmed) n++;
    return n;
  }

  /** Puts back a ticket from a snapshot; returns why it cannot be, or the record. */
  restore(v: TicketView): TicketRecord | string {
    const pod = this.pods.get(v.pod);
    if (pod === undefined) return "unknown pod";
    if (!Number.isInteger(v.slot) || v.slot < 0 || v.slot >= pod.slots) return "slot out of range";
    if (this.tickets.has(v.id)) return "duplicate ticket id";
    if (pod.holder(v.slot) !== undefined) return "slot already held";
    const t = new TicketRecord(v, pod);
    this.#hold(pod, t);
    return t;
  }
}
