/**
 * The seam between app state and Envoy resources. The publisher (src/xds)
 * turns the ticket core's view into a GatewayModel per node group; the pure
 * builders here turn a GatewayModel into BuiltResources; the cache versions
 * and serves them. Nothing here does I/O.
 */
import type { HostPort } from "../../config/address.js";
import type { TypeUrl } from "./type-urls.js";

/** One backend pod that has (or is getting) a cluster and endpoints. */
export interface PodModel {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface AppModel {
  readonly namespace: string;
  readonly name: string;
  /** External path prefix ("/shiny/"); requests under it belong to the app. */
  readonly pathPrefix: string;
  /** Optional external host; "*" (any) when absent. */
  readonly host?: string;
  /** Path inside the pod the prefix is rewritten to ("/"). */
  readonly podPath: string;
  /** serve: routes go to pods; proxy: the app is at zero and the fallback goes to the resolver. */
  readonly mode: "serve" | "proxy";
  readonly pods: readonly PodModel[];
}

/** Everything one node group (a set of gateways) is configured with. */
export interface GatewayModel {
  /** Node group name (AppSpec.gateway), e.g. "default". */
  readonly group: string;
  /** The HTTP listener: name "ticketplane-http". */
  readonly listener: { readonly address: string; readonly port: number };
  /** ext_authz on the gateway itself (standalone: Envoy is the entry point). Absent under Istio, where the ingress gateway runs it. */
  readonly extAuthz?: { readonly cluster: HostPort; readonly timeoutMs: number };
  /** The gRPC access-log sink (our AccessLogService). */
  readonly accessLog: { readonly cluster: HostPort; readonly flushIntervalMs: number };
  /** The scale-from-zero resolver, for apps in proxy mode. */
  readonly resolver?: HostPort;
  readonly apps: readonly AppModel[];
}

/** A resource ready for the cache: its type, name and deterministic protobuf encoding (the bare message, not an Any). */
export interface BuiltResource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  readonly encoded: Uint8Array;
  /**
   * Pod keys (podClusterName) that this resource makes routable: a pod's
   * Cluster and ClusterLoadAssignment name it. The RouteConfiguration names
   * no pod (an app's route takes the cluster from the header Check sets).
   */
  readonly pods: readonly string[];
  /**
   * App cluster prefixes (appClusterPrefix, `<ns>/<app>/`) this resource
   * routes to: the RouteConfiguration has a route to the pods of each, so it
   * carries every pod of those apps. Absent: none.
   *
   * Make before use: the xDS server declares a pod routable for a node group
   * once every connected gateway of the group has ACKed a version of each
   * resource that carries it — its Cluster and ClusterLoadAssignment (by
   * `pods`) and the route of its app (by `apps`), so a ticket never sends a
   * user to an app the gateway has no route for yet.
   */
  readonly apps?: readonly string[];
}
