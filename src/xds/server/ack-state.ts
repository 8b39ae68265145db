import type { EncodedResource } from "../cache/encoded-resource.js";
import { LayeredMap } from "../cache/layered-map.js";

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
 *
 * Memory: what was ACKed is kept as the snapshot map the stream is in step
 * with plus its differences (LayeredMap), and pending responses as the
 * shared arrays they were sent from, so a thousand streams in step share
 * one copy.
 */
export class AckState {
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

  /**
   * Records a response. `replace` (state of the world): the response is the
   * whole of what the client should hold; otherwise (delta) it applies
   * `upserted` and `removed` on top of what it holds. `from` is the
   * snapshot's map of the type the response was computed against, if any:
   * the base the ACKed state is re-expressed over.
   */
  sent(
    nonce: string,
    version: string,
    at: number,
    upserted: readonly EncodedResource[],
    removed: readonly string[],
    replace: boolean,
    from?: ReadonlyMap<string, EncodedResource>,
  ): void {
    this.lastNonce = nonce;
    this.lastSentVersion = version;
    this.lastSentAt = at;
    if (replace || !this.#pending) this.#pending = { replace, parts: [], from };
    this.#pending.parts.push({ upserted, removed });
    this.#pending.from = from;
  }

  /** The client accepted the latest response: it now holds what was pending. */
  ack(version: string, at: number): void {
    const p = this.#pending;
    this.#pending = undefined;
    this.ackedVersion = version;
    this.ackedAt = at;
    if (!p) return;
    if (p.replace) this.#acked.clear();
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

  /** The version of `name` this client has ACKed, if any. */
  acked(name: string): EncodedResource | undefined {
    return this.#acked.get(name);
  }

  get ackedCount(): number {
    return this.#acked.size;
  }
}

/** Responses sent since the last ACK/NACK, as the (shared) arrays they were sent from. */
interface Pending {
  readonly replace: boolean;
  readonly parts: { readonly upserted: readonly EncodedResource[]; readonly removed: readonly string[] }[];
  from: ReadonlyMap<string, EncodedResource> | undefined;
}
