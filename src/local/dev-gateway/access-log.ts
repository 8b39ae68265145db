/**
 * The dev gateway's HTTP access log over `StreamAccessLogs`, as Envoy's
 * `envoy.access_loggers.http_grpc` writes it.
 *
 * Entries (pure, `accessLogEntry`): one per finished request
 * (DownstreamEnd); a denied request carries the UAEX flag
 * (`unauthorized_details`); a WebSocket gets one when its upgrade succeeds
 * (DownstreamTunnelSuccessfullyEstablished, response 101, when the listener
 * asks for it), periodic ones while it is open (DownstreamPeriodic,
 * intermediate), and a final one at its close (DownstreamEnd, 101, with the
 * duration) — the open/close our access-log service turns into activity.
 * `request_headers` holds the listener's additional_request_headers_to_log,
 * read after Check's header mutations, as Envoy logs them.
 *
 * The sender batches entries and flushes them every buffer_flush_interval on
 * one long-lived stream; the first message of each stream carries the
 * identifier (node, log name). A stream that fails is opened again at the
 * next flush; entries wait meanwhile, at most `maxBuffered` (the oldest are
 * dropped and counted: lossy, like Envoy's).
 */
import * as grpc from "@grpc/grpc-js";
import { RequestMethod } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { AccessLogType, type HTTPAccessLogEntry, HTTPAccessLogEntry_HTTPVersion, ResponseFlags_Unauthorized_Reason } from "@envoyproxy/protos/envoy/data/accesslog/v3/accesslog";
import { AccessLogServiceClient, StreamAccessLogsMessage } from "@envoyproxy/protos/envoy/service/accesslog/v3/als";
import type { Clock, Timer } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/logger.js";
import type { DownstreamRequest } from "./check-client.js";
import { joinedValue } from "./header-mutation.js";
import type { AccessLogSettings } from "./resources.js";

export type EntryKind = "end" | "tunnel_established" | "periodic";

export interface EntryFacts {
  readonly kind: EntryKind;
  readonly status: number;
  readonly startedAt: number;
  readonly now: number;
  readonly cluster?: string;
  readonly routeName?: string;
  /** Denied by ext_authz (the UAEX flag). */
  readonly unauthorized?: boolean;
  readonly noRoute?: boolean;
  readonly noHealthyUpstream?: boolean;
  readonly noClusterFound?: boolean;
  readonly upstreamFailure?: boolean;
}

const METHODS: Readonly<Record<string, RequestMethod>> = { GET: RequestMethod.GET, HEAD: RequestMethod.HEAD, POST: RequestMethod.POST, PUT: RequestMethod.PUT, DELETE: RequestMethod.DELETE, CONNECT: RequestMethod.CONNECT, OPTIONS: RequestMethod.OPTIONS, TRACE: RequestMethod.TRACE, PATCH: RequestMethod.PATCH };

const TYPES: Readonly<Record<EntryKind, AccessLogType>> = { end: AccessLogType.DownstreamEnd, tunnel_established: AccessLogType.DownstreamTunnelSuccessfullyEstablished, periodic: AccessLogType.DownstreamPeriodic };

function timestamp(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** One HTTP access-log entry for `request` (its headers as they went upstream). */
export function accessLogEntry(request: DownstreamRequest, facts: EntryFacts, settings: AccessLogSettings): HTTPAccessLogEntry {
  const requestHeaders: Record<string, string> = {};
  for (const name of settings.requestHeaders) {
    const values = request.headers.get(name);
    if (values !== undefined) requestHeaders[name] = joinedValue(values);
  }
  const elapsed = Math.max(0, facts.now - facts.startedAt);
  return {
    commonProperties: {
      downstreamRemoteAddress: { socketAddress: { address: request.source.address, portValue: request.source.port } },
      startTime: timestamp(facts.startedAt),
      duration: { seconds: Math.floor(elapsed / 1000), nanos: (elapsed % 1000) * 1_000_000 },
      upstreamCluster: facts.cluster ?? "",
      routeName: facts.routeName ?? "",
      responseFlags: {
        noRouteFound: facts.noRoute === true,
        noHealthyUpstream: facts.noHealthyUpstream === true,
        noClusterFound: facts.noClusterFound === true,
        upstreamConnectionFailure: facts.upstreamFailure === true,
        ...(facts.unauthorized === true ? { unauthorizedDetails: { reason: ResponseFlags_Unauthorized_Reason.EXTERNAL_SERVICE } } : {}),
      },
      accessLogType: TYPES[facts.kind],
      intermediateLogEntry: facts.kind !== "end",
      streamId: request.requestId,
    },
    protocolVersion: HTTPAccessLogEntry_HTTPVersion.HTTP11,
    request: {
      requestMethod: METHODS[request.method] ?? RequestMethod.METHOD_UNSPECIFIED,
      scheme: request.scheme,
      authority: request.authority,
      path: request.path,
      userAgent: joinedValue(request.headers.get("user-agent") ?? []),
      requestId: request.requestId,
      requestHeaders,
    },
    response: { responseCode: facts.status },
  } as HTTPAccessLogEntry;
}

export interface AccessLogSenderOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly node: { readonly id: string; readonly cluster: string };
  /** Entries kept while no stream takes them (default 10 000). */
  readonly maxBuffered?: number;
}

