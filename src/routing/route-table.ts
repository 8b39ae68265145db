/**
 * The routes of one gateway node group, as both sides must see them: the
 * RouteConfiguration pushed to that group's gateways is built from a
 * RouteTable (src/xds/resources/route-configuration.ts), and Check matches
 * requests with a RouteTable of the same apps (src/authz/app-index.ts). One
 * definition of virtual hosts, route order and matching, so the app Check
 * issues a ticket for is the app whose route Envoy then takes.
 *
 * Envoy's behaviour it follows: one virtual host is picked by the Host
 * header (see domains.ts and authority.ts); then only that virtual host's
 * routes are tried, in order, and the first whose prefix starts `:path` wins
 * (case-sensitive). There is no fall-through to the "*" virtual host and no
 * "bare" match: `/a` is not under `/a/`.
 */
import type { AppKey } from "../config/app-spec.js";
import { asciiLower } from "./authority.js";
import { ANY_HOST, DomainIndex } from "./domains.js";

/** One app's place in its group's routes. */
export interface AppRoute {
  /** `namespace/name`. */
  readonly key: AppKey;
  /** Virtual-host domain: a host name or "*." wildcard (case-insensitive); absent: any host ("*"). */
  readonly host?: string | undefined;
  /**
   * Starts and ends with "/" and holds no "?" or "#" (config guarantees it),
   * so matching it against `:path` with or without the query gives the same app.
   */
  readonly pathPrefix: string;
}

/** One virtual host: its single domain and its apps in match order. */
export interface VirtualHostRoutes<R extends AppRoute> {
  /** Lower-case host, wildcard, or "*" (ANY_HOST) for the apps without a host. */
  readonly domain: string;
  /** Longest prefix first; equal lengths by prefix, then key. The first app whose prefix starts the path is the match. */
  readonly routes: readonly R[];
}

export class RouteTable<R extends AppRoute = AppRoute> {
  /** Sorted by domain (so "*" first): the order the RouteConfiguration lists them. */
  readonly virtualHosts: readonly VirtualHostRoutes<R>[];
  readonly #domains: DomainIndex<VirtualHostRoutes<R>>;

  constructor(apps: Iterable<R>) {
    const byDomain = new Map<string, R[]>();
    for (const app of apps) {
      const domain = domainOf(app);
      const list = byDomain.get(domain);
      if (list === undefined) byDomain.set(domain, [app]);
      else list.push(app);
    }
    this.virtualHosts = [...byDomain.entries()].sort(([a], [b]) => compare(a, b)).map(([domain, routes]) => ({ domain, routes: routes.sort(byRouteOrder) }));
    this.#domains = new DomainIndex(this.virtualHosts.map((vh) => [vh.domain, vh] as const));
  }

  /** The virtual host Envoy picks for this `:authority`, or undefined (Envoy: 404, no route). */
  virtualHostFor(authority: string): VirtualHostRoutes<R> | undefined {
    return this.#domains.select(authority);
  }

  /**
   * The app whose routes Envoy takes for this `:authority` and `:path`, or
   * undefined. Allocates nothing unless the table has host-specific virtual
   * hosts (then only the port-free, lower-cased host).
   */
  match(authority: string, path: string): R | undefined {
    const vh = this.virtualHostFor(authority);
    if (vh === undefined) return undefined;
    for (const app of vh.routes) if (path.startsWith(app.pathPrefix)) return app;
    return undefined;
  }
}

/** The virtual-host domain of an app: its host lower-cased, "*" without one. */
function domainOf(app: AppRoute): string {
  return app.host === undefined ? ANY_HOST : asciiLower(app.host);
}

/** Route order within a virtual host: longer prefixes first, so "/a/b/" wins over "/a/"; ties by prefix, then key. */
function byRouteOrder(a: AppRoute, b: AppRoute): number {
  return b.pathPrefix.length - a.pathPrefix.length || compare(a.pathPrefix, b.pathPrefix) || compare(a.key, b.key);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
