/**
 * The Check decision, free of gRPC and of any I/O: request attributes and the
 * ticket core's Check ports in, an outcome out. check-response.ts turns the outcome into a
 * CheckResponse; check-service.ts is the gRPC edge.
 *
 * This module (and everything it imports) must stay I/O-free: the valid-ticket
 * path may not touch the network or Kubernetes (a test checks the imports).
 */
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { isWaitingRoomPath } from "../routing/waiting-room-path.js";
import { admit } from "../tickets/admit.js";
import type { CheckPorts } from "../tickets/ports.js";
import type { PodView, TicketRejection, TicketView } from "../tickets/types.js";
import type { AppIndex } from "./app-index.js";
import { readCookies } from "./cookies.js";
import { prefersJson } from "./waiting-room.js";

/** What the decision reads of a Check request. Header names are lower-case (Envoy guarantees it). */
export interface CheckInput {
  /** The calling gateway's node group: only its apps can match (they are all its routes hold). */
  readonly gateway: string;
  readonly host: string;
  readonly path: string;
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
      readonly reason: "queue_full" | "no_capacity";
      readonly retryAfterMs: number;
      readonly json: boolean;
    }
  /** This client holds as many tickets or queue places as `limits` allows: 429. */
  | { readonly kind: "limited"; readonly app: AppSpec; readonly key: AppKey; readonly retryAfterMs: number; readonly json: boolean }
  /** Check cannot decide yet (starting: apps, ledger or routes not in place): 503, and nothing is allocated. */
  | { readonly kind: "starting"; readonly reason: string }
  | { readonly kind: "not_found"; readonly reason: string }
  | { readonly kind: "bad_request"; readonly reason: string };

export type OutcomeKind = CheckOutcome["kind"];

export interface DecideContext {
  /** The ticket core's verify, allocate and activity faces. */
  readonly tickets: CheckPorts;
  readonly apps: AppIndex;
  readonly limits: CheckLimits;
  /** Why Check cannot decide yet, or undefined once it can (apps, ledger and routes in place). */
  readonly notReady?: () => string | undefined;
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

export function decideCheck(input: CheckInput, ctx: DecideContext): CheckOutcome {
  const bad = badInput(input, ctx.limits);
  if (bad !== undefined) return { kind: "bad_request", reason: bad };
  const cookie = input.headers["cookie"];

  const notReady = ctx.notReady?.();
  if (notReady !== undefined) return { kind: "starting", reason: notReady };
  const matched = ctx.apps.match(input.gateway, input.host, input.path);
  if (matched === undefined) return { kind: "not_found", reason: "no app serves this host and path" };
  const { spec: app, key } = matched;
  const ticketTokens = readCookies(cookie, app.ticket.cookieName);
  const queueTokens = readCookies(cookie, app.ticket.queueCookieName);
  const admission = admit(ctx.tickets, key, { ticketTokens, queueTokens, client: input.client });
  const probe = isWaitingRoomPath(input.path, app.pathPrefix);
  const json = probe || prefersJson(input.headers["accept"]);

  switch (admission.kind) {
    case "valid":
      return { kind: "valid", app, key, ticket: admission.ticket, pod: admission.pod, ...(probe ? { probe } : {}) };
    case "issued":
      return {
        kind: "issued",
        app,
        key,
        ticket: admission.ticket,
        pod: admission.pod,
        token: admission.token,
        clearQueueCookie: queueTokens.length > 0,
        ...(admission.replaced === undefined ? {} : { replaced: admission.replaced }),
        ...(probe ? { probe } : {}),
      };
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
        json,
      };
    case "refused":
      if (admission.reason === "client_limit") return { kind: "limited", app, key, retryAfterMs: admission.retryAfterMs, json };
      return { kind: "full", app, key, reason: admission.reason, retryAfterMs: admission.retryAfterMs, json };
    case "unknown_app":
      // The ticket core dropped the app between match and admit (apps are being replaced).
      return { kind: "not_found", reason: "app is not served" };
  }
}