interface LogStream {
  readonly target: string;
  readonly logName: string;
  readonly call: grpc.ClientWritableStream<StreamAccessLogsMessage>;
  readonly client: AccessLogServiceClient;
  /** The identifier went out with the stream's first message. */
  identified: boolean;
}

interface Pending {
  readonly target: string;
  readonly logName: string;
}

/** Batches entries and streams them to the access-log service; see the module comment. */
export class AccessLogSender {
  readonly #options: AccessLogSenderOptions;
  readonly #max: number;
  #buffer: HTTPAccessLogEntry[] = [];
  #timer: Timer | undefined;
  #stream: LogStream | undefined;
  #pending: Pending | undefined;
  #dropped = 0;
  #sent = 0;
  #stopped = false;

  constructor(options: AccessLogSenderOptions) {
    this.#options = options;
    this.#max = options.maxBuffered ?? 10_000;
  }

  /** Entries written to a stream so far, and entries dropped because the buffer was full. */
  get counts(): { readonly sent: number; readonly dropped: number; readonly buffered: number } {
    return { sent: this.#sent, dropped: this.#dropped, buffered: this.#buffer.length };
  }

  /** Queues an entry for `target` (`host:port`); flushed within `settings.bufferFlushMs`. */
  log(target: string, settings: AccessLogSettings, entry: HTTPAccessLogEntry): void {
    if (this.#stopped) return;
    this.#buffer.push(entry);
    if (this.#buffer.length > this.#max) {
      this.#buffer.shift();
      this.#dropped++;
    }
    this.#pending = { target, logName: settings.logName };
    this.#timer ??= this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, settings.bufferFlushMs);
  }

  /** Writes every buffered entry now (opening the stream if needed). */
  flush(): void {
    const pending = this.#pending;
    if (pending === undefined || this.#buffer.length === 0) return;
    const stream = this.#streamTo(pending);
    const entries = this.#buffer;
    this.#buffer = [];
    const first = !stream.identified;
    const message = StreamAccessLogsMessage.fromPartial({
      ...(first ? { identifier: { node: { id: this.#options.node.id, cluster: this.#options.node.cluster }, logName: pending.logName } } : {}),
      httpLogs: { logEntry: entries },
    });
    stream.identified = true;
    stream.call.write(message);
    this.#sent += entries.length;
  }

  /** Flushes what is buffered, ends the stream and closes the channel. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.flush();
    this.#stopped = true;
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream === undefined) return;
    await new Promise<void>((resolve) => {
      // The server answers the half-close with its status; a server that is gone fails the call instead.
      stream.call.once("status", () => resolve());
      stream.call.once("error", () => resolve());
      stream.call.end();
    });
    stream.client.close();
  }

  #streamTo(pending: Pending): LogStream {
    const current = this.#stream;
    if (current !== undefined && current.target === pending.target && current.logName === pending.logName) return current;
    if (current !== undefined) {
      current.call.end();
      current.client.close();
    }
    const client = new AccessLogServiceClient(pending.target, grpc.credentials.createInsecure());
    const call = client.streamAccessLogs((err) => {
      if (err !== null && !this.#stopped) this.#options.logger.warn("dev gateway: access-log stream ended; the next flush opens another", { target: pending.target, error: errorMessage(err) });
      if (this.#stream?.call === call) {
        this.#stream = undefined;
        client.close();
      }
    });
    const stream: LogStream = { target: pending.target, logName: pending.logName, call, client, identified: false };
    this.#stream = stream;
    return stream;
  }
}
