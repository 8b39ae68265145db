/**
 * The seam between the cache and the transport (go-control-plane's
 * ConfigWatcher). The server owns per-stream state and exposes it read-only;
 * the cache interprets it and calls `respond` with what to send. The cache
 * never imports the server.
 */
import type { TypeUrl } from "../resources/type-urls.js";
import type { DeltaSubscription } from "./delta.js";
import type { EncodedResource } from "./encoded-resource.js";
import type { SotwSubscription } from "./sotw.js";

/** Read-only view of a state-of-the-world stream. */
export interface SotwStreamView {
  readonly group: string;
  /** The live subscription for the type; `sent` must reflect every response `respond` accepted. */
  subscription(typeUrl: TypeUrl): SotwSubscription;
}

/** Read-only view of a delta stream. */
export interface DeltaStreamView {
  readonly group: string;
  /**
   * The live subscription for the type; `known` must reflect every
   * response `respond` accepted. The same object on every call for a type
   * (a watch reads it once, when it is created).
   */
  subscription(typeUrl: TypeUrl): DeltaSubscription;
}

export interface SotwCacheResponse {
  readonly typeUrl: TypeUrl;
  /** version_info for the response. */
  readonly version: string;
  /** What the response carries: the whole type (wildcard) or the named resources the client lacks. */
  readonly resources: readonly EncodedResource[];
  /** Named: asked-for names the type no longer has (not on the wire; the stream forgets them). */
  readonly removed: readonly string[];
  /** Wildcard: the response replaces what the client holds. */
  readonly replace: boolean;
  /** Set when the response is every resource of the type: the snapshot's map, shared. */
  readonly whole?: ReadonlyMap<string, EncodedResource>;
  /** The snapshot's resources of the type the response was computed against (shared, immutable). */
  readonly base: ReadonlyMap<string, EncodedResource>;
  /** The encoded response without its nonce; the same buffer for every stream sending the same response. */
  body(): Buffer;
}

export interface DeltaCacheResponse {
  readonly typeUrl: TypeUrl;
  /** The snapshot's version of the whole type (system_version_info, informational). */
  readonly systemVersion: string;
  readonly changed: readonly EncodedResource[];
  readonly removed: readonly string[];
  /**
   * The snapshot's resources of the type this response was computed
   * against (shared, immutable): a base a stream may keep what it knows
   * as, instead of a private copy.
   */
  readonly resources: ReadonlyMap<string, EncodedResource>;
  /** The encoded response without its nonce; the same buffer for every stream sending the same response. */
  body(): Buffer;
}

/**
 * Takes a response: true when the stream sent it (and its view now reflects
 * it), false when the stream is busy (writes not drained). After false the
 * watch sends nothing more until `resume()`, which answers against the
 * snapshot current then: responses coalesce to the latest snapshot.
 */
export type Respond<R> = (response: R) => boolean;

/** One open watch. */
export interface Watch {
  /** Stops the watch; idempotent. */
  cancel(): void;
  /**
   * Catches up after `respond` returned false: responds now with what the
   * client lacks of the current snapshot. `holdRemovals` keeps back what it
   * would remove (the stream has routes to send first); returns true when
   * something was kept back, so the stream resumes the watch again later.
   */
  resume(holdRemovals?: boolean): boolean;
  /** The stream now also asks for `names`: responds with what the client lacks of them. */
  subscribe(names: readonly string[]): void;
}

/**
 * A watch stays open until cancelled. `respond` is called synchronously: at
 * once when the client is behind the current snapshot, then on every
 * snapshot update that changes what the watch covers, and on `subscribe` and
 * `resume`. Responses of one update reach one stream in push order (CDS,
 * EDS, LDS, RDS), and removals of clusters and endpoints come after the
 * route update that stops using them. Names a stream stops asking for it
 * drops from its own view; to switch between wildcard and names, cancel
 * the watch and create a new one.
 */
export interface ConfigWatcher {
  createWatch(request: { readonly typeUrl: TypeUrl }, stream: SotwStreamView, respond: Respond<SotwCacheResponse>): Watch;
  createDeltaWatch(request: { readonly typeUrl: TypeUrl }, stream: DeltaStreamView, respond: Respond<DeltaCacheResponse>): Watch;
  /**
   * The group's own string for a resource name, when its snapshot has that
   * resource (else `name`): streams keep subscribed names as this shared
   * string rather than one decoded copy per stream.
   */
  canonicalName?(group: string, typeUrl: TypeUrl, name: string): string;
}
