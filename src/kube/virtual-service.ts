/**
 * RouteSwitch over an Istio VirtualService (networking.istio.io/v1): the
 * route named `ticketplane-<app>` (virtualServiceRouteName) in the
 * VirtualService the app names (`resolver.virtualService`, default its
 * name) is the one ticketplane owns. Proxy: its destinations become the
 * resolver's Service, the ones it had saved in an annotation
 * (`ticketplane.dev/serve-route`); Serve: the saved ones come back and the
 * annotation goes. Every other route and field is left as it is: the write
 * is a JSON patch of that one route's `route` list and that annotation,
 * preconditioned on the resourceVersion that was read (a change made
 * meanwhile is a 409 → TP_CONFLICT; the reconciler re-reads) and on the
 * route still being at the index read (a failed `test` is a conflict too).
 * Reads are live GETs: a flip is confirmed by reading it back.
 */
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from "@kubernetes/client-node";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { HostPort } from "../config/address.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { RouteMode, RouteReading, RouteSwitch } from "../reconcile/ports.js";
import { virtualServiceRouteName } from "../routing/names.js";
import { kubeCall, type CallSettings } from "./kube-call.js";

export const VIRTUAL_SERVICE = { group: "networking.istio.io", version: "v1", plural: "virtualservices" } as const;
/** Where the route's destinations wait while the app is at zero (JSON). */
export const SERVE_ROUTE_ANNOTATION = "ticketplane.dev/serve-route";

export interface KubeRouteSwitchOptions {
  readonly custom: CustomObjectsApi;
  readonly call: CallSettings;
  /** The resolver's Service as the mesh reaches it (e.g. ticketplane-resolver.ticketplane-system.svc.cluster.local:9006). */
  readonly resolver: HostPort;
}

type Obj = Record<string, unknown>;

interface Located {
  readonly name: string;
  readonly index: number;
  readonly route: unknown[];
  readonly saved: string | undefined;
  readonly hasAnnotations: boolean;
  readonly mode: RouteMode;
  readonly resourceVersion: string;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON Pointer escaping of one path segment (RFC 6901). */
const pointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

export class KubeRouteSwitch implements RouteSwitch {
  readonly #o: KubeRouteSwitchOptions;

  constructor(options: KubeRouteSwitchOptions) {
    this.#o = options;
  }

  async read(_app: AppKey, spec: AppSpec): Promise<RouteReading> {
    const found = await this.#locate(spec);
    return "kind" in found ? found : { kind: "found", mode: found.mode, resourceVersion: found.resourceVersion };
  }

  async write(app: AppKey, spec: AppSpec, mode: RouteMode, resourceVersion: string): Promise<void> {
    const found = await this.#locate(spec);
    const name = vsName(spec);
    if ("kind" in found) throw new TicketplaneError(found.kind === "missing" ? ERROR_CODES.NOT_FOUND : ERROR_CODES.INVALID_ARGUMENT, found.message, { app, virtualService: name });
    if (found.resourceVersion !== resourceVersion) throw new TicketplaneError(ERROR_CODES.CONFLICT, `VirtualService ${spec.namespace}/${name} changed since it was read`, { app, virtualService: name });
    if (found.mode === mode) return;
    const ops = mode === "Proxy" ? this.#toProxy(found) : toServe(found, `${spec.namespace}/${name}`);
    const body = [{ op: "replace", path: "/metadata/resourceVersion", value: resourceVersion }, { op: "test", path: `/spec/http/${String(found.index)}/name`, value: found.name }, ...ops];
    try {
      await kubeCall(this.#o.call, { op: "flip VirtualService", namespace: spec.namespace, virtualService: name, mode }, (o) => this.#o.custom.patchNamespacedCustomObject({ ...VIRTUAL_SERVICE, namespace: spec.namespace, name, body }, o), setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
    } catch (err) {
      // A failed `test` (the routes moved under us) is the same news as a 409: read again.
      if (err instanceof TicketplaneError && err.context.status === 422) throw new TicketplaneError(ERROR_CODES.CONFLICT, `VirtualService ${spec.namespace}/${name}: its routes moved since they were read`, { app, virtualService: name }, { cause: err });
      throw err;
    }
  }

  #toProxy(found: Located): Obj[] {
    const at = `/spec/http/${String(found.index)}`;
    const annotation = { op: "add", path: found.hasAnnotations ? `/metadata/annotations/${pointer(SERVE_ROUTE_ANNOTATION)}` : "/metadata/annotations", value: found.hasAnnotations ? JSON.stringify(found.route) : { [SERVE_ROUTE_ANNOTATION]: JSON.stringify(found.route) } };
    const { host, port } = this.#o.resolver;
    return [annotation, { op: "replace", path: `${at}/route`, value: [{ destination: { host, port: { number: port } } }] }];
  }

