/**
 * What Envoy's HTTP filter chain (ext_authz, then the router) decides for one
 * request, before any byte goes upstream: a local reply, or where to forward
 * with which headers. Mirrors Envoy's order:
 *
 *  1. the route is picked from the request as it came;
 *  2. ext_authz calls Check (when the listener has the filter and the route
 *     picked does not disable it per route). An error or
 *     timeout fails closed with `status_on_error` (or lets the request
 *     through with `failure_mode_allow`); a denial sends its status, headers
 *     and body; an OK applies `headers`, `headers_to_remove` and the query
 *     parameters to the request and keeps `response_headers_to_add` for the
 *     response. With `clear_route_cache` and an answer that carries any
 *     request mutation, the route is picked again — which is how the cluster header Check set chooses the pod;
 *  3. the router: no route → 404; direct_response → its status and body; a
 *     cluster the gateway lacks → cluster_not_found_response_code (503); a
 *     cluster without a healthy endpoint → 503 "no healthy upstream"; a
 *     WebSocket the listener and route do not allow → 403.
 */
import type { HeaderValueOption } from "@envoyproxy/protos/envoy/config/core/v3/base";
import type { CheckResponse } from "@envoyproxy/protos/envoy/service/auth/v3/external_auth";
import type { EntryFacts } from "./access-log.js";
import type { CheckResult, DownstreamRequest } from "./check-client.js";
import type { GatewayState } from "./gateway-state.js";
import { applyHeaderOptions, applyQueryParameters, type HeaderList, removeHeaders } from "./header-mutation.js";
import type { ExtAuthzSettings, Endpoint } from "./resources.js";
import { type CompiledRoute, type ForwardAction, type RouteDecision, rewritePath } from "./routes.js";

/** google.rpc.Code OK. */
const RPC_OK = 0;

export type Admission =
  | {
      readonly kind: "reply";
      readonly status: number;
      readonly headers: HeaderList;
      readonly body: string;
      /** What the access log says about it. */
      readonly facts: Omit<EntryFacts, "kind" | "status" | "startedAt" | "now">;
    }
  | {
      readonly kind: "forward";
      readonly endpoint: Endpoint;
      readonly cluster: string;
      readonly route: CompiledRoute;
      readonly forward: ForwardAction;
      /** The upstream `:path` (query parameters and prefix rewrite applied). */
      readonly path: string;
      /** Added to the upstream's response (Check's `response_headers_to_add`). */
      readonly responseHeadersToAdd: readonly HeaderValueOption[];
    };

export interface AdmissionContext {
  readonly state: GatewayState;
  /** Calls Check with the filter's settings; undefined when its cluster has no endpoint. */
  readonly check: (settings: ExtAuthzSettings, request: DownstreamRequest) => Promise<CheckResult>;
  /** Round-robin position for clusters with several endpoints. */
  readonly pick: () => number;
}

type Reply = Extract<Admission, { kind: "reply" }>;

function reply(status: number, body: string, facts: Reply["facts"] = {}, headers: HeaderList = new Map()): Reply {
  if (body.length > 0 && !headers.has("content-type")) headers.set("content-type", ["text/plain"]);
  return { kind: "reply", status, headers, body, facts };
}

/**
 * Decides one request. `request.headers` and the returned path are the
 * request as it goes upstream (mutated in place by Check's answer);
 * `upgrade` is true for a WebSocket upgrade.
 */
export async function admit(ctx: AdmissionContext, request: DownstreamRequest & { path: string }, upgrade: boolean): Promise<Admission> {
  const listener = ctx.state.listener();
  const routes = ctx.state.routes();
  if (listener === undefined || routes === undefined) return reply(503, "dev gateway: no listener and routes from ADS yet\n");
  let decision = routes.decide(request.authority, request.path, request.headers);
  let responseHeadersToAdd: readonly HeaderValueOption[] = [];
  // A route with ext_authz disabled (ExtAuthzPerRoute), picked before Check, skips Check as Envoy's filter does.
  const checked = decision.kind === "no_route" || decision.route.extAuthzDisabled !== true;
  if (listener.extAuthz !== undefined && checked) {
    const result = await ctx.check(listener.extAuthz, request);
    const outcome = applyCheck(listener.extAuthz, result, request);
    if (outcome.kind === "reply") return outcome;
    responseHeadersToAdd = outcome.responseHeadersToAdd;
    if (outcome.mutated && listener.extAuthz.clearRouteCache) decision = routes.decide(request.authority, request.path, request.headers);
  }
  const forward = route(ctx, decision, upgrade, listener.websocket);
  if (forward.kind === "reply") return forward;
  return { ...forward, path: rewritePath(forward.route, forward.forward, request.path), responseHeadersToAdd };
}

type CheckOutcome = Reply | { readonly kind: "allowed"; readonly mutated: boolean; readonly responseHeadersToAdd: readonly HeaderValueOption[] };

/** Applies Check's answer to the request; a denial or failure becomes the reply. */
function applyCheck(settings: ExtAuthzSettings, result: CheckResult, request: DownstreamRequest & { path: string }): CheckOutcome {
  if (result.kind === "error") {
    if (settings.failureModeAllow) return { kind: "allowed", mutated: false, responseHeadersToAdd: [] };
    return reply(settings.statusOnError, "", { unauthorized: true });
  }
  const response: CheckResponse = result.response;
  if ((response.status?.code ?? RPC_OK) !== RPC_OK) {
    const denied = response.deniedResponse;
    const headers: HeaderList = new Map();
    applyHeaderOptions(headers, denied?.headers ?? []);
    const status = Number(denied?.status?.code ?? 0);
    return reply(status >= 100 ? status : 403, denied?.body ?? "", { unauthorized: true }, headers);
  }
  const ok = response.okResponse;
  if (ok === undefined) return { kind: "allowed", mutated: false, responseHeadersToAdd: [] };
  applyHeaderOptions(request.headers, ok.headers);
  removeHeaders(request.headers, ok.headersToRemove);
  request.path = applyQueryParameters(request.path, ok.queryParametersToSet, ok.queryParametersToRemove);
  // Envoy clears the route cache when the answer carries any request mutation, whether or not it changed a value.
  const mutated = ok.headers.length + ok.headersToRemove.length + ok.queryParametersToSet.length + ok.queryParametersToRemove.length > 0;
  return { kind: "allowed", mutated, responseHeadersToAdd: ok.responseHeadersToAdd };
}

function route(ctx: AdmissionContext, decision: RouteDecision, upgrade: boolean, listenerWebsocket: boolean): Admission | Omit<Extract<Admission, { kind: "forward" }>, "path" | "responseHeadersToAdd"> {
  switch (decision.kind) {
    case "no_route":
      return reply(404, "", { noRoute: true });
    case "direct":
      return reply(decision.status, decision.body, { routeName: decision.route.name });
    case "forward":
      break;
  }
  const { route: chosen, forward, cluster } = decision;
  const facts = { routeName: chosen.name, cluster };
  if (upgrade && !(forward.websocket ?? listenerWebsocket)) return reply(403, "", facts);
  const target = ctx.state.target(cluster, ctx.pick());
  if (target.kind === "no_cluster") return reply(forward.clusterNotFoundStatus, "", { ...facts, noClusterFound: true });
  if (target.kind === "no_healthy_upstream") return reply(503, "no healthy upstream", { ...facts, noHealthyUpstream: true });
  return { kind: "forward", endpoint: target.endpoint, cluster, route: chosen, forward };
}
