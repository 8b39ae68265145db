/**
 * What a stream writes: a response body encoded once by the cache and
 * shared by every stream sending the same response (see
 * cache/response-body.ts), and this stream's nonce. The ADS service's
 * serializer turns it into bytes only when grpc-js writes it, so a response
 * waiting in a stream's queue holds no bytes of its own.
 */
import { withNonce } from "../cache/wire.js";

export interface OutgoingResponse {
  /** DiscoveryResponse / DeltaDiscoveryResponse without its nonce (shared). */
  readonly body: Buffer;
  readonly nonce: string;
}

/** The message bytes: the shared body, then this stream's `nonce = 5` field (a new buffer). */
export function serializeResponse(response: OutgoingResponse): Buffer {
  return withNonce(response.body, response.nonce);
}
