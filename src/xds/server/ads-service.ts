/**
 * The ADS service definition for grpc-js: requests decode through the
 * generated types, and bytes that do not decode arrive as an
 * UndecodableMessage (the stream refuses and counts it) rather than a throw;
 * responses are already-encoded bytes (see response-encoding.ts), so
 * serialisation is a pass-through.
 */
import type * as grpc from "@grpc/grpc-js";
import { AggregatedDiscoveryServiceService } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import { DeltaDiscoveryRequest, DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { decodeOrUndecodable, type UndecodableMessage } from "../../common/undecodable.js";

const passThrough = (b: Buffer): Buffer => b;

const sotw = AggregatedDiscoveryServiceService.streamAggregatedResources;
const delta = AggregatedDiscoveryServiceService.deltaAggregatedResources;

export const adsServiceDefinition = {
  streamAggregatedResources: {
    path: sotw.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: sotw.requestSerialize,
    requestDeserialize: decodeOrUndecodable((bytes) => DiscoveryRequest.decode(bytes)),
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
  deltaAggregatedResources: {
    path: delta.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: delta.requestSerialize,
    requestDeserialize: decodeOrUndecodable((bytes) => DeltaDiscoveryRequest.decode(bytes)),
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
} as const satisfies grpc.ServiceDefinition;

export type SotwCall = grpc.ServerDuplexStream<DiscoveryRequest | UndecodableMessage, Buffer>;
export type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequest | UndecodableMessage, Buffer>;

export interface AdsImplementation extends grpc.UntypedServiceImplementation {
  streamAggregatedResources: grpc.handleBidiStreamingCall<DiscoveryRequest | UndecodableMessage, Buffer>;
  deltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaDiscoveryRequest | UndecodableMessage, Buffer>;
}
