/**
 * The ADS service definition for grpc-js: requests decode through the
 * generated types; responses are already-encoded bytes (see
 * response-encoding.ts), so serialisation is a pass-through.
 */
import type * as grpc from "@grpc/grpc-js";
import { AggregatedDiscoveryServiceService } from "@envoyproxy/protos/envoy/service/discovery/v3/ads";
import type { DeltaDiscoveryRequest, DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";

const passThrough = (b: Buffer): Buffer => b;

const sotw = AggregatedDiscoveryServiceService.streamAggregatedResources;
const delta = AggregatedDiscoveryServiceService.deltaAggregatedResources;

export const adsServiceDefinition = {
  streamAggregatedResources: {
    path: sotw.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: sotw.requestSerialize,
    requestDeserialize: sotw.requestDeserialize,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
  deltaAggregatedResources: {
    path: delta.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: delta.requestSerialize,
    requestDeserialize: delta.requestDeserialize,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
} as const satisfies grpc.ServiceDefinition;

export type SotwCall = grpc.ServerDuplexStream<DiscoveryRequest, Buffer>;
export type DeltaCall = grpc.ServerDuplexStream<DeltaDiscoveryRequest, Buffer>;

export interface AdsImplementation extends grpc.UntypedServiceImplementation {
  streamAggregatedResources: grpc.handleBidiStreamingCall<DiscoveryRequest, Buffer>;
  deltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaDiscoveryRequest, Buffer>;
}
