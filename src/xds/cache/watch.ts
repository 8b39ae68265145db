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
  /** What this stream last sent for the type (name → resource), or undefined before its first send. */
  sent(typeUrl: TypeUrl): ReadonlyMap<string, EncodedResource> | undefined;
}

/** Read-only view of a delta stream. */
export interface DeltaStreamView {
  readonly group: string;
  /** The live subscription for the type; `known` must reflect every response already handed to `respond`. */
  subscription(typeUrl: TypeUrl): DeltaSubscription;
}

export interface SotwCacheResponse {
  readonly typeUrl: TypeUrl;
  /** version_info for the response. */
  readonly version: string;
  readonly resources: readonly EncodedResource[];
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
}

/** Cancels a watch; idempotent. */
export type CancelWatch = () => void;

/**
 * A watch stays open until cancelled. `respond` is called synchronously: at
 * once when the client is behind the current snapshot, then on every
 * snapshot update that changes what the watch covers. Responses of one
 * update reach one stream in push order (CDS, EDS, LDS, RDS), and removals of
 * clusters and endpoints come after the route update that stops using them.
 * To change what a watch covers (names, subscriptions), cancel it and create
 * a new one.
 */
export interface ConfigWatcher {
  createWatch(request: SotwSubscription, stream: SotwStreamView, respond: (response: SotwCacheResponse) => void): CancelWatch;
  createDeltaWatch(request: { readonly typeUrl: TypeUrl }, stream: DeltaStreamView, respond: (response: DeltaCacheResponse) => void): CancelWatch;
  /**
   * The group's own string for a resource name, when its snapshot has that
   * resource (else `name`): streams keep subscribed names as this shared
   * string rather than one decoded copy per stream.
   */
  canonicalName?(group: string, typeUrl: TypeUrl, name: string): string;
}
