import type { EncodedResource } from "../cache/encoded-resource.js";
import { LayeredMap } from "../cache/layered-map.js";

export interface NackRecord {
  /** The version the client rejected (what we sent with that nonce). */
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: number;
}

/** What one response changes in what the client holds. */
export interface SentChange {
  readonly upserted: readonly EncodedResource[];
  readonly removed: readonly string[];
  /** State of the world: the response replaces what the client holds. */
  readonly replace: boolean;
  /** After this response the client holds exactly this map (shared): holding it costs a pointer. */
  readonly whole?: ReadonlyMap<string, EncodedResource>;
  /** The snapshot's map of the type the response was computed against: the base the ACKed state is re-expressed over. */
  readonly base?: ReadonlyMap<string, EncodedResource>;
}

/**
 * Per stream and type: what was sent and not yet confirmed, what the client
 * ACKed, and its last NACK. Responses sent before the latest one are folded
 * into it, because only a request carrying the latest nonce counts (older
 * nonces are stale and ignored).
 *
 * Memory: what was ACKed is kept as the snapshot map the stream is in step
 * with plus its differences (LayeredMap), and pending responses as the
 * shared arrays they were sent from, so a thousand streams in step share
 * one copy; a response that is a whole snapshot type is taken in O(1).
 */
export class AckState {
  /** The number of the latest nonce sent for the type (ResponseNonces): the next one is larger. */
  nonceSeq = 0;
  /** The client has answered a response of the type (or its first-sync answer wait passed): its writes are no longer first syncs. */
  answered = false;
  lastNonce: string | undefined;
  lastSentVersion: string | undefined;
  lastSentAt: number | undefined;
  ackedVersion: string | undefined;
  ackedAt: number | undefined;
  lastNack: NackRecord | undefined;
  readonly #acked = new LayeredMap<EncodedResource, EncodedResource>(
    (r) => r,
    (a, b) => a === b,
  );
  #pending: Pending | undefined;

  /** Records a response (see SentChange). */
  sent(nonce: string, version: string, at: number, change: SentChange): void {
    this.lastNonce = nonce;
    this.lastSentVersion = version;
    this.lastSentAt = at;
    if (change.whole) {
      // Whatever was pending, the client holds exactly this once it accepts it.
      this.#pending = { whole: change.whole, clear: false, parts: [], from: change.base };
      return;
    }
    if (change.replace || !this.#pending) this.#pending = { whole: undefined, clear: change.replace, parts: [], from: change.base };
    this.#pending.parts.push({ upserted: change.upserted, removed: change.removed });
    this.#pending.from = change.base;
  }

  /** The client accepted the latest response: it now holds what was pending. */
  ack(version: string, at: number): void {
    const p = this.#pending;
    this.#pending = undefined;
    this.ackedVersion = version;
    this.ackedAt = at;
    if (!p) return;
    if (p.whole) this.#acked.resetTo(p.whole);
    else if (p.clear) this.#acked.clear();
    // In send order: a name is upserted or removed within one response, never both.
    for (const part of p.parts) {
      for (const name of part.removed) this.#acked.delete(name);
      for (const r of part.upserted) this.#acked.set(r.name, r);
    }
    this.#acked.rebase(p.from);
  }

  /** The client rejected the latest response and keeps what it had ACKed before. */
  nack(record: NackRecord): void {
    this.#pending = undefined;
    this.lastNack = record;
  }

  /** The client no longer asks for `name` (it dropped it): neither ACKed nor pending any more. */
  forget(name: string): void {
    this.#acked.delete(name);
    if (this.#pending) this.#pending.parts.push({ upserted: [], removed: [name] });
  }

  /** The version of `name` this client has ACKed, if any. */
  acked(name: string): EncodedResource | undefined {
    return this.#acked.get(name);
  }

  get ackedCount(): number {
    return this.#acked.size;
  }

  /** ACKed entries kept privately, not shared through a snapshot map (LayeredMap.privateEntries). */
  get privateEntries(): number {
    return this.#acked.privateEntries;
  }

  /** Whether the ACKed state is kept over `base` (shared with every stream in step with it). */
  ackedOver(base: ReadonlyMap<string, EncodedResource>): boolean {
    return this.#acked.isOver(base);
  }
}

/** Responses sent since the last ACK/NACK, as the (shared) arrays they were sent from. */
interface Pending {
  /** The client holds exactly this map, then `parts`. */
  readonly whole: ReadonlyMap<string, EncodedResource> | undefined;
  /** The client holds nothing but `parts` (a SotW replace that is not a whole map). */
  readonly clear: boolean;
  readonly parts: { readonly upserted: readonly EncodedResource[]; readonly removed: readonly string[] }[];
  from: ReadonlyMap<string, EncodedResource> | undefined;
}
