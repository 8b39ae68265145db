/**
 * Which app a Check request belongs to: a RouteTable (src/routing) per gateway
 * node group, the same tables the group's RouteConfiguration is built from, so
 * Check picks exactly the app whose route Envoy takes. A request is matched
 * only against the apps of the group its gateway belongs to (the
 * `x-ticketplane-gateway` metadata). The tables follow the ticket core's apps: rebuilt
 * on the first lookup after an `apps` change, never per request.
 */
import { appKey, type AppSpec } from "../config/app-spec.js";
import { type AppRoute, RouteTable } from "../routing/index.js";
import type { TicketViews } from "../tickets/ports.js";

/** A matched app: its key (built once, not per request) and its spec. */
export interface MatchedApp extends AppRoute {
  readonly spec: AppSpec;
}

export class AppIndex {
  readonly #views: Pick<TicketViews, "apps" | "subscribe">;
  #tables: ReadonlyMap<string, RouteTable<MatchedApp>> | undefined;
  readonly #unsubscribe: () => void;

  constructor(views: Pick<TicketViews, "apps" | "subscribe">) {
    this.#views = views;
    this.#unsubscribe = views.subscribe((change) => {
      if (change.kind === "apps") this.#tables = undefined;
    });
  }

  /** The app of gateway group `group` that Envoy routes this `:authority` and `:path` to, or undefined (Envoy: no route). */
  match(group: string, authority: string, path: string): MatchedApp | undefined {
    this.#tables ??= tablesByGroup(this.#views.apps());
    return this.#tables.get(group)?.match(authority, path);
  }

  /** The app any group's table routes this `:authority` and `:path` to, groups in the order their first app appears (the resolver serves every group's apps). */
  matchAnyGroup(authority: string, path: string): MatchedApp | undefined {
    this.#tables ??= tablesByGroup(this.#views.apps());
    for (const table of this.#tables.values()) {
      const m = table.match(authority, path);
      if (m !== undefined) return m;
    }
    return undefined;
  }

  /** Stops following the ticket core. */
  close(): void {
    this.#unsubscribe();
  }
}

function tablesByGroup(specs: readonly AppSpec[]): Map<string, RouteTable<MatchedApp>> {
  const groups = new Map<string, MatchedApp[]>();
  for (const spec of specs) {
    const app: MatchedApp = { key: appKey(spec.namespace, spec.name), host: spec.host, pathPrefix: spec.pathPrefix, spec };
    const list = groups.get(spec.gateway);
    if (list === undefined) groups.set(spec.gateway, [app]);
    else list.push(app);
  }
  return new Map([...groups].map(([group, apps]) => [group, new RouteTable(apps)]));
}
