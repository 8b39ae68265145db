/**
 * Which app a request belongs to: the app whose host matches (apps with a host
 * win over host-less ones) and whose `pathPrefix` is the longest prefix of the
 * request path. Built once per set of apps; `match` allocates nothing beyond
 * the normalised host.
 */
import type { AppSpec } from "../config/app-spec.js";

interface Entry {
  readonly spec: AppSpec;
  /** Lower-case host without port, or undefined for any host. */
  readonly host: string | undefined;
  readonly prefix: string;
  /** The prefix without its trailing slash, so `/app` matches an app at `/app/`. */
  readonly bare: string;
}

export class AppMatcher {
  /** Sorted: host-specific first, then longest prefix first. */
  readonly #entries: readonly Entry[];

  constructor(specs: readonly AppSpec[]) {
    const entries = specs.map((spec): Entry => {
      const prefix = spec.pathPrefix.length > 0 ? spec.pathPrefix : "/";
      const bare = prefix.length > 1 && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
      return { spec, host: spec.host === undefined ? undefined : normaliseHost(spec.host), prefix, bare };
    });
    entries.sort((a, b) => Number(b.host !== undefined) - Number(a.host !== undefined) || b.prefix.length - a.prefix.length);
    this.#entries = entries;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The app for this `:authority` and `:path` (query and fragment ignored), or undefined. */
  match(host: string, path: string): AppSpec | undefined {
    const h = this.#needsHost() ? normaliseHost(host) : "";
    const pathEnd = endOfPath(path);
    for (const e of this.#entries) {
      if (e.host !== undefined && e.host !== h) continue;
      if (pathEnd >= e.prefix.length && path.startsWith(e.prefix)) return e.spec;
      if (pathEnd === e.bare.length && path.startsWith(e.bare)) return e.spec;
    }
    return undefined;
  }

  #needsHost(): boolean {
    return this.#entries.length > 0 && this.#entries[0]?.host !== undefined;
  }
}

/** Lower-case, without a `:port` suffix (IPv6 literals in brackets keep their colons). */
export function normaliseHost(host: string): string {
  let h = host;
  const colon = h.lastIndexOf(":");
  if (colon >= 0 && h.indexOf("]", colon) < 0 && (h.startsWith("[") || h.indexOf(":") === colon)) h = h.slice(0, colon);
  return h.toLowerCase();
}

function endOfPath(path: string): number {
  const q = path.indexOf("?");
  const f = path.indexOf("#");
  if (q < 0) return f < 0 ? path.length : f;
  return f < 0 ? q : Math.min(q, f);
}
