/**
 * The Check decision, free of gRPC and of any I/O: request attributes and the
 * ticket core's Check ports in, an outcome out. check-response.ts turns the outcome into a
 * CheckResponse; check-service.ts is the gRPC edge.
 *
 * This module (and everything it imports) must stay I/O-free: the valid-ticket
 * path may not touch the network or Kubernetes (a test checks the imports).
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import type { UnmatchedPolicy } from "../config/config-file.js";
import { ROUTING_HEADER_PREFIX, ROUTING_HEADERS } from "../routing/headers.js";
import { isWaitingRoomPath } from "../routing/waiting-room-path.js";
import { admit } from "../tickets/admit.js";
import type { AdmitPorts, ImmediateCheckPorts } from "../tickets/ports.js";
import type { Admission, PodView, TicketRejection, TicketView } from "../tickets/types.js";
import type { AppIndex } from "./app-index.js";
import { readCookies } from "./cookies.js";
import { prefersJson } from "./waiting-room.js";

/** What the decision reads of a Check request. Header names are lower-case (Envoy guarantees it). */
export interface CheckInput {
  /** The calling gateway's node group: only its apps can match (they are all its routes hold). */
  readonly gateway: string;
  readonly host: string;
  readonly path: string;
  /** From the wire, only the headers Check reads (check-request-codec.ts: CHECK_READS_HEADERS). */
  readonly headers: Readonly<Record<string, string>>;
  /** Envoy's request id (`x-request-id`), for log lines. */
  readonly requestId: string;
  /** The client's address (clientAddress.trustedHops decides which), for the per-client limits; undefined when unknown. */
  readonly client?: string;
}

export interface CheckLimits {
  readonly maxPathLength: number;
  readonly maxHostLength: number;
  readonly maxCookieLength: number;
}

export const DEFAULT_CHECK_LIMITS: CheckLimits = { maxPathLength: 8192, maxHostLength: 1024, maxCookieLength: 16384 };

/**
 * `probe`: the request is the waiting room's live endpoint (routing's
 * waitingRoomPath), which Check answers itself: a valid or new ticket is
 * answered "admitted" (with the new ticket's cookie) instead of being routed,
 * and every other answer is JSON.
 */
export type CheckOutcome =
  | { readonly kind: "valid"; readonly app: AppSpec; readonly key: AppKey; readonly ticket: TicketView; readonly pod: PodView; readonly probe?: true }
  | {
      readonly kind: "issued";
      readonly probe?: true;
      readonly app: AppSpec;
      readonly key: AppKey;
      readonly ticket: TicketView;
      readonly pod: PodView;
      readonly token: string;
      /** Why the ticket the client presented (if any) was not valid. */
      readonly replaced?: TicketRejection;
      /** The client still holds a queue cookie that should be deleted. */
      readonly clearQueueCookie: boolean;
    }
  | {
      readonly kind: "queued";
      readonly app: AppSpec;
      readonly key: AppKey;
      readonly position: number;
      readonly length: number;
      readonly queueToken: string;
      readonly retryAfterMs: number;
      /** The probable wait at this position (ReleaseHistory); absent when unknown. */
      readonly estimatedWaitMs?: number;
      readonly json: boolean;
    }
  | {
      readonly kind: "full";
      readonly app: AppSpec;
      readonly key: AppKey;
      /** no_owner: this replica may not allocate and no owner was asked; owner_unavailable: the app's owner (another replica) could not be asked in time; both fail closed. */
      readonly reason: "queue_full" | "no_capacity" | "no_owner" | "owner_unavailable";
      readonly retryAfterMs: number;
      readonly json: boolean;
    }
  /** This client holds as many tickets or queue places as `limits` allows: 429. */
  | { readonly kind: "limited"; readonly app: AppSpec; readonly key: AppKey; readonly retryAfterMs: number; readonly json: boolean }
  /** Check cannot decide yet (starting: apps, ledger or routes not in place): 503, and nothing is allocated. */
  | { readonly kind: "starting"; readonly reason: string }
  | { readonly kind: "not_found"; readonly reason: string }
  /** No ticketed app, and `unmatched: allow`: allowed as it is, minus these headers (ours, whatever the client sent under them). */
  | { readonly kind: "unmatched"; readonly strip: readonly string[] }
  /**
   * The app's route is in Proxy mode (at zero: the entry point sends its
   * requests to the resolver): allowed as it is, minus these headers, with no
   * ticket verified, issued or queued; the resolver makes this decision
   * itself once a pod serves.
   */
  | { readonly kind: "proxied"; readonly app: AppSpec; readonly key: AppKey; readonly strip: readonly string[] }
  | { readonly kind: "bad_request"; readonly reason: string };

export type OutcomeKind = CheckOutcome["kind"];

/**
 * What the decision reads besides the request. `P` is the ticket side: by
 * default one whose allocator answers at once (the ticket core); Check's
 * edge uses `DecideContext<CheckPorts>`, whose allocator may forward to the
 * app's owner and answer later.
 */
export interface DecideContext<P extends AdmitPorts = ImmediateCheckPorts> {
  /** The ticket core's verify, allocate and activity faces. */
  readonly tickets: P;
  readonly apps: AppIndex;
  readonly limits: CheckLimits;
  /** Why Check cannot decide yet, or undefined once it can (apps, ledger and routes in place). */
  readonly notReady?: () => string | undefined;
  /** A request of no ticketed app: 404 (`deny`, the default) or allowed with our headers stripped (`allow`). */
  readonly unmatched?: UnmatchedPolicy;
  /**
   * Each app's route mode as the entry point routes it (RouteModes): "proxy"
   * lets every request of the app through untouched (`proxied`). Absent:
   * every app serves. Must answer from memory: it runs on every Check.
   */
  readonly routeMode?: (app: AppKey) => "serve" | "proxy";
}

