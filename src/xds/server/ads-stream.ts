import * as grpc from "@grpc/grpc-js";
import type { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import type { Status } from "@envoyproxy/protos/google/rpc/status";
import type { Timer } from "../../common/clock.js";
import { errorMessage } from "../../common/errors.js";
import type { Logger } from "../../common/logger.js";
import { UndecodableMessage } from "../../common/undecodable.js";
import type { EncodedResource } from "../cache/encoded-resource.js";
import { TYPE_URLS, typeUrlOf, type TypeUrl } from "../resources/type-urls.js";
import type { AckState } from "./ack-state.js";
import type { AdsCall } from "./ads-service.js";
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

type Call = AdsCall<RequestHead | UndecodableMessage>;

const ROUTE_TYPES: ReadonlySet<TypeUrl> = new Set([TYPE_URLS.listener, TYPE_URLS.routes]);

/**
 * Lifecycle shared by the SotW and delta streams: node and group from the
 * first request, type URL checks, ACK/NACK bookkeeping, back-pressure, and
 * one idempotent cleanup on end, cancel, error or close that cancels every
 * watch. Stream errors are mapped here, once, and logged at debug.
 *
 * Back-pressure: a response is written only while the bytes this stream
 * has written and the transport has not yet taken are below
 * `limits.maxBytesInFlight`, and those of every stream together below
 * `limits.maxBytesInFlightTotal` (WriteBudget). Otherwise the watch's response is refused and
 * the type marked waiting; when the writes drain, each waiting watch is
 * resumed once against the snapshot current then (coalesced: a client that
 * reads slowly gets the latest state, never a queue of stale ones). Types
 * resume in the order they started waiting; a cluster or endpoint removal
 * waits until the listener and routes waiting with it have been sent, so
 * no route ever points at a cluster the gateway was told to drop.
 *
 * First syncs: a response of a type whose client has not answered any
 * response of that type yet also needs room under
 * `limits.maxFirstSyncBytes` (ctx.firstSyncBudget), and holds its bytes
 * there until the client ACKs or NACKs it, the stream closes, or
 * `limits.firstSyncAnswerWaitMs` after the transport took it. Streams wait
 * for that room in arrival order, like for the write budget.
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
  /** Bytes written and not yet taken by the transport. */
  #inFlight = 0;
  /** Types whose watch had a response refused, in the order they were refused. */
  readonly #waiting = new Set<TypeUrl>();
  /** Cluster/endpoint types whose removals were kept back until the routes went. */
  readonly #held = new Set<TypeUrl>();
  /** Neither `#waiting` nor `#held` has a type: what every write and its completion check, kept as one field rather than read from two sets. */
  #nothingWaits = true;
  /** The type being resumed (its watch may write while others wait). */
  #resuming: TypeUrl | undefined;
  /** Per type not yet answered by the client (AckState.answered): first-sync bytes written and held in ctx.firstSyncBudget. */
  readonly #firstSync = new Map<TypeUrl, number>();
  /** Gives back first-sync bytes whose client does not answer (limits.firstSyncAnswerWaitMs). */
  #answerWait: Timer | undefined;
  readonly #wake = (): void => this.#resumeWaiting();

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
  }

  get closed(): boolean {
    return this.#closed;
  }

  abstract acked(typeUrl: TypeUrl, name: string): EncodedResource | undefined;
  /** Handles one request of a known type, after ACK/NACK bookkeeping. */
  protected abstract handle(typeUrl: TypeUrl, req: RequestHead, nonceMatched: boolean, stale: boolean): void;
  /*
   * Per type, what the shared handling keeps (nonces, first syncs, ACKs)
   * lives in the subclass's AckState of the type: the object a response and
   * its ACK touch anyway, rather than maps of types on the stream.
   */
  /** The ACK state of a type, if the stream has seen it. */
  protected abstract ackState(typeUrl: TypeUrl): AckState | undefined;
  /** Resumes a type's watch after its response was refused (see Watch.resume); true when it kept removals back. */
  protected abstract resume(typeUrl: TypeUrl, holdRemovals: boolean): boolean;
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
      bytesInFlight: this.#inFlight,
      firstSyncBytes: sum(this.#firstSync.values()),
      types: this.typeStatuses(),
    };
  }

  /**
   * Whether a response of this type may be written now: the stream is open,
   * its writes are below the limit, and no other type is waiting to go
   * first. When not, the type is marked waiting (the caller refuses the
   * watch's response; the watch is resumed when the writes drain).
   */
  protected mayWrite(typeUrl: TypeUrl, ack: AckState): boolean {
    if (this.#closed) return false;
    const free = this.#inFlight < this.ctx.limits.maxBytesInFlight;
    // The server-wide budget last: when it is full this stream is woken once there is room.
    if (free && (this.#resuming === typeUrl || this.#nothingWaits) && this.ctx.writeBudget.hasRoom(this.#wake) && this.#firstSyncRoom(ack)) return true;
    this.#waiting.add(typeUrl);
    this.#nothingWaits = false;
    // Nothing in flight to drain and no budget to wait for (another type waits): resume on the next turn.
    const firstSyncFree = ack.answered || this.#firstSync.size > 0 || this.ctx.firstSyncBudget.inFlight < this.ctx.firstSyncBudget.limit;
    const budgetsFree = this.ctx.writeBudget.inFlight < this.ctx.writeBudget.limit && firstSyncFree;
    if (free && this.#resuming === undefined && budgetsFree) queueMicrotask(this.#wake);
    return false;
  }

  /**
   * Writes a response (after mayWrite): the shared body with a nonce newer
   * than any this stream was sent for the type (ResponseNonces), shared with
   * the other streams sending that body when it can be. Returns the nonce.
   */
  protected send(typeUrl: TypeUrl, body: Buffer, ack: AckState): string {
    const { seq, response } = this.ctx.nonces.response(body, ack.nonceSeq);
    ack.nonceSeq = seq;
    const size = body.byteLength;
    this.ctx.metrics.responseSent(typeUrl, this.protocol, size);
    this.#inFlight += size;
    this.ctx.writeBudget.take(size);
    const firstSync = !ack.answered;
    if (firstSync) {
      this.#firstSync.set(typeUrl, (this.#firstSync.get(typeUrl) ?? 0) + size);
      this.ctx.firstSyncBudget.take(size);
    }
    this.call.write(response, () => {
      // After close, everything in flight was given back at once (a cancelled call may never call back).
      if (this.#closed) return;
      this.#inFlight -= size;
      this.ctx.writeBudget.release(size);
      if (firstSync) this.#armAnswerWait();
      this.#resumeWaiting();
    });
    return response.nonce;
  }

  /**
   * True when a response of `typeUrl` is not a first sync, this stream
   * already holds first-sync room (its turn: a gateway that answers its
   * clusters only once their endpoints came must not wait behind itself),
   * or the server's first syncs leave room (else this stream queues for it).
   */
  #firstSyncRoom(ack: AckState | undefined): boolean {
    return ack?.answered === true || this.#firstSync.size > 0 || this.ctx.firstSyncBudget.hasRoom(this.#wake);
  }

  /** The client answered (or will not): the type's writes are no longer first syncs, and its held bytes go back. */
  #firstSyncAnswered(typeUrl: TypeUrl, ack: AckState | undefined): void {
    // Every ACK passes here: once answered, nothing is held for the type.
    if (ack?.answered === true) return;
    if (ack) ack.answered = true;
    const held = this.#firstSync.get(typeUrl);
    if (held === undefined) return;
    this.#firstSync.delete(typeUrl);
    if (this.#firstSync.size === 0) {
      this.#answerWait?.cancel();
      this.#answerWait = undefined;
    }
    this.ctx.firstSyncBudget.release(held);
  }

  /** After a first-sync write was taken: a client that has not answered within the wait gives its first-sync bytes back. */
  #armAnswerWait(): void {
    if (this.#answerWait || this.#firstSync.size === 0) return;
    this.#answerWait = this.ctx.clock.setTimeout(() => {
      this.#answerWait = undefined;
      if (this.#closed) return;
      this.log.debug("xds: client did not answer its first sync in time; it no longer holds first-sync room", { node: this.nodeId, types: [...this.#firstSync.keys()] });
      for (const typeUrl of [...this.#firstSync.keys()]) this.#firstSyncAnswered(typeUrl, this.ackState(typeUrl));
      this.#resumeWaiting();
    }, this.ctx.limits.firstSyncAnswerWaitMs);
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
    this.#waiting.clear();
    this.#held.clear();
    this.#nothingWaits = true;
    this.ctx.writeBudget.forget(this.#wake);
    this.ctx.firstSyncBudget.forget(this.#wake);
    this.#answerWait?.cancel();
    this.#answerWait = undefined;
    const firstSync = sum(this.#firstSync.values());
    this.#firstSync.clear();
    const inFlight = this.#inFlight;
    this.#inFlight = 0;
    this.ctx.writeBudget.release(inFlight);
    this.ctx.firstSyncBudget.release(firstSync);
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
    const typeUrl = typeUrlOf(req.typeUrl);
    if (typeUrl === undefined) {
      this.ctx.metrics.badRequests.inc({ reason: "unknown_type", protocol: this.protocol });
      this.log.debug("xds: ignoring request for an unknown type", { node: this.nodeId, typeUrl: req.typeUrl });
      return;
    }
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
    this.#firstSyncAnswered(typeUrl, state);
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

  /** Resumes waiting types, one response at a time, while the writes (this stream's, and the server's) stay below their limits. */
  #resumeWaiting(): void {
    // Called on every write's completion: nothing waiting is the common case.
    if (this.#nothingWaits) return;
    while (!this.#closed && this.#resuming === undefined && this.#inFlight < this.ctx.limits.maxBytesInFlight) {
      const step = this.#nextToResume();
      if (!step || !this.ctx.writeBudget.hasRoom(this.#wake) || !this.#firstSyncRoom(this.ackState(step.typeUrl))) return;
      this.#waiting.delete(step.typeUrl);
      this.#held.delete(step.typeUrl);
      this.#nothingWaits = this.#waiting.size === 0 && this.#held.size === 0;
      this.#resuming = step.typeUrl;
      try {
        if (this.resume(step.typeUrl, step.holdRemovals)) this.#held.add(step.typeUrl);
      } finally {
        this.#resuming = undefined;
        this.#nothingWaits = this.#waiting.size === 0 && this.#held.size === 0;
      }
    }
  }

  /** Waiting types in the order they started waiting (clusters and endpoints keep removals back while routes wait); then the held removals, endpoints before clusters. */
  #nextToResume(): { typeUrl: TypeUrl; holdRemovals: boolean } | undefined {
    let routesWaiting = false;
    for (const t of ROUTE_TYPES) routesWaiting ||= this.#waiting.has(t);
    for (const typeUrl of this.#waiting) return { typeUrl, holdRemovals: routesWaiting && !ROUTE_TYPES.has(typeUrl) };
    if (this.#held.has(TYPE_URLS.endpoints)) return { typeUrl: TYPE_URLS.endpoints, holdRemovals: false };
    for (const typeUrl of this.#held) return { typeUrl, holdRemovals: false };
    return undefined;
  }
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
