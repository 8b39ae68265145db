/**
 * What a stream writes: a response body encoded once by the cache and
 * shared by every stream sending the same response (see
 * cache/response-body.ts), with a nonce. Streams that send the same body
 * share its nonce too, and with it one encoding of the whole message
 * (ResponseNonces), so writing it to a thousand streams copies it only
 * where grpc-js frames it, as for any pre-encoded message. A stream that
 * has already been sent that nonce gets one of its own, made into bytes
 * only when grpc-js writes it, so a response waiting in a stream's queue
 * holds no bytes of its own.
 */
import { withNonce } from "../cache/wire.js";

export interface OutgoingResponse {
  /** DiscoveryResponse / DeltaDiscoveryResponse without its nonce (shared). */
  readonly body: Buffer;
  readonly nonce: string;
  /** `body` with `nonce`, when that nonce is shared: encoded once for every stream that sends it. */
  readonly message?: Buffer | undefined;
}

/** The message bytes: the shared message, or the shared body then this stream's `nonce = 5` field (a new buffer). */
export function serializeResponse(response: OutgoingResponse): Buffer {
  return response.message ?? withNonce(response.body, response.nonce);
}

/** A response to write, and its nonce's place in the server's sequence. */
export interface NoncedResponse {
  readonly seq: number;
  readonly response: OutgoingResponse;
}

/**
 * The server's nonces: decimal numbers from one increasing sequence. A
 * body gets a number the first time a stream sends it; every stream that
 * sends it later gets the same nonce and the same encoded message, unless
 * that stream has been sent that number or a later one for the type (the
 * same body again, e.g. a name subscribed anew): then it gets a fresh
 * number. So the nonces one stream gets for one type strictly increase and
 * never repeat, which is all ACK matching needs (only the latest counts).
 */
export class ResponseNonces {
  #last = 0;
  readonly #shared = new WeakMap<Buffer, NoncedResponse>();

  /** The response for `body` to a stream whose latest nonce of the type is number `after` (0: none yet). */
  response(body: Buffer, after: number): NoncedResponse {
    let shared = this.#shared.get(body);
    if (shared === undefined) {
      const seq = ++this.#last;
      const nonce = String(seq);
      shared = { seq, response: { body, nonce, message: withNonce(body, nonce) } };
      this.#shared.set(body, shared);
    }
    if (shared.seq > after) return shared;
    const seq = ++this.#last;
    return { seq, response: { body, nonce: String(seq) } };
  }
}