/** Every routing header we define, and any other `x-ticketplane-*` header the request carries, in a stable order. */
export function ourHeadersIn(headers: Readonly<Record<string, string>>): string[] {
  const strip = new Set<string>(Object.values(ROUTING_HEADERS));
  for (const name of Object.keys(headers)) if (name.startsWith(ROUTING_HEADER_PREFIX)) strip.add(name);
  return [...strip];
}

/**
 * Decides one Check: verifies the ticket (a valid one counts as activity),
 * or asks the allocator to issue or queue. WebSockets are not opened here:
 * a connection counts as open once the access log reports its upgrade
 * succeeded. Bad input is an outcome, never an exception; a throw from here
 * is a bug and the edge answers it with a safe denial.
 */
/** Why the request's attributes are unusable, or undefined. */
function badInput(input: CheckInput, limits: CheckLimits): string | undefined {
  if (input.path.length === 0) return "missing path";
  if (input.path.length > limits.maxPathLength) return "path too long";
  if (input.host.length > limits.maxHostLength) return "host too long";
  const cookie = input.headers["cookie"];
  if (cookie !== undefined && cookie.length > limits.maxCookieLength) return "cookie header too long";
  return undefined;
}

/** With the ticket core as the allocator: the outcome at once. */
export function decideCheck(input: CheckInput, ctx: DecideContext): CheckOutcome;
/** With an allocator that forwards to the app's owner: a promise (never rejected) when it forwarded. */
export function decideCheck(input: CheckInput, ctx: DecideContext<AdmitPorts>): CheckOutcome | Promise<CheckOutcome>;
export function decideCheck(input: CheckInput, ctx: DecideContext<AdmitPorts>): CheckOutcome | Promise<CheckOutcome> {
  const bad = badInput(input, ctx.limits);
  if (bad !== undefined) return { kind: "bad_request", reason: bad };
  const cookie = input.headers["cookie"];

  const notReady = ctx.notReady?.();
  if (notReady !== undefined) return { kind: "starting", reason: notReady };
  const matched = ctx.apps.match(input.gateway, input.host, input.path);
  if (matched === undefined) {
    if (ctx.unmatched === "allow") return { kind: "unmatched", strip: ourHeadersIn(input.headers) };
    return { kind: "not_found", reason: "no app serves this host and path" };
  }
  const { spec: app, key } = matched;
  // At zero the entry point routes the app to the resolver: a ticket issued or a place queued here would be for a pod the resolver is already bringing.
  if (ctx.routeMode?.(key) === "proxy") return { kind: "proxied", app, key, strip: ourHeadersIn(input.headers) };
  const ticketTokens = readCookies(cookie, app.ticket.cookieName);
  const queueTokens = readCookies(cookie, app.ticket.queueCookieName);
  const admission = admit(ctx.tickets, key, { ticketTokens, queueTokens, client: input.client });
  // The waiting room's live endpoint (the page polls it) always answers JSON.
  const probe = isWaitingRoomPath(input.path, app.pathPrefix);
  const matchedRequest: Matched = { app, key, queueTokens, probe, accept: input.headers["accept"] };
  // Only an allocator that forwards to the app's owner answers later; a valid ticket never waits.
  return admission instanceof Promise ? admission.then((a) => outcomeOf(a, matchedRequest)) : outcomeOf(admission, matchedRequest);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Matched {
  readonly app: AppSpec;
  readonly key: AppKey;
  readonly queueTokens: readonly string[];
  /** The request is the waiting room's live endpoint. */
  readonly probe: boolean;
  /** The Accept header: read only for an answer that has a body (a valid ticket has none). */
  readonly accept: string | undefined;
}

/** The answer is JSON: the client asked for it, or it is the live endpoint. */
function answersJson(m: Matched): boolean {
  return m.probe || prefersJson(m.accept);
}

function outcomeOf(admission: Admission, m: Matched): CheckOutcome {
  const { app, key, queueTokens, probe } = m;
  switch (admission.kind) {
    case "valid":
    case "held":
      // Every Check lands here or below: one literal, no spread of optional fields.
      return probe ? { kind: "valid", app, key, ticket: admission.ticket, pod: admission.pod, probe } : { kind: "valid", app, key, ticket: admission.ticket, pod: admission.pod };
    case "issued": {
      const issued: Mutable<Extract<CheckOutcome, { kind: "issued" }>> = { kind: "issued", app, key, ticket: admission.ticket, pod: admission.pod, token: admission.token, clearQueueCookie: queueTokens.length > 0 };
      if (admission.replaced !== undefined) issued.replaced = admission.replaced;
      if (probe) issued.probe = probe;
      return issued;
    }
    case "queued":
      return {
        kind: "queued",
        app,
        key,
        position: admission.position,
        length: admission.length,
        queueToken: admission.queueToken,
        retryAfterMs: admission.retryAfterMs,
        ...(admission.estimatedWaitMs === undefined ? {} : { estimatedWaitMs: admission.estimatedWaitMs }),
        json: answersJson(m),
      };
    case "refused":
      if (admission.reason === "client_limit") return { kind: "limited", app, key, retryAfterMs: admission.retryAfterMs, json: answersJson(m) };
      return { kind: "full", app, key, reason: admission.reason, retryAfterMs: admission.retryAfterMs, json: answersJson(m) };
    case "unknown_app":
      // The ticket core dropped the app between match and admit (apps are being replaced).
      return { kind: "not_found", reason: "app is not served" };
  }
}
