/**
 * The gateways' desired state: one GatewayModel per node group, built from
 * the ticket core's apps and pods, the gateway settings in force and the
 * addresses Envoy reaches our Check and access-log servers at. Pure.
 *
 * Every pod the ticket core knows keeps its cluster and endpoints (a pod that
 * is not serving keeps its users); whether new tickets may go to a pod is
 * the ticket core's business, not the route table's. A pod the inventory no
 * longer lists is gone from the ticket core, so its cluster goes.
 */
import { type AppKey, appKey } from "../config/app-spec.js";
import type { HostPort } from "../config/address.js";
import type { GatewayConfig } from "../config/config-file.js";
import type { TicketViews } from "../tickets/ports.js";
import type { AppModel, GatewayModel } from "../xds/resources/model.js";

/** Where gateways reach the Check and access-log servers. */
export interface Upstreams {
  readonly authz: HostPort;
  readonly accessLog: HostPort;
}

export interface GatewayModelInputs {
  readonly views: Pick<TicketViews, "apps" | "podAddresses">;
  readonly gateway: GatewayConfig;
  readonly upstreams: Upstreams;
  /** Access-log buffer flush interval Envoy uses (default 1 s). */
  readonly accessLogFlushMs?: number;
  /** Each app's route mode (absent: every app serves). */
  readonly modes?: (app: AppKey) => "serve" | "proxy";
  /** Where gateways reach the resolver, for apps in proxy mode (absent: a proxy-mode app's fallback is the 503). */
  readonly resolver?: HostPort;
}

/** The node group a gateway that connects before any app is configured still gets its listener from. */
export const DEFAULT_GROUP = "default";

export function buildGatewayModels(inputs: GatewayModelInputs): GatewayModel[] {
  const { views, gateway, upstreams } = inputs;
  const groups = new Map<string, AppModel[]>([[DEFAULT_GROUP, []]]);
  for (const spec of views.apps()) {
    const app: AppModel = {
      namespace: spec.namespace,
      name: spec.name,
      pathPrefix: spec.pathPrefix,
      ...(spec.host !== undefined ? { host: spec.host } : {}),
      podPath: spec.podPath,
      mode: inputs.modes?.(appKey(spec.namespace, spec.name)) ?? "serve",
      // The ticket core's own array, the same until a pod comes or goes: the builder then keeps what it built from it.
      pods: views.podAddresses(appKey(spec.namespace, spec.name)),
    };
    const list = groups.get(spec.gateway) ?? [];
    list.push(app);
    groups.set(spec.gateway, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, apps]) => ({
      group,
      listener: { address: gateway.listenerAddress, port: gateway.listenerPort },
      // Without ext_authz (Check runs on the gateway in front) the model has no authz cluster either.
      ...(gateway.extAuthz === false ? {} : { extAuthz: { cluster: dialable(upstreams.authz), timeoutMs: gateway.authzTimeoutMs } }),
      accessLog: { cluster: gateway.accessLogAddress ?? dialable(upstreams.accessLog), flushIntervalMs: inputs.accessLogFlushMs ?? 1_000 },
      ...(inputs.resolver === undefined ? {} : { resolver: dialable(inputs.resolver) }),
      apps,
    }));
}

/** A wildcard bind address is not dialable; Envoy on the same machine reaches it on loopback. */
export function dialable(a: HostPort): HostPort {
  if (a.host === "0.0.0.0") return { host: "127.0.0.1", port: a.port };
  if (a.host === "::") return { host: "::1", port: a.port };
  return a;
}
