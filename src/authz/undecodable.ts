import { errorMessage } from "../common/errors.js";

/**
 * Stands in for a gRPC message whose bytes did not decode. Our service
 * definitions' deserializers return it instead of throwing, so the handler
 * answers (Check: 400 denial) and counts it rather than grpc-js failing the call.
 */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/** Wraps a generated decoder so that it never throws. */
export function safeDecoder<T>(decode: (bytes: Uint8Array) => T): (value: Buffer) => T | UndecodableRequest {
  return (value) => {
    try {
      return decode(value);
    } catch (err) {
      return new UndecodableRequest(errorMessage(err).slice(0, 200));
    }
  };
}
