/**
 * A KEDA external scaler client loaded from protos/externalscaler.proto with
 * @grpc/proto-loader: an independent peer for wire tests (it shares nothing
 * with the ts-proto code generated in protos/gen). Plain objects in, plain
 * objects out, as KEDA's generated Go client sees the wire.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const EXTERNAL_SCALER_PROTO = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "protos/externalscaler.proto");

export const kedaPackageDefinition = (): protoLoader.PackageDefinition =>
  protoLoader.loadSync(EXTERNAL_SCALER_PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });

export interface ScaledObjectRefMessage {
  readonly name?: string;
  readonly namespace?: string;
  readonly scalerMetadata?: Record<string, string>;
}

type Unary<Req, Res> = (request: Req, callback: (err: grpc.ServiceError | null, response?: Res) => void) => grpc.ClientUnaryCall;

/** The ExternalScaler client as KEDA uses it. */
export interface KedaClient extends grpc.Client {
  IsActive: Unary<ScaledObjectRefMessage, { result: boolean }>;
  StreamIsActive(request: ScaledObjectRefMessage): grpc.ClientReadableStream<{ result: boolean }>;
  GetMetricSpec: Unary<ScaledObjectRefMessage, { metricSpecs: { metricName: string; targetSize: number; targetSizeFloat: number }[] }>;
  GetMetrics: Unary<{ scaledObjectRef?: ScaledObjectRefMessage; metricName?: string }, { metricValues: { metricName: string; metricValue: number; metricValueFloat: number }[] }>;
}

export function kedaClient(address: string): KedaClient {
  const pkg = grpc.loadPackageDefinition(kedaPackageDefinition()) as unknown as { externalscaler: { ExternalScaler: new (a: string, c: grpc.ChannelCredentials) => KedaClient } };
  return new pkg.externalscaler.ExternalScaler(address, grpc.credentials.createInsecure());
}

/** Promise form of a unary call: resolves with the response or rejects with the ServiceError. */
export function call<Req, Res>(method: Unary<Req, Res>, client: grpc.Client, request: Req): Promise<Res> {
  return new Promise((resolvePromise, reject) => {
    method.call(client, request, (err, response) => (err !== null ? reject(err) : resolvePromise(response as Res)));
  });
}
