/** Test fixture: an ADS call whose writes complete only when the test says so. Not used by src. */
import { EventEmitter } from "node:events";
import type { AdsCall } from "./ads-service.js";
import { serializeResponse, type OutgoingResponse } from "./response-encoding.js";

/** A call (the port a stream uses; grpc-js's server call is the other implementation) whose writes complete only on `drain()`. */
export class FakeCall<Req = unknown> extends EventEmitter implements AdsCall<Req> {
  readonly written: Buffer[] = [];
  readonly #callbacks: (() => void)[] = [];

  write(r: OutgoingResponse, cb: () => void): boolean {
    this.written.push(serializeResponse(r));
    this.#callbacks.push(cb);
    return true;
  }

  /** Completes every write so far (and any the completions cause). */
  drain(): void {
    while (this.#callbacks.length > 0) this.#callbacks.shift()?.();
  }

  /** Completes the oldest outstanding write. */
  drainOne(): void {
    this.#callbacks.shift()?.();
  }

  get outstanding(): number {
    return this.#callbacks.length;
  }

  end(): void {}
}

