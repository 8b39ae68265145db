/**
 * Each app's route mode as its Istio VirtualService says it, on every
 * replica: an informer on VirtualServices in the watched namespaces, read
 * with the same rule the flip writes by (`routeModeOf`). Check at the
 * ingress gateway asks it on every request: an app whose ticketplane route
 * points at the resolver (Proxy) is let through untouched, because the
 * VirtualService behind Check sends it to the resolver.
 *
 * Why the VirtualService and not the TicketedApp status or the pods: it is
 * what routes the request. The owner's flip is a write to it, every
 * replica's informer sees the same object, so followers and the owner agree
 * (no cross-replica call on Check's path); the mode turns back to Serve only
 * once the flip back is stored (the route really points at the app again),
 * never earlier because a pod turned Ready; and apps defined by k8sTicket
 * annotations, which have no status, are covered alike.
 *
 * A cluster without Istio's CRD (the list is 404) has no VirtualService:
 * logged once, and every app serves.
 */
import { CustomObjectsApi, Watch, type KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { isRecord } from "../config/spec-errors.js";
import { ROUTE_NAME_PREFIX, virtualServiceRouteName } from "../routing/names.js";
import type { RouteModes } from "../runtime/ports.js";
import { Informer, startIfServed, type ResourceSource, type WatchPort } from "./informer.js";
import type { InformerTuning } from "./inventory.js";
import { page, where, type RawList, type Scope } from "./resources.js";
import { routeModeOf, savedAnnotation, VIRTUAL_SERVICE, vsName } from "./virtual-service.js";

/** A VirtualService as cached: the mode of each of its ticketplane routes (`ticketplane-<app>`), nothing else. */
export interface CachedVirtualService {
  readonly namespace: string;
  readonly name: string;
  /**
   * Route name → its mode (a plain object without prototype, so the
   * informer's comparison of stripped objects sees a change); a malformed
   * route is left out (it serves: the reconciler reports it and never scales
   * to zero).
   */
  readonly modes: Readonly<Record<string, "Serve" | "Proxy">>;
}

export interface VirtualServiceModesOptions {
  readonly kubeConfig: KubeConfig;
  /** The watch transport (default: client-node's Watch on kubeConfig). */
  readonly watch?: WatchPort;
  /** Empty: every namespace. */
  readonly namespaces: readonly string[];
  /** The resolver's Service host (the flip's destination): a route that points only there is in Proxy mode. */
  readonly resolverHost: string;
  /** The app's spec (its VirtualService's name), from the inventory; undefined for an app not (or no longer) defined. */
  readonly specOf: (app: AppKey) => Pick<AppSpec, "namespace" | "name" | "resolverVirtualService"> | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly informers?: InformerTuning;
}

/** Every app's mode from its VirtualService, as this replica's informer sees it. A Runnable for every replica (before Check). */
export class VirtualServiceModes implements RouteModes, Runnable {
  readonly name = "virtual-service-modes";
  readonly #o: VirtualServiceModesOptions;
  readonly #informers: Informer<CachedVirtualService>[] = [];
  #live: Informer<CachedVirtualService>[] = [];
  readonly #listeners = new Set<() => void>();
  readonly stop: () => Promise<void>;

  constructor(options: VirtualServiceModesOptions) {
    this.#o = options;
    const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const scopes: Scope[] = options.namespaces.length === 0 ? [undefined] : [...options.namespaces];
    const watch = options.watch ?? new Watch(options.kubeConfig);
    const strip = (object: unknown): CachedVirtualService | undefined => stripVirtualService(object, options.resolverHost);
    for (const scope of scopes) {
      this.#informers.push(
        new Informer({
          source: virtualServicesIn(custom, scope),
          strip,
          keyOf: (v) => `${v.namespace}/${v.name}`,
          watch,
          clock: options.clock,
          logger: options.logger.child({ informer: "virtualservices" }),
          onChange: () => this.#changed(),
          ...(options.informers ?? {}),
        }),
      );
    }
    this.stop = once(async () => {
      for (const i of this.#informers) await i.stop();
    });
  }

  /** Lists the VirtualServices; resolves once they are in (none where Istio's CRD is not served). Rejects when they cannot be listed for good (RBAC). */
  async start(signal: AbortSignal): Promise<void> {
    try {
      const started = await Promise.all(this.#informers.map(async (i) => ((await this.#startOne(i, signal)) ? i : undefined)));
      this.#live = started.filter((i) => i !== undefined);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#changed();
  }

  #startOne(informer: Informer<CachedVirtualService>, signal: AbortSignal): Promise<boolean> {
    return startIfServed(informer, signal, this.#o.logger, "Istio VirtualServices are not served here (no networking.istio.io CRD): every app's route serves");
  }

  /** "proxy" when the app's VirtualService route `ticketplane-<app>` points at the resolver; "serve" otherwise (no app, no VirtualService, no such route, malformed). From memory, at once. */
  mode(app: AppKey): "serve" | "proxy" {
    const spec = this.#o.specOf(app);
    if (spec === undefined) return "serve";
    const key = `${spec.namespace}/${vsName(spec)}`;
    const routeName = virtualServiceRouteName(spec.name);
    for (const i of this.#live) if (i.get(key)?.modes[routeName] === "Proxy") return "proxy";
    return "serve";
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  readinessReasons(): readonly string[] {
    return this.#live.flatMap((i) => i.readinessReason() ?? []);
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

function virtualServicesIn(api: CustomObjectsApi, scope: Scope): ResourceSource {
  const { group, version, plural } = VIRTUAL_SERVICE;
  return {
    description: `VirtualServices ${where(scope)}`,
    path: scope === undefined ? `/apis/${group}/${version}/${plural}` : `/apis/${group}/${version}/namespaces/${scope}/${plural}`,
    async list(p) {
      const params = { group, version, plural, limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) };
      const list: unknown = scope === undefined ? await api.listClusterCustomObject(params) : await api.listNamespacedCustomObject({ ...params, namespace: scope });
      return page(list as RawList);
    },
  };
}

/** The modes of a VirtualService's ticketplane routes; undefined for an object without a name. */
export function stripVirtualService(object: unknown, resolverHost: string): CachedVirtualService | undefined {
  if (!isRecord(object) || !isRecord(object.metadata)) return undefined;
  const m = object.metadata;
  const name = m.name;
  if (typeof name !== "string") return undefined;
  const saved = savedAnnotation(isRecord(m.annotations) ? m.annotations : undefined);
  const http = isRecord(object.spec) && Array.isArray(object.spec.http) ? (object.spec.http as unknown[]) : [];
  const modes = Object.create(null) as Record<string, "Serve" | "Proxy">;
  const seen = new Set<string>();
  http.forEach((r, i) => {
    // The first route of a name is the one the flip edits (KubeRouteSwitch), so the first one counts here too.
    if (!isRecord(r) || typeof r.name !== "string" || !r.name.startsWith(ROUTE_NAME_PREFIX) || seen.has(r.name)) return;
    seen.add(r.name);
    const mode = routeModeOf(r.route, saved, resolverHost, `spec.http[${String(i)}].route`);
    if (typeof mode === "string") modes[r.name] = mode;
  });
  return Object.freeze({ namespace: typeof m.namespace === "string" ? m.namespace : "default", name, modes: Object.freeze(modes) });
}
