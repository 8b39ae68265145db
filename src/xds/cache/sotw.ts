import { WILDCARD_TYPES, type TypeUrl } from "../resources/type-urls.js";
import { keepAll } from "./delta.js";
import type { EncodedResource } from "./encoded-resource.js";
import type { Snapshot } from "./snapshot.js";
import type { TypeChange } from "./snapshot-diff.js";
import { setVersion } from "./version.js";

/** What a state-of-the-world client asks for and holds, for one type. */
export interface SotwSubscription {
  /** Every resource of the type (LDS/CDS asked with no names, or "*"). */
  readonly wildcard: boolean;
  /** The names asked for (ignored when wildcard). */
  readonly names: ReadonlySet<string>;
  /** version_info of the request that opened the watch (what a reconnecting client says it holds). */
  readonly versionInfo: string;
  /** What this stream has sent of the type (name → resource), or undefined before its first send. */
  readonly sent: ReadonlyMap<string, EncodedResource> | undefined;
}

/**
 * One state-of-the-world response. Wildcard (LDS/CDS): `resources` is the
 * whole type, as the protocol requires, and `whole` is the snapshot's map
 * of it (what the client holds once it applies the response). Named
 * (EDS/RDS): `resources` are only the named resources the client lacks or
 * holds in another version; `removed` are names it asked for that the type
 * no longer has (the protocol cannot say so; the stream forgets them).
 */
export interface SotwResult {
  readonly version: string;
  readonly resources: readonly EncodedResource[];
  readonly removed: readonly string[];
  /** The response is every resource of the type: this map, shared. */
  readonly whole?: ReadonlyMap<string, EncodedResource>;
  /** The response replaces what the client holds (wildcard), whether or not it is `whole`. */
  readonly replace: boolean;
  /** The snapshot's map of the type the response was computed against. */
  readonly base: ReadonlyMap<string, EncodedResource>;
}

const NO_NAMES: readonly string[] = [];

export function isWildcard(typeUrl: TypeUrl, resourceNames: readonly string[]): boolean {
  return WILDCARD_TYPES.has(typeUrl) && (resourceNames.length === 0 || resourceNames.includes("*"));
}

function whole(snapshot: Snapshot, typeUrl: TypeUrl): SotwResult {
  const base = snapshot.resources(typeUrl);
  return { version: snapshot.typeVersion(typeUrl), resources: snapshot.list(typeUrl), removed: NO_NAMES, whole: base, replace: true, base };
}

function named(snapshot: Snapshot, typeUrl: TypeUrl, resources: readonly EncodedResource[], removed: readonly string[]): SotwResult | undefined {
  if (resources.length === 0 && removed.length === 0) return undefined;
  const base = snapshot.resources(typeUrl);
  // Every resource of the type: the shared list, so the body is shared too.
  const list = resources.length === base.size && resources.length > 0 ? snapshot.list(typeUrl) : resources;
  return { version: snapshot.typeVersion(typeUrl), resources: list, removed, replace: false, base };
}

/**
 * Listeners and clusters: a response must carry every resource the client
 * wants, because one it lacks is deleted (a named request, as gRPC clients
 * make, gets every named resource; a wildcard one the whole type).
 */
function mustSendAll(typeUrl: TypeUrl): boolean {
  return WILDCARD_TYPES.has(typeUrl);
}

/** Named LDS/CDS: every named resource, when that set is not what was sent. */
function namedSet(sub: SotwSubscription, typeUrl: TypeUrl, snapshot: Snapshot): SotwResult | undefined {
  const all = snapshot.resources(typeUrl);
  const resources: EncodedResource[] = [];
  for (const name of sub.names) {
    const r = all.get(name);
    if (r) resources.push(r);
  }
  const sent = sub.sent;
  if (sent !== undefined && sent.size === resources.length && resources.every((r) => sent.get(r.name)?.version === r.version)) return undefined;
  return { version: setVersion(resources), resources, removed: NO_NAMES, replace: true, base: all };
}

