/**
 * One app's slot ledger: its pods, their `ticketsPerPod` slots, and the
 * tickets bound to them. Invariant: a slot is held by at most one ticket, and
 * `tickets` holds exactly the tickets that hold a slot. The ledger decides
 * nothing about queues or activity; the ticket core drives it.
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { PodRecord } from "./pod-record.js";
import { ServingPods } from "./serving-pods.js";
import { TicketRecord } from "./ticket-record.js";
import type { PodAddress, PodInput, TicketView } from "./types.js";
import { byName } from "../common/by-name.js";

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
  /** Serving pods with free slots, so issuing never scans the fleet. */
  readonly #serving = new ServingPods();
  #slots = 0;
  #onProbation = 0;
  #spec: AppSpec;
  /** podsByName() and addresses(), kept until a pod comes or goes. */
  #byName: readonly PodRecord[] | undefined;
  #addresses: readonly PodAddress[] | undefined;

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
      this.#slots += spec.ticketsPerPod - pod.slots;
      pod.resize(spec.ticketsPerPod);
      this.#serving.update(pod);
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
      this.#podsChanged();
      this.#serving.remove(pod);
      this.#slots -= pod.slots;
      changed = true;
    }
    for (const [name, input] of next) {
      const pod = this.pods.get(name);
      if (pod === undefined) {
        const added = new PodRecord(input, this.#spec.ticketsPerPod, routableByDefault, now);
        this.pods.set(name, added);
        this.#podsChanged();
        this.#slots += added.slots;
        this.#serving.update(added);
        changed = true;
      } else if (pod.update(input)) {
        this.#serving.update(pod);
        changed = true;
      }
    }
    return { released, changed };
  }

  /**
   * Every pod's name and address, sorted by name: the same (frozen) array
   * until a pod comes, goes or moves, so that what is built from it can be
   * kept while it is the same (a pod's address never changes in place: a
   * pod at a new address is a new PodRecord).
   */
  addresses(): readonly PodAddress[] {
    this.#addresses ??= Object.freeze(this.podsByName().map((p): PodAddress => Object.freeze({ name: p.name, host: p.host, port: p.port })));
    return this.#addresses;
  }

  /** Every pod, sorted by name: the same array until a pod comes, goes or moves (callers must not change it). */
  podsByName(): readonly PodRecord[] {
    this.#byName ??= [...this.pods.values()].sort(byName);
    return this.#byName;
  }

  #podsChanged(): void {
    this.#byName = undefined;
    this.#addresses = undefined;
  }

  /** True when the flag changed. Unknown pods are ignored. */
  setRoutable(name: string, routable: boolean): boolean {
    const pod = this.pods.get(name);
    if (pod === undefined || pod.routable === routable) return false;
    pod.routable = routable;
    this.#serving.update(pod);
    return true;
  }

  /** Slots on every pod, serving or not. */
  capacity(): number {
    return this.#slots;
  }

  /** Free slots on serving pods (of one group when `canary` is given). O(1). */
  freeSlots(canary?: boolean): number {
    return this.#serving.free(canary);
  }

  /**
   * The pod a new ticket goes to: among serving pods with a free slot (of one
   * group when `canary` is given), the one with the fewest free slots, ties by
   * name. Packing users this way lets idle pods empty out and be removed.
   */
  choosePod(canary?: boolean): PodRecord | undefined {
    return this.#serving.best(canary);
  }

  /** Tickets `client` holds now. */
  heldBy(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  /** Binds a new ticket (on probation), signed with key `keyId`, to the lowest free slot of `pod`. */
  bind(pod: PodRecord, id: string, keyId: string, now: number, client: string | undefined): TicketRecord {
    const slot = pod.firstFreeSlot();
    if (slot < 0 || this.tickets.has(id)) throw new Error(`cannot bind ticket ${id} to pod ${pod.name}`);
    const t = new TicketRecord({ id, app: this.key, pod: pod.name, slot, issuedAt: now, expiresAt: now + this.#spec.ticket.maxLifetimeMs, lastActiveAt: now, keyId, confirmed: false, client }, pod);
    this.#hold(pod, t);
    return t;
  }

  /** Frees the ticket's slot at once. */
  release(t: TicketRecord, now: number): void {
    if (this.tickets.get(t.id) !== t) throw new Error(`ticket ${t.id} is not in ledger ${this.key}`);
    this.tickets.delete(t.id);
    if (!t.confirmed) this.#onProbation--;
    const pod = this.pods.get(t.pod);
    if (pod !== undefined) {
      pod.drop(t, now);
      this.#serving.update(pod);
    }
    if (t.client === undefined) return;
    const left = this.heldBy(t.client) - 1;
    if (left > 0) this.#perClient.set(t.client, left);
    else this.#perClient.delete(t.client);
  }

  #hold(pod: PodRecord, t: TicketRecord): void {
    pod.hold(t);
    this.#serving.update(pod);
    this.tickets.set(t.id, t);
    if (!t.confirmed) this.#onProbation++;
    if (t.client !== undefined) this.#perClient.set(t.client, this.heldBy(t.client) + 1);
  }

  /** Tickets still on probation. O(1). */
  onProbation(): number {
    return this.#onProbation;
  }

  /** Activity on `t`: its holder is there. True when this ended its probation. */
  activate(t: TicketRecord, now: number): boolean {
    const first = !t.confirmed;
    if (first) this.#onProbation--;
    t.active(now);
    return first;
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
