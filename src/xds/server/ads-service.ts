/**
 * The ADS service definition for grpc-js: requests decode through the
 * generated types, and bytes that do not decode arrive as an
 * UndecodableMessage (the stream refuses and counts it) rather than a throw;
 * a response is a shared, already-encoded body and a nonce (see
 * response-encoding.ts), made into bytes only when grpc-js writes it.
 */
import type * as grpc from "@grpc/grpc-js";
import { AggregatedDiscoveryServiceService } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import { DeltaDiscoveryRequest, DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { decodeOrUndecodable, type UndecodableMessage } from "../../common/undecodable.js";
import { serializeResponse, type OutgoingResponse } from "./response-encoding.js";

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
    requestDeserialize: decodeOrUndecodable((bytes) => DiscoveryRequest.decode(bytes)),
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

export type SotwCall = grpc.ServerDuplexStream<DiscoveryRequest | UndecodableMessage, OutgoingResponse>;
export type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequest | UndecodableMessage, OutgoingResponse>;

export interface AdsImplementation extends grpc.UntypedServiceImplementation {
  streamAggregatedResources: grpc.handleBidiStreamingCall<DiscoveryRequest | UndecodableMessage, OutgoingResponse>;
  deltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaDiscoveryRequest | UndecodableMessage, OutgoingResponse>;
}
