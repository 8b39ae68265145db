/**
 * Scale to zero and back, as the reconcile plan decides it (pure).
 *
 * An app with `minPods: 0` wants no pod when it is idle — no ticket, nobody
 * waiting, no open WebSocket, every pod idle for `podCooldown` (its idle
 * window) — whatever `spareTickets` says; and at least one while the
 * resolver holds a request for it (woken).
 *
 * With a route to flip (RouteSwitch), going to zero is two runs: the one
 * that would lower the last replica instead points the route at the resolver
 * (Proxy); the next reads it back, and only when it reads Proxy does the
 * scale to 0 go. A missing or malformed route blocks it (a condition and a
 * Warning). Coming back, the replicas go 0 → 1 at once; the route points back
 * (Serve) once a pod is Ready and the resolver's probe found it answering.
 * An app at zero whose route says Serve is pointed at the resolver.
 */
import type { Recommendation } from "../tickets/index.js";
import type { Observed } from "./observed.js";
import type { AppEvent, RouteMode } from "./ports.js";

export type RouteAction = { readonly kind: "route"; readonly mode: RouteMode; readonly resourceVersion: string };

/** The app has had nothing for its idle window: no ticket, no one waiting, no connection, every pod idle for podCooldown. */
export function isIdle(o: Observed): boolean {
  if (o.queued > 0) return false;
  return o.pods.every((p) => p.tickets === 0 && p.connections === 0 && p.idleSince !== undefined && o.now - p.idleSince >= o.spec.podCooldownMs);
}

/** The policy's recommendation with scale to zero applied (minPods 0 only). */
export function withZero(o: Observed, rec: Recommendation): Recommendation {
  if (o.spec.minPods !== 0 || !rec.ok) return rec;
  if (o.woken === true && rec.desired < 1) return { ...rec, desired: Math.min(1, o.spec.maxPods), reason: `${rec.reason}; a request waits at the resolver` };
  if (o.woken !== true && rec.desired > 0 && isIdle(o)) return { ...rec, desired: 0, reason: `idle for ${String(o.spec.podCooldownMs / 1000)} s with minPods 0` };
  return rec;
}

export interface ZeroStep {
  /** The route flip to write (before any scale). */
  readonly route?: RouteAction;
  /** The scale to 0 must wait (the route is not confirmed Proxy). */
  readonly holdScaleToZero: boolean;
  /** Run again soon: a flip was written and must be read back. */
  readonly settle: boolean;
  readonly warning?: { readonly key: string; readonly event: AppEvent };
  readonly condition?: { readonly ok: boolean; readonly reason: string; readonly message: string };
}

const NOTHING: ZeroStep = { holdScaleToZero: false, settle: false };

/** What the route needs this run, given whether the plan lowers the last replica. */
export function zeroStep(o: Observed, scalesToZero: boolean): ZeroStep {
  const route = o.route;
  if (route === undefined || o.spec.minPods !== 0) return NOTHING;
  const vs = o.spec.resolverVirtualService ?? o.spec.name;
  if (route.kind !== "found") {
    const reason = route.kind === "missing" ? "VirtualServiceMissing" : "VirtualServiceMalformed";
    const message = `not scaled to zero: ${route.message}`;
    return { holdScaleToZero: scalesToZero, settle: false, warning: { key: `${reason}/${vs}`, event: { type: "Warning", reason, message } }, condition: { ok: false, reason, message } };
  }
  const condition = { ok: true, reason: "VirtualServiceFound", message: `VirtualService ${o.spec.namespace}/${vs} routes the app (${route.mode})` };
  const current = o.workloads.reduce((n, w) => n + (w.scale?.replicas ?? 0), 0);
  const ready = o.pods.some((p) => p.ready && !p.draining);
  if (scalesToZero) {
    if (route.mode === "Proxy") return { ...NOTHING, condition };
    return { route: { kind: "route", mode: "Proxy", resourceVersion: route.resourceVersion }, holdScaleToZero: true, settle: true, condition };
  }
  if (route.mode === "Serve" && current === 0 && o.pods.length === 0 && o.woken !== true) {
    return { route: { kind: "route", mode: "Proxy", resourceVersion: route.resourceVersion }, holdScaleToZero: false, settle: true, condition };
  }
  if (route.mode === "Proxy" && ready && o.servingConfirmed === true) {
    return { route: { kind: "route", mode: "Serve", resourceVersion: route.resourceVersion }, holdScaleToZero: false, settle: false, condition };
  }
  return { ...NOTHING, condition };
}

export function routeEvent(a: RouteAction, o: Observed): AppEvent {
  const vs = `${o.spec.namespace}/${o.spec.resolverVirtualService ?? o.spec.name}`;
  return a.mode === "Proxy"
    ? { type: "Normal", reason: "RoutedToResolver", message: `VirtualService ${vs} now sends the app's requests to the resolver (scale to zero)` }
    : { type: "Normal", reason: "RoutedToApp", message: `VirtualService ${vs} now sends the app's requests to its pods again` };
}
