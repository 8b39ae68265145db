/**
 * Envoy's own .proto files, loaded with @grpc/proto-loader: an independent
 * peer for wire tests (it shares nothing with the ts-proto code in protos/gen).
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const deps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");

/** Include roots for the Envoy API protos shipped in @grpc/grpc-js-xds. */
export const ENVOY_PROTO_ROOTS: readonly string[] = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((r) => join(deps, r));

const loadOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [...ENVOY_PROTO_ROOTS],
};

/** Loads one Envoy proto file (path relative to an include root) as a grpc-js package object. */
export function loadEnvoyPackage(file: string): grpc.GrpcObject {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, loadOptions));
}

type ServiceCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

function lookup(pkg: grpc.GrpcObject, dotted: string): ServiceCtor {
  let node: unknown = pkg;
  for (const part of dotted.split(".")) node = (node as Record<string, unknown>)[part];
  if (typeof node !== "function") throw new Error(`service ${dotted} not found in loaded protos`);
  return node as ServiceCtor;
}

/** An `envoy.service.auth.v3.Authorization` client built from Envoy's .proto files. */
export function authorizationClient(address: string): grpc.Client {
  const Ctor = lookup(loadEnvoyPackage("envoy/service/auth/v3/external_auth.proto"), "envoy.service.auth.v3.Authorization");
  return new Ctor(address, grpc.credentials.createInsecure());
}

/** An `envoy.service.accesslog.v3.AccessLogService` client built from Envoy's .proto files. */
export function accessLogClient(address: string): grpc.Client {
  const Ctor = lookup(loadEnvoyPackage("envoy/service/accesslog/v3/als.proto"), "envoy.service.accesslog.v3.AccessLogService");
  return new Ctor(address, grpc.credentials.createInsecure());
}

/** An `envoy.service.discovery.v3.AggregatedDiscoveryService` client built from Envoy's .proto files. */
export function adsClient(address: string, options?: grpc.ChannelOptions): grpc.Client {
  const Ctor = lookup(loadEnvoyPackage("envoy/service/discovery/v3/ads.proto"), "envoy.service.discovery.v3.AggregatedDiscoveryService");
  return new Ctor(address, grpc.credentials.createInsecure(), options);
}
