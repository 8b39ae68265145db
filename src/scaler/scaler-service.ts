/**
 * `externalscaler.ExternalScaler`, KEDA's external scaler contract, over the
 * ticket core's views: a thin gRPC edge over `resolveApp` and `demandOf`.
 *
 * Answers: an app the ScaledObject names that ticketplane does not know →
 * NOT_FOUND naming it; a request that does not decode, or names no valid app,
 * or asks for another metric → INVALID_ARGUMENT naming the field and value.
 * StreamIsActive sends the app's activity at once, then each time it flips;
 * an app that goes away reads as inactive (it may come back with the next
 * inventory change). A client that goes away ends only its own stream;
 * `closeAll` ends every stream from our side for a graceful shutdown.
 * Never throws into grpc-js.
 */
import { Metadata, status, type handleServerStreamingCall, type handleUnaryCall, type sendUnaryData, type ServerWritableStream, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  ExternalScalerService,
  GetMetricsRequest,
  type GetMetricSpecResponse,
  type GetMetricsResponse,
  type IsActiveResponse,
  ScaledObjectRef,
} from "@envoyproxy/protos/externalscaler";
import { decodeOrUndecodable, UndecodableMessage } from "../common/undecodable.js";
import type { Logger } from "../common/logger.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { TicketViews } from "../tickets/ports.js";
import { specOf } from "../tickets/spec-of.js";
import type { AppFigures } from "../tickets/types.js";
import { demandOf, isActive, metricNameOf } from "./demand.js";
import type { WakeSignal } from "./wake-requests.js";
import { resolveApp } from "./scaled-object.js";
import type { ScalerMetrics, ScalerMethod } from "./metrics.js";

type IncomingRef = ScaledObjectRef | UndecodableMessage;
type IncomingMetricsRequest = GetMetricsRequest | UndecodableMessage;

/** The service definition with deserializers that never throw (bad bytes → INVALID_ARGUMENT, not INTERNAL). */
export const SafeExternalScalerService = {
  isActive: { ...ExternalScalerService.isActive, requestDeserialize: decodeOrUndecodable((b) => ScaledObjectRef.decode(b)) },
  streamIsActive: { ...ExternalScalerService.streamIsActive, requestDeserialize: decodeOrUndecodable((b) => ScaledObjectRef.decode(b)) },
  getMetricSpec: { ...ExternalScalerService.getMetricSpec, requestDeserialize: decodeOrUndecodable((b) => ScaledObjectRef.decode(b)) },
  getMetrics: { ...ExternalScalerService.getMetrics, requestDeserialize: decodeOrUndecodable((b) => GetMetricsRequest.decode(b)) },
} as const;

export interface ScalerServiceOptions {
  readonly tickets: Pick<TicketViews, "apps" | "figures" | "subscribe">;
  readonly logger: Logger;
  readonly metrics: ScalerMetrics;
  /** Apps the resolver holds requests for: active too (KEDA then scales them 0 → 1). */
  readonly waking?: WakeSignal;
}

export interface ScalerImplementation extends UntypedServiceImplementation {
  isActive: handleUnaryCall<IncomingRef, IsActiveResponse>;
  streamIsActive: handleServerStreamingCall<IncomingRef, IsActiveResponse>;
  getMetricSpec: handleUnaryCall<IncomingRef, GetMetricSpecResponse>;
  getMetrics: handleUnaryCall<IncomingMetricsRequest, GetMetricsResponse>;
}

export interface ScalerService {
  readonly definition: typeof SafeExternalScalerService;
  readonly implementation: ScalerImplementation;
  /** Ends every open StreamIsActive from our side (KEDA reconnects), so a graceful shutdown can finish. */
  closeAll(): void;
  /** Open StreamIsActive calls. */
  readonly openStreams: number;
}

/** An app the ticket core knows, as one request found it. */
interface Found {
  readonly app: AppKey;
  readonly spec: AppSpec;
  readonly figures: AppFigures;
}

type Lookup = { readonly ok: true; readonly found: Found } | { readonly ok: false; readonly error: ServiceError };

