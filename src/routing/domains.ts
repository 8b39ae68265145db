/**
 * Envoy's virtual-host selection over a set of domains (one per virtual host),
 * as documented for `VirtualHost.domains` and done by
 * RouteMatcher::findVirtualHost:
 *
 *  1. an exact domain ("www.foo.com");
 *  2. suffix wildcards ("*.foo.com", "*-bar.foo.com"), longest first;
 *  3. prefix wildcards ("foo.*", "foo-*"), longest first;
 *  4. the catch-all "*".
 *
 * A wildcard never matches the empty string: "*.foo.com" does not match
 * ".foo.com". Domains are compared lower-case. No match and no "*": no virtual
 * host, and Envoy answers 404 without trying any route.
 */
import { asciiLower, hostForMatching } from "./authority.js";

/** The catch-all domain: the virtual host for any host no other domain takes. */
export const ANY_HOST = "*";

interface Wildcard<V> {
  /** The domain without its "*": the suffix (or prefix) the host must have. */
  readonly fixed: string;
  readonly value: V;
}

export class DomainIndex<V> {
  readonly #exact = new Map<string, V>();
  /** Longest `fixed` first; equal lengths cannot both match one host. */
  readonly #suffixes: Wildcard<V>[] = [];
  readonly #prefixes: Wildcard<V>[] = [];
  #any: V | undefined;

  /**
   * `entries`: [domain, value], domains unique after lower-casing (Envoy
   * rejects a RouteConfiguration with a duplicate domain); a duplicate throws.
   */
  constructor(entries: Iterable<readonly [string, V]>) {
    const seen = new Set<string>();
    for (const [raw, value] of entries) {
      const domain = asciiLower(raw);
      if (seen.has(domain)) throw new Error(`duplicate virtual host domain "${domain}"`);
      seen.add(domain);
      if (domain === ANY_HOST) this.#any = value;
      else if (domain.startsWith("*")) this.#suffixes.push({ fixed: domain.slice(1), value });
      else if (domain.endsWith("*")) this.#prefixes.push({ fixed: domain.slice(0, -1), value });
      else this.#exact.set(domain, value);
    }
    this.#suffixes.sort((a, b) => b.fixed.length - a.fixed.length);
    this.#prefixes.sort((a, b) => b.fixed.length - a.fixed.length);
  }

  /** The value for a request's `:authority`: its port stripped and lower-cased as Envoy does. */
  select(authority: string): V | undefined {
    // Envoy's fast path: with nothing but "*" the host is not even looked at.
    if (this.#exact.size === 0 && this.#suffixes.length === 0 && this.#prefixes.length === 0) return this.#any;
    const host = hostForMatching(authority);
    const exact = this.#exact.get(host);
    if (exact !== undefined) return exact;
    for (const w of this.#suffixes) if (host.length > w.fixed.length && host.endsWith(w.fixed)) return w.value;
    for (const w of this.#prefixes) if (host.length > w.fixed.length && host.startsWith(w.fixed)) return w.value;
    return this.#any;
  }
}