  async #locate(spec: AppSpec): Promise<Located | Exclude<RouteReading, { kind: "found" }>> {
    const name = vsName(spec);
    const where = `VirtualService ${spec.namespace}/${name}`;
    let vs: unknown;
    try {
      vs = await kubeCall(this.#o.call, { op: "read VirtualService", namespace: spec.namespace, virtualService: name }, (o) => this.#o.custom.getNamespacedCustomObject({ ...VIRTUAL_SERVICE, namespace: spec.namespace, name }, o));
    } catch (err) {
      if (err instanceof TicketplaneError && err.code === ERROR_CODES.NOT_FOUND) return { kind: "missing", message: `${where} does not exist` };
      throw err;
    }
    return this.#parse(vs, spec, where);
  }

  #parse(vs: unknown, spec: AppSpec, where: string): Located | Exclude<RouteReading, { kind: "found" }> {
    const routeName = virtualServiceRouteName(spec.name);
    const meta = isObj(vs) && isObj(vs.metadata) ? vs.metadata : {};
    const http = isObj(vs) && isObj(vs.spec) ? vs.spec.http : undefined;
    if (!Array.isArray(http)) return { kind: "malformed", message: `${where}: spec.http is not a list` };
    const index = http.findIndex((r) => isObj(r) && r.name === routeName);
    if (index < 0) return { kind: "missing", message: `${where} has no http route named ${routeName} (the route ticketplane flips)` };
    const route = (http[index] as Obj).route;
    const annotations = isObj(meta.annotations) ? meta.annotations : undefined;
    const saved = savedAnnotation(annotations);
    const mode = routeModeOf(route, saved, this.#o.resolver.host, `${where}: spec.http[${String(index)}].route`);
    if (typeof mode !== "string") return { kind: "malformed", message: mode.malformed };
    return { name: routeName, index, route: route as unknown[], saved, hasAnnotations: annotations !== undefined, mode, resourceVersion: typeof meta.resourceVersion === "string" ? meta.resourceVersion : "" };
  }
}

/** The saved Serve destinations (the annotation's JSON text), if the VirtualService has them. */
export function savedAnnotation(annotations: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const saved = annotations?.[SERVE_ROUTE_ANNOTATION];
  return typeof saved === "string" ? saved : undefined;
}

/**
 * The mode of one http route's destinations (`route`), the one rule both the
 * flip (KubeRouteSwitch) and every replica's Check (VirtualServiceModes)
 * read: Proxy when every destination is the resolver's host (and a route to
 * point back to is saved), Serve otherwise; `malformed` (naming `field`)
 * when it lists no destination, one without a host, or points at the
 * resolver with nothing saved.
 */
export function routeModeOf(route: unknown, saved: string | undefined, resolverHost: string, field: string): RouteMode | { readonly malformed: string } {
  if (!Array.isArray(route) || route.length === 0) return { malformed: `${field} must list at least one destination` };
  const hosts = route.map((d) => (isObj(d) && isObj(d.destination) && typeof d.destination.host === "string" ? d.destination.host : undefined));
  if (hosts.some((h) => h === undefined)) return { malformed: `${field}: every entry needs destination.host` };
  if (!hosts.every((h) => h === resolverHost)) return "Serve";
  if (savedRoute(saved) === undefined) return { malformed: `${field} points at the resolver but annotation ${SERVE_ROUTE_ANNOTATION} holds no route to point back to` };
  return "Proxy";
}

/** The VirtualService that routes the app: `resolver.virtualService`, default the app's name (in the app's namespace). */
export function vsName(spec: Pick<AppSpec, "resolverVirtualService" | "name">): string {
  return spec.resolverVirtualService ?? spec.name;
}

function savedRoute(saved: string | undefined): unknown[] | undefined {
  if (saved === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(saved);
    return Array.isArray(v) && v.length > 0 ? v : undefined;
  } catch {
    return undefined; // unparsable: reported as malformed by the caller
  }
}

function toServe(found: Located, where: string): Obj[] {
  const route = savedRoute(found.saved);
  if (route === undefined) throw new TicketplaneError(ERROR_CODES.INVALID_ARGUMENT, `${where}: no saved route to point back to`, { virtualService: where });
  return [
    { op: "replace", path: `/spec/http/${String(found.index)}/route`, value: route },
    { op: "remove", path: `/metadata/annotations/${pointer(SERVE_ROUTE_ANNOTATION)}` },
  ];
}
