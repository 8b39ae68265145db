/**
 * The internal peer API's handlers (ticketplane.peer.v1.Peer), on the
 * replica that owns the apps. Every call is authenticated first (the shared
 * credential, peer-credential.ts): without it, UNAUTHENTICATED, counted. A
 * message that does not decode is INVALID_ARGUMENT, never INTERNAL. Admit
 * on a replica that does not own the app (ownership moved) is
 * FAILED_PRECONDITION: the caller fails closed rather than take a slot from
 * a replica that may no longer be the one writer. Wake and Serving (another
 * replica's resolver) go to this replica's own resolver signals, only while
 * it owns the app (else FAILED_PRECONDITION: the caller asks the new owner)
 * and knows it (else NOT_FOUND: the caller tries again). Never throws into
 * grpc-js.
 */
import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { AckReport, ActivityBatch, AdmitRequest, AppSignal, PeerService, type AdmitResponse, type Received } from "@envoyproxy/protos/peer";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { decodeOrUndecodable, UndecodableMessage } from "../common/undecodable.js";
import type { KeyRing } from "../config/key-ring.js";
import type { AppKey } from "../config/app-spec.js";
import type { AppOwnership } from "../runtime/ports.js";
import { admit } from "../tickets/admit.js";
import type { ImmediateCheckPorts } from "../tickets/ports.js";
import type { AckSink } from "./ack-state.js";
import { credentialsOf, toAdmitResponse } from "./admit-wire.js";
import { applyActivity } from "./activity-entries.js";
import type { ReplicaMetrics, WakeCall } from "./metrics.js";
import { checkPeerBearer, PEER_AUTH_HEADER } from "./peer-credential.js";
import type { ResolverSignals } from "./wake-forwarder.js";

/** The service definition with deserializers that never throw. */
export const SafePeerService = {
  admit: { ...PeerService.admit, requestDeserialize: decodeOrUndecodable((b) => AdmitRequest.decode(b)) },
  activity: { ...PeerService.activity, requestDeserialize: decodeOrUndecodable((b) => ActivityBatch.decode(b)) },
  reportAcks: { ...PeerService.reportAcks, requestDeserialize: decodeOrUndecodable((b) => AckReport.decode(b)) },
  wake: { ...PeerService.wake, requestDeserialize: decodeOrUndecodable((b) => AppSignal.decode(b)) },
  serving: { ...PeerService.serving, requestDeserialize: decodeOrUndecodable((b) => AppSignal.decode(b)) },
} as const;

export interface PeerServiceOptions {
  /** The owner's ticket core: verify, allocate (at once) and activity. */
  readonly tickets: ImmediateCheckPorts;
  readonly ownership: AppOwnership;
  /** The key ring in force: the credential is checked against every key of it. */
  readonly keys: () => KeyRing;
  /** Why this replica cannot decide yet (ledger not restored, routes not out), or undefined. */
  readonly notReady: () => string | undefined;
  readonly acks: AckSink;
  /** The owner's in-process resolver signals (its reconciler, KEDA's wake requests): other replicas' Wake and Serving land here. */
  readonly resolver: ResolverSignals;
  /** Whether `app` is one this replica knows (its inventory). */
  readonly knows: (app: AppKey) => boolean;
  readonly metrics: ReplicaMetrics;
  readonly logger: Logger;
}

type Incoming<T> = T | UndecodableMessage;

