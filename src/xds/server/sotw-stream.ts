import type { EncodedResource } from "../cache/encoded-resource.js";
import { LayeredMap } from "../cache/layered-map.js";
import type { DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import type { SotwSubscription } from "../cache/sotw.js";
import type { SotwCacheResponse, SotwStreamView, Watch } from "../cache/watch.js";
import { WILDCARD_TYPES, type TypeUrl } from "../resources/type-urls.js";
import { AckState } from "./ack-state.js";
import type { SotwCall } from "./ads-service.js";
import { AdsStream, type RequestHead } from "./ads-stream.js";
import type { TypeStatus } from "./status.js";
import { requestNames } from "./sotw-request.js";
import type { StreamContext } from "./stream-context.js";

class SotwTypeState implements SotwSubscription {
  wildcard = false;
  /** Asked-for names, as the snapshot's own strings where it has them. */
  readonly names = new Set<string>();
  versionInfo = "";
  /** The fingerprint of the resource_names list `names` was last taken from (RequestNames.fingerprint). */
  namesFingerprint: string | undefined;
  /** What was sent (name → resource): the snapshot map last sent from, shared, plus differences. */
  readonly held = new LayeredMap<EncodedResource, EncodedResource>(
    (r) => r,
    (a, b) => a === b,
  );
  sentAny = false;
  readonly ack = new AckState();
  watch: Watch | undefined;

  get sent(): ReadonlyMap<string, EncodedResource> | undefined {
    return this.sentAny ? this.held : undefined;
  }
}

/**
 * One state-of-the-world ADS stream (StreamAggregatedResources). A request
 * whose nonce is not the latest sent for its type is stale and ignored
 * entirely. LDS/CDS (wildcard) get the whole type whenever it changes, as
 * the protocol requires; EDS/RDS are named subscriptions and get only the
 * named resources that changed (or that the list newly names). A NACK
 * (same names) never triggers a re-send of the rejected version.
 */
export class SotwStream extends AdsStream implements SotwStreamView {
  readonly #types = new Map<TypeUrl, SotwTypeState>();

  constructor(ctx: StreamContext, call: SotwCall) {
    super(ctx, call, "sotw");
  }

  subscription(typeUrl: TypeUrl): SotwSubscription {
    return this.#types.get(typeUrl) ?? { wildcard: false, names: new Set(), versionInfo: "", sent: undefined };
  }

  acked(typeUrl: TypeUrl, name: string): EncodedResource | undefined {
    return this.#types.get(typeUrl)?.ack.acked(name);
  }

  protected ackState(typeUrl: TypeUrl): AckState | undefined {
    return this.#types.get(typeUrl)?.ack;
  }

  protected handle(typeUrl: TypeUrl, head: RequestHead, _nonceMatched: boolean, stale: boolean): void {
    const req = head as DiscoveryRequest;
    const names = requestNames(req);
    if (names.count > this.ctx.limits.maxSubscribedNames) {
      this.refuseTooManyNames(typeUrl, names.count, "resource_names lists");
      return;
    }
    if (stale) return;
    const wildcard = WILDCARD_TYPES.has(typeUrl) && (names.count === 0 || names.star);
    let state = this.#types.get(typeUrl);
    if (state && state.wildcard === wildcard) {
      // The same list as the last one taken (every ACK repeats it): nothing to compare, nothing to decode.
      if (!wildcard && (names.fingerprint === undefined || names.fingerprint !== state.namesFingerprint)) this.#rename(typeUrl, state, names.list());
      state.namesFingerprint = names.fingerprint;
      return;
    }
    if (!state) this.#types.set(typeUrl, (state = new SotwTypeState()));
    state.wildcard = wildcard;
    state.names.clear();
    if (!wildcard) for (const name of names.list()) state.names.add(this.#canonical(typeUrl, name));
    state.namesFingerprint = names.fingerprint;
    state.versionInfo = req.versionInfo;
    this.#open(typeUrl, state);
  }

  /** The list of names changed (or is the same: an ACK): forget the dropped ones, ask the watch for the new ones. */
  #rename(typeUrl: TypeUrl, state: SotwTypeState, list: readonly string[]): void {
    let added: string[] = [];
    for (const name of list) if (!state.names.has(name)) added.push(name);
    if (added.length > 1) added = [...new Set(added)];
    if (added.length === 0 && list.length === state.names.size) return;
    if (state.names.size + added.length !== list.length) {
      // Something was dropped (or the list repeats a name).
      const now = new Set(list);
      for (const name of state.names) {
        if (now.has(name)) continue;
        state.names.delete(name);
        state.held.delete(name);
        state.ack.forget(name);
      }
    }
    const canonical = added.map((n) => this.#canonical(typeUrl, n));
    for (const name of canonical) state.names.add(name);
    // Named LDS/CDS (gRPC clients): every response carries the whole named set, so evaluate it afresh.
    if (WILDCARD_TYPES.has(typeUrl)) this.#open(typeUrl, state);
    else if (canonical.length > 0) state.watch?.subscribe(canonical);
  }

  #canonical(typeUrl: TypeUrl, name: string): string {
    return this.ctx.cache.canonicalName?.(this.group, typeUrl, name) ?? name;
  }

  #open(typeUrl: TypeUrl, state: SotwTypeState): void {
    state.watch?.cancel();
    state.watch = undefined;
    if (this.closed) return;
    state.watch = this.ctx.cache.createWatch({ typeUrl }, this, (r) => this.#respond(state, r));
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
      subscription: s.wildcard ? "*" : s.names.size,
      ackedVersion: s.ack.ackedVersion,
      ackedAt: s.ack.ackedAt,
      ackedResources: s.ack.ackedCount,
      lastSentVersion: s.ack.lastSentVersion,
      lastSentNonce: s.ack.lastNonce,
      lastSentAt: s.ack.lastSentAt,
      lastNack: s.ack.lastNack,
    }));
  }

  #respond(state: SotwTypeState, r: SotwCacheResponse): boolean {
    if (!this.mayWrite(r.typeUrl, state.ack)) return false;
    const nonce = this.send(r.typeUrl, r.body(), state.ack);
    const held = state.held;
    // Every resource of the type, to a client that held nothing of it: it now holds the snapshot's map.
    const whole = r.whole ?? (held.size === 0 && r.removed.length === 0 && r.resources.length === r.base.size ? r.base : undefined);
    if (whole) held.resetTo(whole);
    else {
      if (r.replace) held.clear();
      for (const name of r.removed) held.delete(name);
      for (const res of r.resources) held.set(res.name, res);
      held.rebase(r.base);
    }
    state.sentAny = true;
    state.ack.sent(nonce, r.version, this.ctx.clock.now(), { upserted: r.resources, removed: r.removed, replace: r.replace, whole, base: r.base });
    return true;
  }
}
