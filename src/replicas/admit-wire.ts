/**
 * What crosses the peer API for a forwarded admission, both ways: the
 * caller's credentials → AdmitRequest, the owner's admission → AdmitResponse
 * → the caller's Allocation. Decoding is strict: a response that does not
 * describe a whole answer is a returned error, and the caller fails closed.
 */
import type { AdmitRequest, AdmitResponse, Pod, Ticket } from "@envoyproxy/protos/peer";
import type { AppKey } from "../config/app-spec.js";
import type { Admission, Allocation, AllocationRequest, Credentials, PodView, RefusalReason, TicketRejection, TicketView } from "../tickets/types.js";

export function toAdmitRequest(app: AppKey, request: AllocationRequest): AdmitRequest {
  return { app, ticketTokens: [...(request.ticketTokens ?? [])], queueTokens: [...(request.queueTokens ?? [])], client: request.client ?? "" };
}

/** The owner's side: what `admit` is given for a forwarded request. */
export function credentialsOf(request: AdmitRequest): Credentials {
  return { ticketTokens: request.ticketTokens, queueTokens: request.queueTokens, ...(request.client === "" ? {} : { client: request.client }) };
}

const EMPTY: Omit<AdmitResponse, "kind"> = { token: "", replaced: "", position: 0, length: 0, queueToken: "", retryAfterMs: 0, reason: "" };

export function toAdmitResponse(admission: Admission): AdmitResponse {
  switch (admission.kind) {
    case "valid":
    case "held":
      return { ...EMPTY, kind: "held", ticket: ticketMessage(admission.ticket), pod: podMessage(admission.pod) };
    case "issued":
      return { ...EMPTY, kind: "issued", ticket: ticketMessage(admission.ticket), pod: podMessage(admission.pod), token: admission.token, replaced: admission.replaced ?? "" };
    case "queued":
      return { ...EMPTY, kind: "queued", position: admission.position, length: admission.length, queueToken: admission.queueToken, retryAfterMs: admission.retryAfterMs };
    case "refused":
      return { ...EMPTY, kind: "refused", reason: admission.reason, retryAfterMs: admission.retryAfterMs };
    case "unknown_app":
      return { ...EMPTY, kind: "unknown_app" };
  }
}

const REFUSALS: readonly string[] = ["queue_full", "no_capacity", "client_limit", "owner_unavailable"] satisfies RefusalReason[];
const REJECTIONS: readonly string[] = ["malformed", "forged", "unknown_key", "expired", "wrong_app", "pod_gone", "released", "unknown_app"] satisfies TicketRejection[];

/** The caller's side: the owner's answer as an Allocation for `app`, or why it is not one. */
export function allocationOf(app: AppKey, r: AdmitResponse): Allocation | string {
  switch (r.kind) {
    case "issued":
      return issuedOf(app, r);
    case "held":
      if (r.ticket === undefined || r.pod === undefined) return "held without ticket or pod";
      return { kind: "held", ticket: ticketView(app, r.ticket), pod: podView(r.pod) };
    case "queued":
      if (r.position < 1 || r.queueToken === "") return "queued without position or queue token";
      return { kind: "queued", position: r.position, length: r.length, queueToken: r.queueToken, retryAfterMs: r.retryAfterMs };
    case "refused":
      if (!REFUSALS.includes(r.reason)) return `refused for an unknown reason ${JSON.stringify(r.reason.slice(0, 40))}`;
      return { kind: "refused", reason: r.reason as RefusalReason, retryAfterMs: r.retryAfterMs };
    case "unknown_app":
      return { kind: "unknown_app" };
    default:
      return `unknown answer kind ${JSON.stringify(r.kind.slice(0, 40))}`;
  }
}

function issuedOf(app: AppKey, r: AdmitResponse): Allocation | string {
  if (r.ticket === undefined || r.pod === undefined || r.token === "") return "issued without ticket, pod or token";
  if (r.replaced !== "" && !REJECTIONS.includes(r.replaced)) return `issued with an unknown replaced reason ${JSON.stringify(r.replaced.slice(0, 40))}`;
  const replaced = r.replaced === "" ? {} : { replaced: r.replaced as TicketRejection };
  return { kind: "issued", ticket: ticketView(app, r.ticket), pod: podView(r.pod), token: r.token, ...replaced };
}

function ticketMessage(t: TicketView): Ticket {
  return { id: t.id, pod: t.pod, slot: t.slot, issuedAt: t.issuedAt, expiresAt: t.expiresAt, lastActiveAt: t.lastActiveAt, openConnections: t.openConnections, keyId: t.keyId ?? "", confirmed: t.confirmed ?? true, client: t.client ?? "" };
}

function ticketView(app: AppKey, t: Ticket): TicketView {
  return {
    id: t.id,
    app,
    pod: t.pod,
    slot: t.slot,
    issuedAt: t.issuedAt,
    expiresAt: t.expiresAt,
    lastActiveAt: t.lastActiveAt,
    openConnections: t.openConnections,
    confirmed: t.confirmed,
    ...(t.keyId === "" ? {} : { keyId: t.keyId }),
    ...(t.client === "" ? {} : { client: t.client }),
  };
}

function podMessage(p: PodView): Pod {
  return { name: p.name, host: p.host, port: p.port, ready: p.ready, draining: p.draining, canary: p.canary, routable: p.routable, slots: p.slots, used: p.used };
}

function podView(p: Pod): PodView {
  return { name: p.name, host: p.host, port: p.port, ready: p.ready, draining: p.draining, canary: p.canary, routable: p.routable, slots: p.slots, used: p.used };
}