export function createPeerService(options: PeerServiceOptions): UntypedServiceImplementation {
  const { metrics, logger } = options;

  /** Authenticates and decodes; the request, or undefined once the call was answered with an error. */
  const accept = <T>(method: string, call: ServerUnaryCall<Incoming<T>, unknown>, callback: sendUnaryData<never>): T | undefined => {
    const refused = checkPeerBearer(options.keys(), call.metadata.get(PEER_AUTH_HEADER)[0]);
    if (refused !== undefined) {
      metrics.authFailures.inc({ reason: refused });
      logger.warn("peer API: call refused for its credential", { method, reason: refused, peer: call.getPeer() });
      reply(method, callback, status.UNAUTHENTICATED, `the peer credential is ${refused === "missing" ? "missing" : "not valid"}`);
      return undefined;
    }
    if (call.request instanceof UndecodableMessage) {
      reply(method, callback, status.INVALID_ARGUMENT, `undecodable request: ${call.request.reason}`);
      return undefined;
    }
    return call.request;
  };

  const reply = (method: string, callback: sendUnaryData<never>, code: status, details: string): void => {
    metrics.served.inc({ method, status: status[code] });
    const error: Partial<ServiceError> = { code, details, metadata: new Metadata() };
    callback(error, null);
  };

  const ok = <T>(method: string, callback: sendUnaryData<T>, value: T): void => {
    metrics.served.inc({ method, status: "OK" });
    callback(null, value);
  };

  const admitCall = (call: ServerUnaryCall<Incoming<AdmitRequest>, AdmitResponse>, callback: sendUnaryData<AdmitResponse>): void => {
    const request = accept("Admit", call, callback);
    if (request === undefined) return;
    const owner = options.ownership.ownerOf(request.app);
    if (owner.kind !== "self") return reply("Admit", callback, status.FAILED_PRECONDITION, `this replica does not own app ${request.app.slice(0, 200)}`);
    const notReady = options.notReady();
    if (notReady !== undefined) return reply("Admit", callback, status.UNAVAILABLE, `cannot decide yet: ${notReady}`);
    try {
      ok("Admit", callback, toAdmitResponse(admit(options.tickets, request.app, credentialsOf(request))));
    } catch (err) {
      logger.error("peer API: a forwarded admission failed", { app: request.app.slice(0, 200), error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
      reply("Admit", callback, status.INTERNAL, "the admission failed on the owner");
    }
  };

  const activityCall = (call: ServerUnaryCall<Incoming<ActivityBatch>, Received>, callback: sendUnaryData<Received>): void => {
    const batch = accept("Activity", call, callback);
    if (batch === undefined) return;
    const applied = applyActivity(options.tickets, batch.entries);
    if (applied.ignored > 0 || batch.dropped > 0) logger.debug("peer API: activity batch", { replica: batch.replica.slice(0, 200), entries: batch.entries.length, ignored: applied.ignored, droppedBySender: batch.dropped });
    ok("Activity", callback, {});
  };

  const reportAcksCall = (call: ServerUnaryCall<Incoming<AckReport>, Received>, callback: sendUnaryData<Received>): void => {
    const report = accept("ReportAcks", call, callback);
    if (report === undefined) return;
    if (report.replica === "") return reply("ReportAcks", callback, status.INVALID_ARGUMENT, "replica: must name the reporting replica");
    options.acks.applyAckReport(report.replica, report.groups.filter((g) => g.group !== "" && g.gateways.length > 0));
    ok("ReportAcks", callback, {});
  };

  /** Wake and Serving: idempotent on the owner (the reconciler's wake extends, serving repeats), so a caller may resend freely. */
  const signalCall =
    (call: WakeCall, method: "Wake" | "Serving") =>
    (rpc: ServerUnaryCall<Incoming<AppSignal>, Received>, callback: sendUnaryData<Received>): void => {
      const signal = accept(method, rpc, callback);
      if (signal === undefined) return;
      const app = signal.app.slice(0, 200);
      if (app === "") return reply(method, callback, status.INVALID_ARGUMENT, "app: must name the app (namespace/name)");
      if (options.ownership.ownerOf(app).kind !== "self") {
        metrics.wakeReceived.inc({ call, result: "not_owner" });
        return reply(method, callback, status.FAILED_PRECONDITION, `this replica does not own app ${app}`);
      }
      if (!options.knows(app)) {
        metrics.wakeReceived.inc({ call, result: "unknown_app" });
        return reply(method, callback, status.NOT_FOUND, `app ${app} is not known on the owner`);
      }
      options.resolver[call](app);
      metrics.wakeReceived.inc({ call, result: "applied" });
      logger.debug("peer API: a resolver's signal from another replica", { app, call, replica: signal.replica.slice(0, 200) });
      ok(method, callback, {});
    };

  return { admit: admitCall, activity: activityCall, reportAcks: reportAcksCall, wake: signalCall("wake", "Wake"), serving: signalCall("serving", "Serving") };
}
