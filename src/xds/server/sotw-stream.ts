import type { DiscoveryRequest } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import type { EncodedResource } from "../cache/encoded-resource.js";
import { isWildcard } from "../cache/sotw.js";
import type { CancelWatch, SotwCacheResponse, SotwStreamView } from "../cache/watch.js";
import type { TypeUrl } from "../resources/type-urls.js";
import { AckState } from "./ack-state.js";
import type { SotwCall } from "./ads-service.js";
import { AdsStream, type RequestHead } from "./ads-stream.js";
import { encodeSotwResponse } from "./response-encoding.js";
import type { TypeStatus } from "./status.js";
import type { StreamContext } from "./stream-context.js";

class SotwTypeState {
  names: readonly string[] = [];
  versionInfo = "";
  sent: Map<string, EncodedResource> | undefined;
  readonly ack = new AckState();
  cancel: CancelWatch | undefined;
}

/**
 * One state-of-the-world ADS stream (StreamAggregatedResources). A request
 * whose nonce is not the latest sent for its type is stale and ignored
 * entirely. The watch is re-opened only when the requested names change,
 * so a NACK (same names) never triggers a re-send of the rejected version.
 */
export class SotwStream extends AdsStream implements SotwStreamView {
  readonly #types = new Map<TypeUrl, SotwTypeState>();

  constructor(ctx: StreamContext, call: SotwCall) {
    super(ctx, call, "sotw");
  }

  sent(typeUrl: TypeUrl): ReadonlyMap<string, EncodedResource> | undefined {
    return this.#types.get(typeUrl)?.sent;
  }

  acked(typeUrl: TypeUrl, name: string): EncodedResource | undefined {
    return this.#types.get(typeUrl)?.ack.acked(name);
  }

  protected ackState(typeUrl: TypeUrl): AckState | undefined {
    return this.#types.get(typeUrl)?.ack;
  }

  protected handle(typeUrl: TypeUrl, head: RequestHead, _nonceMatched: boolean, stale: boolean): void {
    const req = head as DiscoveryRequest;
    if (req.resourceNames.length > this.ctx.limits.maxSubscribedNames) {
      this.refuseTooManyNames(typeUrl, req.resourceNames.length, "resource_names lists");
      return;
    }
    if (stale) return;
    let state = this.#types.get(typeUrl);
    const fresh = state === undefined;
    if (!state) this.#types.set(typeUrl, (state = new SotwTypeState()));
    if (!fresh && sameNames(state.names, req.resourceNames)) return;
    state.names = [...req.resourceNames];
    state.versionInfo = req.versionInfo;
    this.refresh(typeUrl);
  }

  protected refresh(typeUrl: TypeUrl): void {
    const state = this.#types.get(typeUrl);
    if (!state) return;
    state.cancel?.();
    state.cancel = undefined;
    if (this.closed) return;
    const request = { typeUrl, resourceNames: state.names, versionInfo: state.versionInfo };
    state.cancel = this.ctx.cache.createWatch(request, this, (r) => this.#respond(state, r));
  }

  protected cancelWatches(): void {
    for (const state of this.#types.values()) {
      state.cancel?.();
      state.cancel = undefined;
    }
  }

  protected typeStatuses(): TypeStatus[] {
    return [...this.#types].map(([typeUrl, s]) => ({
      typeUrl,
      subscription: isWildcard({ typeUrl, resourceNames: s.names, versionInfo: "" }) ? "*" : s.names.length,
      ackedVersion: s.ack.ackedVersion,
      ackedAt: s.ack.ackedAt,
      ackedResources: s.ack.ackedCount,
      lastSentVersion: s.ack.lastSentVersion,
      lastSentNonce: s.ack.lastNonce,
      lastSentAt: s.ack.lastSentAt,
      lastNack: s.ack.lastNack,
    }));
  }

  #respond(state: SotwTypeState, r: SotwCacheResponse): void {
    if (this.blocked) {
      this.markDirty(r.typeUrl);
      return;
    }
    const nonce = this.ctx.nextNonce();
    if (!this.send(r.typeUrl, encodeSotwResponse(r.version, r.typeUrl, nonce, r.resources))) return;
    state.sent = new Map(r.resources.map((res) => [res.name, res]));
    state.ack.sent(nonce, r.version, this.ctx.clock.now(), r.resources, [], true);
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((n) => set.has(n));
}