/**
 * The full SotW decision (a new watch, or a stream that is not in step):
 * the response this client needs from `snapshot`, or undefined when it holds
 * it already. A NACKed version is in `sent`, so it is not sent again until
 * the snapshot changes.
 */
export function sotwResponse(sub: SotwSubscription, typeUrl: TypeUrl, snapshot: Snapshot): SotwResult | undefined {
  const all = snapshot.resources(typeUrl);
  const sent = sub.sent;
  if (sub.wildcard) {
    if (sent === undefined) return sub.versionInfo !== "" && sub.versionInfo === snapshot.typeVersion(typeUrl) ? undefined : whole(snapshot, typeUrl);
    if (sent.size === all.size && [...all.values()].every((r) => sent.get(r.name)?.version === r.version)) return undefined;
    return whole(snapshot, typeUrl);
  }
  if (mustSendAll(typeUrl)) return namedSet(sub, typeUrl, snapshot);
  return sotwForNames(sub, typeUrl, snapshot, sub.names);
}

/** Named: what the client lacks of `names` (newly asked for, or every name), and the names it holds that the type lost. */
export function sotwForNames(sub: SotwSubscription, typeUrl: TypeUrl, snapshot: Snapshot, names: Iterable<string>): SotwResult | undefined {
  if (mustSendAll(typeUrl)) return namedSet(sub, typeUrl, snapshot);
  const all = snapshot.resources(typeUrl);
  const resources: EncodedResource[] = [];
  const removed: string[] = [];
  for (const name of names) {
    const r = all.get(name);
    if (r) {
      if (sub.sent?.get(name)?.version !== r.version) resources.push(r);
    } else if (sub.sent?.has(name)) removed.push(name);
  }
  return named(snapshot, typeUrl, resources, removed.length === 0 ? NO_NAMES : removed);
}

/**
 * The fast path for a stream in step with the snapshot before `change`:
 * wildcard, the whole new type when anything changed; named, the change's
 * resources it asked for and the names it asked for that went away (named
 * LDS/CDS: every named resource, when the change touches one). The change's
 * own arrays when nothing is filtered out, so streams in step share one
 * encoding.
 */
export function sotwFromChange(sub: SotwSubscription, typeUrl: TypeUrl, snapshot: Snapshot, change: TypeChange): SotwResult | undefined {
  if (change.upserted.length === 0 && change.removed.length === 0) return undefined;
  if (sub.wildcard) return whole(snapshot, typeUrl);
  const upserted = keepAll(change.upserted, (r) => sub.names.has(r.name));
  const removed = keepAll(change.removed, (n) => sub.names.has(n));
  if (mustSendAll(typeUrl)) return upserted.length === 0 && removed.length === 0 ? undefined : namedSet(sub, typeUrl, snapshot);
  return named(snapshot, typeUrl, upserted, removed);
}

/**
 * A response that keeps back the removals of `result` (make before break,
 * when the routes that stop using them have not been sent yet): wildcard,
 * the new type plus what the client holds that it drops; named, without the
 * removed names. Undefined when nothing is left to send.
 */
export function withoutRemovals(result: SotwResult, sub: SotwSubscription): SotwResult | undefined {
  if (!result.replace) return result.resources.length === 0 ? undefined : { ...result, removed: NO_NAMES };
  const kept = [...(sub.sent?.values() ?? [])].filter((r) => !result.base.has(r.name));
  if (kept.length === 0) return result;
  const resources = [...result.resources, ...kept];
  return { version: setVersion(resources), resources, removed: NO_NAMES, replace: true, base: result.base };
}

/** Whether `result` drops anything the client holds. */
export function hasRemovals(result: SotwResult, sub: SotwSubscription): boolean {
  if (!result.replace) return result.removed.length > 0;
  const sent = sub.sent;
  if (sent === undefined) return false;
  for (const name of sent.keys()) if (!result.base.has(name)) return true;
  return false;
}
