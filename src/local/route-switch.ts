/**
 * Local mode's scale-to-zero route flip: each app's mode (Serve, or Proxy
 * at zero) kept in memory with a resourceVersion, under the same read/write
 * contract as the Kubernetes VirtualService flip (src/kube/virtual-service.ts),
 * so the reconciler drives both alike. The dev gateway follows it through
 * xDS: in Proxy mode the app's route without a ticket goes to the resolver,
 * as a flipped VirtualService sends the app's traffic there in Istio.
 */
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppKey } from "../config/app-spec.js";
import type { RouteMode, RouteReading, RouteSwitch } from "../reconcile/ports.js";
import type { RouteModes } from "../runtime/ports.js";

interface Route {
  readonly mode: RouteMode;
  readonly version: number;
}

const INITIAL: Route = { mode: "Serve", version: 1 };

export class LocalRouteSwitch implements RouteSwitch, RouteModes {
  readonly #apps: ReadonlySet<AppKey>;
  readonly #routes = new Map<AppKey, Route>();
  readonly #listeners = new Set<() => void>();

  /** `apps`: the local file's apps; every one starts in Serve. */
  constructor(apps: Iterable<AppKey>) {
    this.#apps = new Set(apps);
  }

  read(app: AppKey): Promise<RouteReading> {
    if (!this.#apps.has(app)) return Promise.resolve({ kind: "missing", message: `no local app ${app}` });
    const route = this.#routes.get(app) ?? INITIAL;
    return Promise.resolve({ kind: "found", mode: route.mode, resourceVersion: String(route.version) });
  }

  /** TP_CONFLICT when the route changed since `resourceVersion` was read; TP_NOT_FOUND for an app not in the file. */
  write(app: AppKey, _spec: unknown, mode: RouteMode, resourceVersion: string): Promise<void> {
    if (!this.#apps.has(app)) return Promise.reject(new TicketplaneError(ERROR_CODES.NOT_FOUND, `no local app ${app}`, { app }));
    const route = this.#routes.get(app) ?? INITIAL;
    if (String(route.version) !== resourceVersion) {
      return Promise.reject(new TicketplaneError(ERROR_CODES.CONFLICT, `the route of app ${app} changed (resourceVersion ${route.version}, not ${resourceVersion})`, { app, resourceVersion }));
    }
    this.#routes.set(app, { mode, version: route.version + 1 });
    if (mode !== route.mode) for (const listener of [...this.#listeners]) listener();
    return Promise.resolve();
  }

  mode(app: AppKey): "serve" | "proxy" {
    return (this.#routes.get(app) ?? INITIAL).mode === "Proxy" ? "proxy" : "serve";
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
