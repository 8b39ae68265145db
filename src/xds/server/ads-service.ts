/**
 * The ADS service definition for grpc-js: requests decode through the
 * generated types (a SotW request's resource names only when read: see
 * sotw-request.ts), and bytes that do not decode arrive as an
 * UndecodableMessage (the stream refuses and counts it) rather than a throw;
 * a response is a shared, already-encoded body and a nonce (see
 * response-encoding.ts), made into bytes only when grpc-js writes it.
 */
import type * as grpc from "@grpc/grpc-js";
import { AggregatedDiscoveryServiceService } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import type { DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { DeltaDiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { decodeOrUndecodable, type UndecodableMessage } from "../../common/undecodable.js";
import { serializeResponse, type OutgoingResponse } from "./response-encoding.js";
import { decodeSotwRequest } from "./sotw-request.js";

/** Clients of this definition (tests, tools) get the raw response bytes. */
const rawResponse = (b: Buffer): OutgoingResponse => ({ body: b, nonce: "" });

const sotw = AggregatedDiscoveryServiceService.streamAggregatedResources;
const delta = AggregatedDiscoveryServiceService.deltaAggregatedResources;

export const adsServiceDefinition = {
  streamAggregatedResources: {
    path: sotw.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: sotw.requestSerialize,
    requestDeserialize: decodeOrUndecodable(decodeSotwRequest),
    responseSerialize: serializeResponse,
    responseDeserialize: rawResponse,
  },
  deltaAggregatedResources: {
    path: delta.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: delta.requestSerialize,
    requestDeserialize: decodeOrUndecodable((bytes) => DeltaDiscoveryRequest.decode(bytes)),
    responseSerialize: serializeResponse,
    responseDeserialize: rawResponse,
  },
} as const satisfies grpc.ServiceDefinition;

/**
 * What an ADS stream uses of its call: requests in, responses out with a
 * callback when the transport has taken them, end, and an error status.
 * grpc-js's server duplex stream satisfies it; so does a test's call that
 * controls when writes complete, without a cast.
 */
export interface AdsCall<Req> {
  on(event: "data", listener: (request: Req) => void): unknown;
  on(event: "end" | "cancelled" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: unknown) => void): unknown;
  /** `cb` runs once the transport has taken the bytes (back-pressure counts them until then). */
  write(response: OutgoingResponse, cb: () => void): boolean;
  end(): void;
  /** Ends the call with this status (grpc-js: an "error" carrying code and details). */
  emit(event: "error", status: { readonly code: number; readonly details: string }): boolean;
}

export type SotwCall = AdsCall<DiscoveryRequest | UndecodableMessage>;
export type DeltaCall = AdsCall<DeltaDiscoveryRequest | UndecodableMessage>;

export interface AdsImplementation extends grpc.UntypedServiceImplementation {
  streamAggregatedResources: grpc.handleBidiStreamingCall<DiscoveryRequest | UndecodableMessage, OutgoingResponse>;
  deltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaDiscoveryRequest | UndecodableMessage, OutgoingResponse>;
}
