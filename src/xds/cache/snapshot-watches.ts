import type { TypeUrl } from "../resources/type-urls.js";
import { computeDelta, deltaFromChange, isEmptyDelta } from "./delta.js";
import type { Snapshot } from "./snapshot.js";
import type { TypeChange } from "./snapshot-diff.js";
import { changeTouches, isWildcard, sotwResponse, type SotwSubscription } from "./sotw.js";
import type { DeltaCacheResponse, DeltaStreamView, SotwCacheResponse, SotwStreamView } from "./watch.js";

/** One open watch inside the cache. `base` is the snapshot the stream is known to be in step with (for the fast path). */
export interface CacheWatch {
  readonly typeUrl: TypeUrl;
  /** Evaluates the watch against `next`; `change` is the shared prev→next diff of its type. */
  update(prev: Snapshot | undefined, next: Snapshot, change: TypeChange): void;
}

export class SotwWatch implements CacheWatch {
  readonly typeUrl: TypeUrl;
  #base: Snapshot | undefined;
  readonly #wildcard: boolean;
  readonly #names: ReadonlySet<string>;

  constructor(
    private readonly request: SotwSubscription,
    private readonly stream: SotwStreamView,
    private readonly respond: (r: SotwCacheResponse) => void,
  ) {
    this.typeUrl = request.typeUrl;
    this.#wildcard = isWildcard(request);
    this.#names = new Set(request.resourceNames);
  }

  update(prev: Snapshot | undefined, next: Snapshot, change: TypeChange): void {
    const fast = this.#base !== undefined && this.#base === prev;
    this.#base = next;
    if (fast && !changeTouches(this.#wildcard, this.#names, change)) return;
    const result = sotwResponse(this.request, next, this.stream.sent(this.typeUrl));
    if (result) this.respond({ typeUrl: this.typeUrl, ...result });
  }
}

export class DeltaWatch implements CacheWatch {
  #base: Snapshot | undefined;

  constructor(
    readonly typeUrl: TypeUrl,
    private readonly stream: DeltaStreamView,
    private readonly respond: (r: DeltaCacheResponse) => void,
  ) {}

  update(prev: Snapshot | undefined, next: Snapshot, change: TypeChange): void {
    const fast = this.#base !== undefined && this.#base === prev;
    this.#base = next;
    const sub = this.stream.subscription(this.typeUrl);
    const resources = next.resources(this.typeUrl);
    const delta = fast ? deltaFromChange(sub, change) : computeDelta(sub, resources);
    if (!isEmptyDelta(delta)) this.respond({ typeUrl: this.typeUrl, systemVersion: next.typeVersion(this.typeUrl), ...delta, resources });
  }
}
