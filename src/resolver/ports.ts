/**
 * What the resolver needs from the rest of the system, and nothing more:
 * which app a request belongs to, how far that app is from serving, a way to
 * ask for its first pod, a signal when that changes, and where one released
 * request goes. Kubernetes mode implements them over the reconciler and the
 * ticket core (src/app.ts wires them); local mode over its process driver.
 * The resolver never knows which.
 */
import type { AppKey } from "../config/app-spec.js";

/** A request as the resolver's ports see it. Header names are lower-case (node:http). */
export interface ResolverRequest {
  readonly method: string;
  /** `:authority` (the Host header). */
  readonly host: string;
  /** Path and query as received. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The client's address, for the per-client limits of the ticket path. */
  readonly client?: string;
}

/** The app a request belongs to and its resolver settings (AppSpec's `resolver` section). */
export interface ResolverApp {
  readonly key: AppKey;
  readonly holdTimeoutMs: number;
  /** A page navigation held this long gets the waiting page; undefined: never (held like any request). */
  readonly waitingPageAfterMs?: number;
}

/**
 * How far an app is from serving, as its inventory sees it:
 * - `asleep`     no pod, none asked for yet;
 * - `waking`     a pod was asked for (replicas 0 → 1), none listed yet;
 * - `starting`   a pod is listed (scheduled) but not Ready;
 * - `ready`      a pod is Ready as the watch sees it: the resolver probes it before anything goes there.
 */
export type Progress = "asleep" | "waking" | "starting" | "ready";

/** Where the resolver's probe goes: the address and path a released request would take. */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** Path inside the pod (the app's podPath). */
  readonly path: string;
}

/** The ticket a forwarded request carries (or was just issued), for the activity it makes. */
export interface TicketRef {
  readonly app: AppKey;
  readonly id: string;
}

/** Where one released request goes. */
export type Destination =
  | {
      readonly kind: "forward";
      /** The ticket Check's decision used or issued (absent only where no ticket applies). */
      readonly ticket?: TicketRef;
      readonly host: string;
      readonly port: number;
      /** The request's path as the upstream must see it (the app's prefix rewritten to its pod path). */
      readonly path: string;
      /** Request headers to set (replacing the client's under those names). */
      readonly setHeaders: readonly (readonly [string, string])[];
      /** Response headers to add (a new ticket's Set-Cookie). */
      readonly responseHeaders: readonly (readonly [string, string])[];
    }
  /** Answered without an upstream (the waiting room when every slot is taken, a 429, …). */
  | { readonly kind: "answer"; readonly status: number; readonly headers: readonly (readonly [string, string])[]; readonly body: string };

export interface ResolverPorts {
  /** The app this request belongs to, by the same host and path rule Check and the route table use (src/routing), or undefined (404). */
  match(host: string, path: string): ResolverApp | undefined;
  progress(app: AppKey): Progress;
  /** The probe target once a pod is Ready as the watch sees it; undefined before. */
  probeTarget(app: AppKey): ProbeTarget | undefined;
  /**
   * Asks for the app's first pod (0 → 1). Idempotent and cheap: the resolver
   * calls it for every request it holds. In Kubernetes mode: the reconciler
   * of the app's owner (in-process, or over the peer API from a replica that
   * does not own it), or, where a KEDA ScaledObject owns replicas, the
   * activity the external scaler reports.
   */
  wake(app: AppKey): void;
  /**
   * Where one released request goes: called once per request, in arrival
   * order (it may issue a ticket). A promise where the ticket comes from the
   * app's owner on another replica (a forwarded admission); it never rejects.
   */
  route(app: AppKey, request: ResolverRequest): Destination | Promise<Destination>;
  /** The resolver's probe went through: the app serves again (the reconciler flips its route back). */
  serving(app: AppKey): void;
  /**
   * A WebSocket (an upgrade the upstream answered 101) forwarded on `ticket`
   * opened: the ticket is active, never idle, until `closed` with the same
   * id. The same activity the gateway's access log reports for a WebSocket
   * through the gateway. Must not throw.
   */
  opened(ticket: TicketRef, connectionId: string): void;
  /** …and closed (either side): the close is activity, the idle timeout counts from here. Must not throw. */
  closed(ticket: TicketRef, connectionId: string): void;
  /** Calls `listener` with an app whose progress may have changed; returns the unsubscribe function. */
  subscribe(listener: (app: AppKey) => void): () => void;
}
