import type { EncodedResource } from "../cache/encoded-resource.js";

export interface NackRecord {
  /** The version the client rejected (what we sent with that nonce). */
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: number;
}

/**
 * Per stream and type: what was sent and not yet confirmed, what the client
 * ACKed, and its last NACK. Responses sent before the latest one are folded
 * into it, because only a request carrying the latest nonce counts (older
 * nonces are stale and ignored).
 */
export class AckState {
  lastNonce: string | undefined;
  lastSentVersion: string | undefined;
  lastSentAt: number | undefined;
  ackedVersion: string | undefined;
  ackedAt: number | undefined;
  lastNack: NackRecord | undefined;
  readonly #acked = new Map<string, EncodedResource>();
  #pending: { replace: boolean; upserts: Map<string, EncodedResource>; removed: Set<string> } | undefined;

  /**
   * Records a response. `replace` (state of the world): the response is the
   * whole of what the client should hold; otherwise (delta) it applies
   * `upserted` and `removed` on top of what it holds.
   */
  sent(nonce: string, version: string, at: number, upserted: readonly EncodedResource[], removed: readonly string[], replace: boolean): void {
    this.lastNonce = nonce;
    this.lastSentVersion = version;
    this.lastSentAt = at;
    if (replace || !this.#pending) this.#pending = { replace, upserts: new Map(), removed: new Set() };
    const p = this.#pending;
    for (const r of upserted) {
      p.upserts.set(r.name, r);
      p.removed.delete(r.name);
    }
    for (const name of removed) {
      p.upserts.delete(name);
      p.removed.add(name);
    }
  }

  /** The client accepted the latest response: it now holds what was pending. */
  ack(version: string, at: number): void {
    const p = this.#pending;
    this.#pending = undefined;
    this.ackedVersion = version;
    this.ackedAt = at;
    if (!p) return;
    if (p.replace) this.#acked.clear();
    for (const name of p.removed) this.#acked.delete(name);
    for (const [name, r] of p.upserts) this.#acked.set(name, r);
  }

  /** The client rejected the latest response and keeps what it had ACKed before. */
  nack(record: NackRecord): void {
    this.#pending = undefined;
    this.lastNack = record;
  }

  /** The version of `name` this client has ACKed, if any. */
  acked(name: string): EncodedResource | undefined {
    return this.#acked.get(name);
  }

  get ackedCount(): number {
    return this.#acked.size;
  }
}
