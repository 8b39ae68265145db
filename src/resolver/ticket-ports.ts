/**
 * ResolverPorts over the mode-neutral runtime: the ticket core's views say
 * which app a request belongs to (the same RouteTable Check matches with)
 * and how far its pods are; Check's own decision (src/authz) says where a
 * released request goes. Every mode that has a ticket core uses this; a mode
 * brings only `wake` (Kubernetes: the reconciler, or KEDA's activity; local:
 * its process driver) and, optionally, `serving`.
 *
 * The ticket path across the flip: a released request is decided exactly as
 * Check would decide it at the gateway — its ticket verified, or a new one
 * issued (Set-Cookie on the answer) on a pod that takes tickets — and goes
 * to that pod, its prefix rewritten to the pod path as the gateway's route
 * does. So the user's first request after zero already holds a ticket, and
 * the next one, through Check at the gateway once the route is flipped back,
 * presents it.
 */
import { AppIndex } from "../authz/app-index.js";
import { toCheckResponse } from "../authz/check-response.js";
import { decideCheck, DEFAULT_CHECK_LIMITS, type CheckOutcome } from "../authz/decide-check.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { appKey } from "../config/app-spec.js";
import { isServing } from "../tickets/pod-state.js";
import type { ActivityRecorder, AdmitPorts, TicketViews } from "../tickets/ports.js";
import { specOf } from "../tickets/spec-of.js";
import type { Destination, ProbeTarget, Progress, ResolverApp, ResolverPorts, ResolverRequest } from "./ports.js";

export interface TicketResolverPortsOptions {
  readonly views: Pick<TicketViews, "apps" | "pods" | "subscribe">;
  /** Check's ticket side: the ticket core (or the owner gate over it), or, with several replicas, the one that allocates through the app's owner. */
  readonly tickets: AdmitPorts;
  /**
   * Where the activity of released requests and WebSockets goes: the same
   * sink as Check's and the access log's (on a follower, batches to the
   * owner). Default: `tickets`.
   */
  readonly activity?: ActivityRecorder;
  /** Asks for the app's first pod (see ResolverPorts.wake). */
  readonly wake: (app: AppKey) => void;
  /** The resolver found the app serving (see ResolverPorts.serving). */
  readonly serving?: (app: AppKey) => void;
}

/** The resolver's settings of an app, from its spec. */
export function resolverAppOf(spec: AppSpec): ResolverApp {
  return {
    key: appKey(spec.namespace, spec.name),
    holdTimeoutMs: spec.resolverHoldTimeoutMs,
    ...(spec.resolverWaitingPage ? { waitingPageAfterMs: spec.resolverWaitingPageAfterMs } : {}),
  };
}

/** The path a pod sees: the app's prefix replaced by its pod path (Envoy's prefix_rewrite). */
export function rewritePath(path: string, spec: Pick<AppSpec, "pathPrefix" | "podPath">): string {
  return path.startsWith(spec.pathPrefix) ? spec.podPath + path.slice(spec.pathPrefix.length) : path;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join("; ") : v;
}

export function createTicketResolverPorts(o: TicketResolverPortsOptions): ResolverPorts & { close(): void } {
  const index = new AppIndex(o.views);
  const activity = o.activity ?? o.tickets;
  // Check's decision verifies and allocates on the ticket core; the activity it records (a valid ticket used) goes to the shared sink.
  const tickets: AdmitPorts = activity === o.tickets ? o.tickets : { verify: (a, t) => o.tickets.verify(a, t), allocate: (a, r) => o.tickets.allocate(a, r), touch: (a, t) => activity.touch(a, t), openConnection: (a, t, c) => activity.openConnection(a, t, c), closeConnection: (c) => activity.closeConnection(c) };
  const woken = new Set<AppKey>();
  const ports: ResolverPorts & { close(): void } = {
    match(host, path) {
      // Any gateway group: the resolver serves every group's apps (each app's route names one).
      const m = index.matchAnyGroup(host, path);
      return m === undefined ? undefined : resolverAppOf(m.spec);
    },
    progress(app): Progress {
      const pods = o.views.pods(app);
      if (pods.some(isServing)) return "ready";
      if (pods.length > 0) return "starting";
      return woken.has(app) ? "waking" : "asleep";
    },
    probeTarget(app): ProbeTarget | undefined {
      const spec = specOf(o.views, app);
      // A pod that takes tickets: Ready as the watch sees it, not draining, and routable.
      const pod = o.views.pods(app).find(isServing);
      return spec === undefined || pod === undefined ? undefined : { host: pod.host, port: pod.port, path: spec.podPath };
    },
    wake(app) {
      woken.add(app);
      o.wake(app);
    },
    serving(app) {
      woken.delete(app);
      o.serving?.(app);
    },
    route(app, request) {
      const outcome = decide(o.views, tickets, index, app, request);
      return outcome instanceof Promise ? outcome.then((decided) => destinationOf(decided, request.path)) : destinationOf(outcome, request.path);
    },
    opened(ticket, connectionId) {
      activity.openConnection(ticket.app, ticket.id, connectionId);
    },
    closed(ticket, connectionId) {
      activity.closeConnection(connectionId);
      // The close itself is activity (as the access log counts it): the idle timeout starts now.
      activity.touch(ticket.app, ticket.id);
    },
    subscribe(listener) {
      return o.views.subscribe((e) => {
        if (e.kind === "apps") for (const s of o.views.apps()) listener(appKey(s.namespace, s.name));
        else if (e.kind === "pods") listener(e.app);
      });
    },
    close: () => index.close(),
  };
  return ports;
}

function decide(views: TicketResolverPortsOptions["views"], tickets: AdmitPorts, index: AppIndex, app: AppKey, r: ResolverRequest): CheckOutcome | Promise<CheckOutcome> {
  const spec = specOf(views, app);
  const headers: Record<string, string> = {};
  for (const name of ["cookie", "accept"]) {
    const v = single(r.headers[name]);
    if (v !== undefined) headers[name] = v;
  }
  return decideCheck({ gateway: spec?.gateway ?? "default", host: r.host, path: r.path, headers, requestId: single(r.headers["x-request-id"]) ?? "", ...(r.client === undefined ? {} : { client: r.client }) }, { tickets, apps: index, limits: DEFAULT_CHECK_LIMITS });
}

/** Check's answer as a Destination: allowed → the pod (with Check's headers and Set-Cookie); denied → its answer. */
function destinationOf(outcome: CheckOutcome, path: string): Destination {
  const response = toCheckResponse(outcome);
  if ((outcome.kind === "valid" || outcome.kind === "issued") && response.okResponse !== undefined) {
    const ok = response.okResponse;
    const pairs = (list: typeof ok.headers) => list.flatMap((h) => (h.header === undefined ? [] : [[h.header.key, h.header.value] as const]));
    return { kind: "forward", ticket: { app: outcome.key, id: outcome.ticket.id }, host: outcome.pod.host, port: outcome.pod.port, path: rewritePath(path, outcome.app), setHeaders: pairs(ok.headers), responseHeaders: pairs(ok.responseHeadersToAdd) };
  }
  const denied = response.deniedResponse;
  const headers = (denied?.headers ?? []).flatMap((h) => (h.header === undefined ? [] : [[h.header.key, h.header.value] as const]));
  return { kind: "answer", status: denied?.status?.code ?? 503, headers, body: denied?.body ?? "" };
}
