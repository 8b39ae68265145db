import { errorMessage } from "./errors.js";

/**
 * Stands in for a gRPC message whose bytes did not decode. A service
 * definition whose deserializer returns it instead of throwing lets the
 * handler refuse and count the message, where grpc-js would end the call with
 * INTERNAL, as if the fault were ours.
 */
export class UndecodableMessage {
  constructor(readonly reason: string) {}
}

/** Wraps a generated decoder so that it never throws (the reason is cut to 200 characters). */
export function decodeOrUndecodable<T>(decode: (bytes: Uint8Array) => T): (value: Buffer) => T | UndecodableMessage {
  return (value) => {
    try {
      return decode(value);
    } catch (err) {
      return new UndecodableMessage(errorMessage(err).slice(0, 200));
    }
  };
}
