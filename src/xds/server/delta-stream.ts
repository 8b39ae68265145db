import type { DeltaDiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import type { DeltaSubscription } from "../cache/delta.js";
import type { EncodedResource } from "../cache/encoded-resource.js";
import { LayeredMap } from "../cache/layered-map.js";
import { LayeredSet } from "../cache/layered-set.js";
import type { DeltaCacheResponse, DeltaStreamView, Watch } from "../cache/watch.js";
import { WILDCARD_TYPES, type TypeUrl } from "../resources/type-urls.js";
import { AckState } from "./ack-state.js";
import type { DeltaCall } from "./ads-service.js";
import { AdsStream, type RequestHead } from "./ads-stream.js";
import type { TypeStatus } from "./status.js";
import type { StreamContext } from "./stream-context.js";

export interface StreamFootprint {
  readonly subscribed: number;
  readonly known: number;
  readonly acked: number;
  readonly over: boolean;
}

class DeltaTypeState implements DeltaSubscription {
  wildcard = false;
  /** Kept over the snapshot map last sent from, like `known`: a gateway subscribed to every cluster's endpoints shares it. */
  readonly subscribed = new LayeredSet();
  /** Kept over the snapshot map last sent from (shared by the streams in step with it), plus differences. */
  readonly known = new LayeredMap<string, EncodedResource>(
    (r) => r.version,
    (v, r) => v === r.version,
  );
  readonly ack = new AckState();
  watch: Watch | undefined;
}

/**
 * One incremental ADS stream (DeltaAggregatedResources). Subscriptions
 * change on every request, whatever its nonce; ACK/NACK counts only for the
 * latest nonce of the type. `known` is updated when a response is written,
 * so a NACKed version is not re-sent until the snapshot changes. Newly
 * subscribed names are answered on their own; the watch is re-opened only
 * when the wildcard changes.
 */
export class DeltaStream extends AdsStream implements DeltaStreamView {
  readonly #types = new Map<TypeUrl, DeltaTypeState>();
  /** Explicitly subscribed names, every type together (bounded by limits.maxSubscribedNames). */
  #subscribedNames = 0;

  constructor(ctx: StreamContext, call: DeltaCall) {
    super(ctx, call, "delta");
  }

  subscription(typeUrl: TypeUrl): DeltaSubscription {
    return this.#state(typeUrl);
  }

  acked(typeUrl: TypeUrl, name: string): EncodedResource | undefined {
    return this.#types.get(typeUrl)?.ack.acked(name);
  }

  /**
   * Per type, how many entries this stream keeps of its own rather than
   * through a snapshot map it shares with the streams in step with it
   * (subscribed names, what the client knows, what it ACKed): a few per
   * change, whatever the fleet. `over` says whether they are kept over
   * `base` (what the client knows and ACKed, and its subscribed names
   * unless it subscribes by wildcard).
   */
  footprint(typeUrl: TypeUrl, base?: ReadonlyMap<string, EncodedResource>): StreamFootprint | undefined {
    const s = this.#types.get(typeUrl);
    if (!s) return undefined;
    const over = base !== undefined && (s.wildcard || s.subscribed.isOver(base)) && s.known.isOver(base) && s.ack.ackedOver(base);
    return { subscribed: s.subscribed.privateEntries, known: s.known.privateEntries, acked: s.ack.privateEntries, over };
  }

  protected ackState(typeUrl: TypeUrl): AckState | undefined {
    return this.#types.get(typeUrl)?.ack;
  }

  protected handle(typeUrl: TypeUrl, head: RequestHead): void {
    const req = head as DeltaDiscoveryRequest;
    const existing = this.#types.get(typeUrl);
    const state = existing ?? this.#state(typeUrl);
    if (!existing && !this.#initialVersions(typeUrl, state, req)) return;
    const wildcard = state.wildcard;
    const added = this.#subscribeAll(typeUrl, state, req.resourceNamesSubscribe);
    this.#unsubscribeAll(state, req.resourceNamesUnsubscribe);
    if (this.#subscribedNames > this.ctx.limits.maxSubscribedNames) this.refuseTooManyNames(typeUrl, this.#subscribedNames, "this stream subscribes to");
    else if (!existing || wildcard !== state.wildcard) this.#open(typeUrl, state);
    else if (added.length > 0) state.watch?.subscribe(added);
  }

  /** Applies resource_names_subscribe; returns the names newly subscribed. */
  #subscribeAll(typeUrl: TypeUrl, state: DeltaTypeState, names: readonly string[]): string[] {
    const added: string[] = [];
    for (const name of names) {
      if (name === "*") state.wildcard = true;
      else {
        const own = this.ctx.cache.canonicalName?.(this.group, typeUrl, name) ?? name;
        if (this.#subscribe(state, own)) added.push(own);
      }
    }
    return added;
  }

  #unsubscribeAll(state: DeltaTypeState, names: readonly string[]): void {
    for (const name of names) {
      if (name === "*") {
        state.wildcard = false;
        continue;
      }
      if (state.subscribed.delete(name)) this.#subscribedNames -= 1;
      // Forget it, so a later subscribe sends it again.
      if (!state.wildcard) {
        state.known.delete(name);
        state.ack.forget(name);
      }
    }
  }

  /** The first request of a type: what the client already holds, and the legacy wildcard. False when it lists too many names. */
  #initialVersions(typeUrl: TypeUrl, state: DeltaTypeState, req: DeltaDiscoveryRequest): boolean {
    const initial = Object.entries(req.initialResourceVersions);
    if (initial.length > this.ctx.limits.maxSubscribedNames) {
      this.refuseTooManyNames(typeUrl, initial.length, "initial_resource_versions lists");
      return false;
    }
    for (const [name, version] of initial) state.known.set(name, version);
    // Legacy wildcard: the first request of LDS/CDS without names.
    if (WILDCARD_TYPES.has(typeUrl) && req.resourceNamesSubscribe.length === 0) state.wildcard = true;
    return true;
  }

  /** True when `name` is newly subscribed. */
  #subscribe(state: DeltaTypeState, name: string): boolean {
    if (!state.subscribed.add(name)) return false;
    this.#subscribedNames += 1;
    return true;
  }

  #open(typeUrl: TypeUrl, state: DeltaTypeState): void {
    state.watch?.cancel();
    state.watch = undefined;
    if (this.closed) return;
    state.watch = this.ctx.cache.createDeltaWatch({ typeUrl }, this, (r) => this.#respond(state, r));
  }

  protected resume(typeUrl: TypeUrl, holdRemovals: boolean): boolean {
    return this.#types.get(typeUrl)?.watch?.resume(holdRemovals) ?? false;
  }

  protected cancelWatches(): void {
    for (const state of this.#types.values()) {
      state.watch?.cancel();
      state.watch = undefined;
    }
  }

  protected typeStatuses(): TypeStatus[] {
    return [...this.#types].map(([typeUrl, s]) => ({
      typeUrl,
      subscription: s.wildcard ? "*" : s.subscribed.size,
      ackedVersion: s.ack.ackedVersion,
      ackedAt: s.ack.ackedAt,
      ackedResources: s.ack.ackedCount,
      lastSentVersion: s.ack.lastSentVersion,
      lastSentNonce: s.ack.lastNonce,
      lastSentAt: s.ack.lastSentAt,
      lastNack: s.ack.lastNack,
    }));
  }

  #state(typeUrl: TypeUrl): DeltaTypeState {
    let state = this.#types.get(typeUrl);
    if (!state) this.#types.set(typeUrl, (state = new DeltaTypeState()));
    return state;
  }

  #respond(state: DeltaTypeState, r: DeltaCacheResponse): boolean {
    if (!this.mayWrite(r.typeUrl, state.ack)) return false;
    const nonce = this.send(r.typeUrl, r.body(), state.ack);
    // Every resource of the type, to a client that knew nothing of it: it now knows the snapshot's map.
    const whole = state.known.size === 0 && r.removed.length === 0 && r.changed.length === r.resources.size ? r.resources : undefined;
    if (whole) state.known.resetTo(whole);
    else {
      for (const res of r.changed) state.known.set(res.name, res.version);
      for (const name of r.removed) state.known.delete(name);
      state.known.rebase(r.resources);
    }
    state.subscribed.rebase(r.resources);
    state.ack.sent(nonce, r.systemVersion, this.ctx.clock.now(), { upserted: r.changed, removed: r.removed, replace: false, whole, base: r.resources });
    return true;
  }
}
