/**
 * Standalone mode's view of the gateways: one GatewayModel per node group,
 * built from the desk's apps and pods and the addresses our servers bound.
 * Every pod the desk knows keeps its cluster and route (a not-ready pod's
 * users keep their tickets); only `healthy` says whether new tickets may go
 * there. A pod removed from the file is gone from the desk, so its route goes.
 */
import { appKey } from "../config/app-spec.js";
import type { GatewayConfig } from "../config/config-file.js";
import type { HostPort } from "../config/address.js";
import type { TicketDesk } from "../tickets/types.js";
import type { AppModel, GatewayModel } from "../xds/resources/model.js";

export interface GatewayModelInputs {
  readonly desk: TicketDesk;
  /** The gateway settings in force (they can change with a config edit). */
  readonly gateway: () => GatewayConfig;
  /** Where Envoy reaches our ext_authz and access-log servers (their bound addresses). */
  readonly authz: () => HostPort;
  readonly accessLog: () => HostPort;
  /** Access-log buffer flush interval Envoy uses (default 1 s). */
  readonly accessLogFlushMs?: number;
}

export function buildGatewayModels(inputs: GatewayModelInputs): GatewayModel[] {
  const desk = inputs.desk;
  const gateway = inputs.gateway();
  const groups = new Map<string, AppModel[]>();
  for (const spec of desk.apps()) {
    const key = appKey(spec.namespace, spec.name);
    const app: AppModel = {
      namespace: spec.namespace,
      name: spec.name,
      pathPrefix: spec.pathPrefix,
      ...(spec.host !== undefined ? { host: spec.host } : {}),
      podPath: spec.podPath,
      mode: "serve",
      pods: desk.pods(key).map((p) => ({ name: p.name, host: p.host, port: p.port, healthy: p.ready && !p.draining })),
    };
    const list = groups.get(spec.gateway) ?? [];
    list.push(app);
    groups.set(spec.gateway, list);
  }
  // The default group always exists, so a gateway that connects before any app is configured still gets its listener.
  if (!groups.has("default")) groups.set("default", []);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, apps]) => ({
      group,
      listener: { address: gateway.listenerAddress, port: gateway.listenerPort },
      extAuthz: { cluster: reachable(inputs.authz()), timeoutMs: gateway.authzTimeoutMs },
      accessLog: { cluster: reachable(inputs.accessLog()), flushIntervalMs: inputs.accessLogFlushMs ?? 1_000 },
      apps,
    }));
}

/** A wildcard bind address is not dialable; Envoy on the same machine reaches it on loopback. */
function reachable(a: HostPort): HostPort {
  if (a.host === "0.0.0.0") return { host: "127.0.0.1", port: a.port };
  if (a.host === "::" || a.host === "[::]") return { host: "::1", port: a.port };
  return a;
}