export function createScalerService(options: ScalerServiceOptions): ScalerService {
  const { tickets, logger, metrics, waking } = options;
  const active = (app: AppKey, figures: AppFigures | undefined): boolean => (figures !== undefined && isActive(figures)) || waking?.isWaking(app) === true;
  const streams = new Map<ServerWritableStream<IncomingRef, IsActiveResponse>, () => void>();

  const lookup = (ref: IncomingRef | undefined, where: string): Lookup => {
    if (ref instanceof UndecodableMessage) return refuse(status.INVALID_ARGUMENT, `${where} does not decode as externalscaler.ScaledObjectRef: ${ref.reason}`);
    const resolved = resolveApp(ref);
    if (!resolved.ok) return refuse(status.INVALID_ARGUMENT, `${where}: ${resolved.field} ${JSON.stringify(resolved.value)} ${resolved.rule}`);
    const figures = tickets.figures(resolved.app);
    const spec = specOf(tickets, resolved.app);
    if (figures === undefined || spec === undefined) return refuse(status.NOT_FOUND, `no ticketed app ${resolved.app} (asked for by ScaledObject ${describeRef(ref)})`);
    return { ok: true, found: { app: resolved.app, spec, figures } };
  };

  /** Runs one unary call: counts its outcome, logs refusals, never throws. */
  const unary = <Req, Res>(method: ScalerMethod, answer: (request: Req) => Res | ServiceError) => (call: { request: Req }, callback: sendUnaryData<Res>): void => {
    const result = answer(call.request);
    if (isServiceError(result)) {
      metrics.request(method, result.code === status.NOT_FOUND ? "not_found" : "invalid");
      logger.warn("keda: request refused", { method, code: status[result.code], error: result.details });
      callback(result);
      return;
    }
    metrics.request(method, "ok");
    callback(null, result);
  };

  const implementation: ScalerImplementation = {
    isActive: unary<IncomingRef, IsActiveResponse>("IsActive", (ref) => {
      const l = lookup(ref, "IsActive");
      return l.ok ? { result: active(l.found.app, l.found.figures) } : l.error;
    }),
    getMetricSpec: unary<IncomingRef, GetMetricSpecResponse>("GetMetricSpec", (ref) => {
      const l = lookup(ref, "GetMetricSpec");
      if (!l.ok) return l.error;
      const { spec, figures } = l.found;
      const { target } = demandOf(figures, spec);
      return { metricSpecs: [{ metricName: metricNameOf(spec.namespace, spec.name), targetSize: target, targetSizeFloat: target }] };
    }),
    getMetrics: unary<IncomingMetricsRequest, GetMetricsResponse>("GetMetrics", (request) => {
      if (request instanceof UndecodableMessage) return refusal(status.INVALID_ARGUMENT, `GetMetrics request does not decode as externalscaler.GetMetricsRequest: ${request.reason}`);
      if (request.scaledObjectRef === undefined) return refusal(status.INVALID_ARGUMENT, "GetMetrics: scaledObjectRef is required");
      const l = lookup(request.scaledObjectRef, "GetMetrics");
      if (!l.ok) return l.error;
      const { spec, figures } = l.found;
      const metricName = metricNameOf(spec.namespace, spec.name);
      if (request.metricName !== "" && request.metricName !== metricName) {
        return refusal(status.INVALID_ARGUMENT, `GetMetrics: metricName ${JSON.stringify(request.metricName)} is not served for app ${l.found.app}; GetMetricSpec names "${metricName}"`);
      }
      const { metric } = demandOf(figures, spec);
      return { metricValues: [{ metricName, metricValue: metric, metricValueFloat: metric }] };
    }),
    streamIsActive: (call) => {
      const l = lookup(call.request, "StreamIsActive");
      if (!l.ok) {
        metrics.request("StreamIsActive", l.error.code === status.NOT_FOUND ? "not_found" : "invalid");
        logger.warn("keda: stream refused", { code: status[l.error.code], error: l.error.details });
        // grpc-js turns an emitted error into the stream's status (destroy would drop it).
        call.emit("error", l.error);
        return;
      }
      metrics.request("StreamIsActive", "ok");
      const app = l.found.app;
      let last = active(app, l.found.figures);
      call.write({ result: last });
      const changed = (): void => {
        const now = active(app, tickets.figures(app));
        if (now === last) return;
        last = now;
        call.write({ result: now });
      };
      const offTickets = tickets.subscribe((event) => {
        if (event.kind === "apps" || event.app === app) changed();
      });
      const offWaking = waking?.subscribe((woken) => {
        if (woken === app) changed();
      });
      const unsubscribe = (): void => {
        offTickets();
        offWaking?.();
      };
      const end = (): void => {
        if (!streams.has(call)) return;
        streams.delete(call);
        unsubscribe();
        metrics.streams(streams.size);
      };
      streams.set(call, end);
      metrics.streams(streams.size);
      // KEDA going away (or the connection dropping) cancels the call: stop listening for it.
      call.on("cancelled", end);
      call.on("close", end);
      call.on("error", (err) => {
        logger.debug("keda: stream error", { app, error: err.message });
        end();
      });
    },
  };

  return {
    definition: SafeExternalScalerService,
    implementation,
    closeAll() {
      for (const [call, end] of [...streams]) {
        end();
        call.end();
      }
    },
    get openStreams() {
      return streams.size;
    },
  };
}

function refusal(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function refuse(code: status, details: string): { readonly ok: false; readonly error: ServiceError } {
  return { ok: false, error: refusal(code, details) };
}

function isServiceError(x: unknown): x is ServiceError {
  return x instanceof Error && "code" in x;
}

function describeRef(ref: ScaledObjectRef | undefined): string {
  const part = (s: string | undefined): string => (s === undefined || s === "" ? "?" : s);
  return `${part(ref?.namespace)}/${part(ref?.name)}`;
}
