/**
 * Test fixture: a delta ADS stream over a bare HTTP/2 client (node:http2),
 * for a gateway that truly stops reading. grpc-js's client reads a message
 * into its own buffer even while the call is paused, so the server's write
 * completes anyway; here a paused stream consumes nothing, HTTP/2 flow
 * control fills, and the server's write stays in flight until `resume()`.
 * Requests are gRPC-framed DeltaDiscoveryRequests; responses are decoded
 * from their frames. Not used by src.
 */
import * as http2 from "node:http2";
import { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";

const PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

export class RawDeltaStream {
  readonly #session: http2.ClientHttp2Session;
  readonly #stream: http2.ClientHttp2Stream;
  #buffer = Buffer.alloc(0);
  readonly #responses: DeltaDiscoveryResponse[] = [];
  readonly #waiters: ((r: DeltaDiscoveryResponse) => void)[] = [];

  /** `address` as host:port; the stream starts paused when `paused` (nothing is read until `resume()`). */
  constructor(address: string, paused = false) {
    this.#session = http2.connect(`http://${address}`);
    this.#session.on("error", () => undefined); // a cancelled test stream's session error is expected, and the test ends it
    this.#stream = this.#session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers" });
    this.#stream.on("error", () => undefined);
    this.#stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    // After the data listener (which would start the flow): nothing is read until resume().
    if (paused) this.#stream.pause();
  }

  /** A request for `typeUrl` (wildcard), with the node on the first one. */
  send(request: { readonly nodeId?: string; readonly typeUrl: string }): void {
    const msg = DeltaDiscoveryRequest.fromPartial({ typeUrl: request.typeUrl, ...(request.nodeId === undefined ? {} : { node: { id: request.nodeId } }) });
    const body = Buffer.from(DeltaDiscoveryRequest.encode(msg).finish());
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length, 1);
    this.#stream.write(Buffer.concat([head, body]));
  }

  resume(): void {
    this.#stream.resume();
  }

  next(): Promise<DeltaDiscoveryResponse> {
    const r = this.#responses.shift();
    return r ? Promise.resolve(r) : new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resets the stream and closes the connection (a gateway that goes away). */
  cancel(): void {
    this.#stream.close(http2.constants.NGHTTP2_CANCEL);
    this.#session.close();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 5) {
      const len = this.#buffer.readUInt32BE(1);
      if (this.#buffer.length < 5 + len) return;
      const r = DeltaDiscoveryResponse.decode(this.#buffer.subarray(5, 5 + len));
      this.#buffer = this.#buffer.subarray(5 + len);
      const w = this.#waiters.shift();
      if (w) w(r);
      else this.#responses.push(r);
    }
  }
}
