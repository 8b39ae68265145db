import * as grpc from "@grpc/grpc-js";
import type { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import type { Status } from "@envoyproxy/protos/google/rpc/status";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/logger.js";
import { UndecodableMessage } from "../../common/undecodable.js";
import type { EncodedResource } from "../cache/encoded-resource.js";
import { PUSH_ORDER, isTypeUrl, type TypeUrl } from "../resources/type-urls.js";
import type { AckState } from "./ack-state.js";
import { NackLog, truncateMessage } from "./nack-log.js";
import type { AckingStream } from "./routability.js";
import type { StreamContext } from "./stream-context.js";
import type { StreamStatus, TypeStatus, XdsProtocol } from "./status.js";

/** The parts of a Discovery/DeltaDiscovery request the shared handling reads. */
export interface RequestHead {
  readonly node?: Node | undefined;
  readonly typeUrl: string;
  readonly responseNonce: string;
  readonly errorDetail?: Status | undefined;
}

type Call = grpc.ServerDuplexStream<RequestHead | UndecodableMessage, Buffer>;

/**
 * Lifecycle shared by the SotW and delta streams: node and group from the
 * first request, type URL checks, ACK/NACK bookkeeping, back-pressure, and
 * one idempotent cleanup on end, cancel, error or close that cancels every
 * watch. Stream errors are mapped here, once, and logged at debug.
 */
export abstract class AdsStream implements AckingStream {
  readonly id: number;
  readonly connectedSince: number;
  group = "";
  nodeId = "";
  nodeCluster = "";
  protected readonly log: Logger;
  readonly #nackLog: NackLog;
  #closed = false;
  #joined = false;
  #blocked = false;
  readonly #dirty = new Set<TypeUrl>();

  protected constructor(
    protected readonly ctx: StreamContext,
    private readonly call: Call,
    readonly protocol: XdsProtocol,
  ) {
    this.id = ctx.nextStreamId();
    this.connectedSince = ctx.clock.now();
    this.log = ctx.logger.child({ component: "xds", protocol, stream: this.id });
    this.#nackLog = new NackLog(this.log, ctx.clock, ctx.limits.nackLogIntervalMs);
    ctx.metrics.streams.inc({ protocol });
    call.on("data", (req: RequestHead | UndecodableMessage) => this.#onData(req));
    call.on("end", () => {
      this.close("client ended the stream");
      call.end();
    });
    call.on("cancelled", () => this.close("cancelled"));
    call.on("error", (err: unknown) => {
      this.log.debug("xds: stream error", { node: this.nodeId, group: this.group, error: errorMessage(err) });
      this.close("error");
    });
    call.on("close", () => this.close("closed"));
    call.on("drain", () => this.#onDrain());
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract acked(typeUrl: TypeUrl, name: string): EncodedResource | undefined;
  /** Handles one request of a known type, after ACK/NACK bookkeeping. */
  protected abstract handle(typeUrl: TypeUrl, req: RequestHead, nonceMatched: boolean, stale: boolean): void;
  /** The ACK state of a type, if the stream has seen it. */
  protected abstract ackState(typeUrl: TypeUrl): AckState | undefined;
  /** Re-evaluates a type's watch from scratch (after a stall). */
  protected abstract refresh(typeUrl: TypeUrl): void;
  protected abstract typeStatuses(): TypeStatus[];
  protected abstract cancelWatches(): void;

  status(): StreamStatus {
    return {
      streamId: this.id,
      nodeId: this.nodeId,
      nodeCluster: this.nodeCluster,
      group: this.group,
      protocol: this.protocol,
      connectedSince: this.connectedSince,
      waitingForConfig: !this.ctx.hasConfig(this.group),
      types: this.typeStatuses(),
    };
  }

  /** Writes an encoded response unless the stream is stalled; returns false (and remembers the type) when it is. */
  protected send(typeUrl: TypeUrl, bytes: Buffer): boolean {
    if (this.#closed) return false;
    if (this.#blocked) {
      this.#dirty.add(typeUrl);
      return false;
    }
    this.ctx.metrics.responses.inc({ type_url: typeUrl, protocol: this.protocol });
    this.ctx.metrics.responseBytes.inc({ protocol: this.protocol }, bytes.byteLength);
    if (!this.call.write(bytes)) this.#blocked = true;
    return true;
  }

  /** True while writes are being held back (the client is not reading). */
  protected get blocked(): boolean {
    return this.#blocked;
  }

  protected markDirty(typeUrl: TypeUrl): void {
    this.#dirty.add(typeUrl);
  }

  /** Ends the stream with a gRPC status (bad input from the client). */
  protected fail(code: grpc.status, details: string): void {
    this.log.debug("xds: refusing stream", { node: this.nodeId, details });
    this.close(details);
    this.call.emit("error", { code, details });
  }

  /**
   * Ends the stream of a client that names more resources than
   * `limits.maxSubscribedNames`: an honest gateway never does, and serving
   * part of what it asked for would leave it silently incomplete.
   * RESOURCE_EXHAUSTED tells it why; it reconnects with back-off.
   */
  protected refuseTooManyNames(typeUrl: TypeUrl, count: number, what: string): void {
    const limit = this.ctx.limits.maxSubscribedNames;
    this.ctx.metrics.badRequests.inc({ reason: "too_many_names", protocol: this.protocol });
    this.log.warn("xds: client asked for more resource names than the limit; ending its stream", { node: this.nodeId, group: this.group, typeUrl, names: count, limit });
    this.fail(grpc.status.RESOURCE_EXHAUSTED, `too many resource names: ${what} ${count}, the limit is ${limit}`);
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.cancelWatches();
    this.#nackLog.close();
    this.#dirty.clear();
    this.ctx.metrics.streams.dec({ protocol: this.protocol });
    if (this.#joined) {
      this.ctx.unregister(this);
      this.ctx.routability.streamLeft(this);
    }
    this.log.debug("xds: stream closed", { node: this.nodeId, group: this.group, reason });
  }

  #onData(req: RequestHead | UndecodableMessage): void {
    if (this.#closed) return;
    if (req instanceof UndecodableMessage) {
      this.ctx.metrics.badRequests.inc({ reason: "undecodable", protocol: this.protocol });
      this.fail(grpc.status.INVALID_ARGUMENT, `undecodable ${this.protocol === "delta" ? "DeltaDiscoveryRequest" : "DiscoveryRequest"}: ${req.reason}`);
      return;
    }
    try {
      this.#onRequest(req);
    } catch (err) {
      // A bug in our handling: end this stream only, visibly.
      this.log.error("xds: failed to handle request", { node: this.nodeId, typeUrl: req.typeUrl, error: errorMessage(err) });
      this.fail(grpc.status.INTERNAL, "internal error handling the request");
    }
  }

  #onRequest(req: RequestHead): void {
    if (!this.#joined && !this.#join(req)) return;
    if (!isTypeUrl(req.typeUrl)) {
      this.ctx.metrics.badRequests.inc({ reason: "unknown_type", protocol: this.protocol });
      this.log.debug("xds: ignoring request for an unknown type", { node: this.nodeId, typeUrl: req.typeUrl });
      return;
    }
    const typeUrl = req.typeUrl;
    const state = this.ackState(typeUrl);
    const nonceMatched = req.responseNonce !== "" && state?.lastNonce === req.responseNonce;
    const stale = req.responseNonce !== "" && !nonceMatched;
    if (nonceMatched && state) this.#ackOrNack(typeUrl, state, req);
    else if (stale) this.log.debug("xds: stale nonce", { node: this.nodeId, typeUrl, nonce: req.responseNonce, latest: state?.lastNonce });
    this.handle(typeUrl, req, nonceMatched, stale);
  }

  /** The first request: node and group. False (and the stream refused) without a node. */
  #join(req: RequestHead): boolean {
    if (!req.node) {
      this.ctx.metrics.badRequests.inc({ reason: "no_node", protocol: this.protocol });
      this.fail(grpc.status.INVALID_ARGUMENT, "the first request on a stream must carry node");
      return false;
    }
    this.nodeId = req.node.id;
    this.nodeCluster = req.node.cluster;
    this.group = this.ctx.nodeGroup(req.node);
    this.#joined = true;
    this.ctx.register(this);
    this.ctx.routability.streamJoined(this);
    this.log.info("xds: node connected", { node: this.nodeId, cluster: this.nodeCluster, group: this.group });
    if (!this.ctx.hasConfig(this.group)) {
      // Served as soon as a snapshot for the group appears; until then, say why the gateway gets nothing.
      this.log.warn("xds: no configuration for this gateway's node group; it gets nothing until one is published", {
        node: this.nodeId,
        group: this.group,
        groups: this.ctx.groups(),
      });
    }
    return true;
  }

  #ackOrNack(typeUrl: TypeUrl, state: AckState, req: RequestHead): void {
    const now = this.ctx.clock.now();
    const version = state.lastSentVersion ?? "";
    if (req.errorDetail) {
      // The client's message can be megabytes: the counter is exact, the log and the status keep a bounded part.
      const message = truncateMessage(req.errorDetail.message, this.ctx.limits.nackMessageMaxChars);
      state.nack({ version, nonce: req.responseNonce, message, at: now });
      this.ctx.metrics.nacks.inc({ type_url: typeUrl });
      this.#nackLog.nack({ node: this.nodeId, group: this.group, typeUrl, rejectedVersion: version, acceptedVersion: state.ackedVersion, error: message });
      return;
    }
    state.ack(version, now);
    this.ctx.routability.streamAcked(this);
  }

  #onDrain(): void {
    this.#blocked = false;
    const dirty = PUSH_ORDER.filter((t) => this.#dirty.has(t));
    this.#dirty.clear();
    for (const typeUrl of dirty) if (!this.#closed && !this.#blocked) this.refresh(typeUrl);
    for (const typeUrl of dirty) if (this.#blocked) this.#dirty.add(typeUrl);
  }
}
