/**
 * `envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs`: turns the
 * gateway's HTTP access log into ticket activity (see access-log-entry.ts).
 * Lossy by design, like the protocol: undecodable messages, entries without
 * our headers and entries for unknown apps are counted and ignored; a peer that
 * goes away mid-stream only ends its own stream.
 */
import type { handleClientStreamingCall, sendUnaryData, ServerReadableStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  AccessLogServiceService,
  StreamAccessLogsMessage,
  type StreamAccessLogsResponse,
} from "@envoyproxy/protos/envoy/service/accesslog/v3/als";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { ActivityRecorder, TicketViews } from "../tickets/ports.js";
import { classifyEntry } from "./access-log-entry.js";
import { type AuthzMetrics, noopAuthzMetrics } from "./metrics.js";
import { decodeOrUndecodable, UndecodableMessage } from "../common/undecodable.js";

export type IncomingLogs = StreamAccessLogsMessage | UndecodableMessage;

/** The AccessLogService definition with a deserializer that never throws. */
export const SafeAccessLogService = {
  streamAccessLogs: {
    ...AccessLogServiceService.streamAccessLogs,
    requestDeserialize: decodeOrUndecodable((bytes) => StreamAccessLogsMessage.decode(bytes)),
  },
} as const;

export interface AccessLogServiceOptions {
  /** Activity goes here; `figures` tells known apps from unknown ones. */
  readonly tickets: ActivityRecorder & Pick<TicketViews, "figures">;
  readonly logger: Logger;
  readonly metrics?: AuthzMetrics;
}

export interface AccessLogService {
  readonly definition: typeof SafeAccessLogService;
  readonly implementation: UntypedServiceImplementation & { streamAccessLogs: handleClientStreamingCall<IncomingLogs, StreamAccessLogsResponse> };
  /** Ends every open stream from our side (Envoy reconnects), so a graceful shutdown can finish. */
  closeAll(): void;
  /** Open streams (for tests and /readyz). */
  readonly openStreams: number;
}

export function createAccessLogService(options: AccessLogServiceOptions): AccessLogService {
  const { tickets, logger } = options;
  const metrics = options.metrics ?? noopAuthzMetrics;
  const open = new Map<ServerReadableStream<IncomingLogs, StreamAccessLogsResponse>, () => void>();

  const apply = (message: StreamAccessLogsMessage): void => {
    for (const entry of message.httpLogs?.logEntry ?? []) {
      const action = classifyEntry(entry);
      if (action.kind === "ignore") {
        metrics.accessLogIgnored(action.reason);
        continue;
      }
      const app = action.app;
      if (app !== undefined && tickets.figures(app) === undefined) {
        metrics.accessLogIgnored("unknown_app");
        // A close still ends the connection record (the app may have just been removed); nothing else applies.
        if (action.kind !== "close") continue;
      }
      if (action.kind === "close") {
        tickets.closeConnection(action.connectionId);
        // The close itself is activity: the idle timer starts now, not when the socket opened.
        if (action.app !== undefined && action.ticketId !== undefined) tickets.touch(action.app, action.ticketId);
      } else if (action.kind === "open") {
        tickets.openConnection(action.app, action.ticketId, action.connectionId);
      } else {
        tickets.touch(action.app, action.ticketId);
      }
    }
  };

  const streamAccessLogs = (call: ServerReadableStream<IncomingLogs, StreamAccessLogsResponse>, callback: sendUnaryData<StreamAccessLogsResponse>): void => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      open.delete(call);
      callback(null, {});
    };
    open.set(call, finish);
    call.on("data", (message: IncomingLogs) => {
      if (message instanceof UndecodableMessage) {
        metrics.accessLogIgnored("undecodable");
        logger.debug("access log: undecodable message ignored", { reason: message.reason, peer: call.getPeer() });
        return;
      }
      try {
        apply(message);
      } catch (err) {
        // A bug in the ticket core or here must not end the stream for every later entry.
        metrics.accessLogIgnored("stream_error");
        logger.error("access log: entry could not be applied", { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
      }
    });
    call.on("end", finish);
    call.on("cancelled", () => {
      done = true;
      open.delete(call);
    });
    call.on("error", (err: Error) => {
      metrics.accessLogIgnored("stream_error");
      logger.debug("access log stream failed", { error: err.message, peer: call.getPeer() });
      done = true;
      open.delete(call);
    });
  };

  return {
    definition: SafeAccessLogService,
    implementation: { streamAccessLogs },
    closeAll: () => {
      for (const finish of [...open.values()]) finish();
    },
    get openStreams() {
      return open.size;
    },
  };
}
