/**
 * Header names Check, the route table and the access log agree on. Defined
 * once here: Check sets them, the routes we push to Envoy match on them and
 * the access log records them, so a rename in one place cannot strand the
 * others.
 */

/**
 * The request headers Check sets for the gateway's routes and access log.
 * Always sent with `append: false`, so whatever a client sent under these
 * names is replaced and a client can never choose its own pod.
 */
export const ROUTING_HEADERS = {
  /**
   * The pod's cluster name (podClusterName, `namespace/app/pod`): the app's
   * route sends the request to the cluster it names (RouteAction.cluster_header),
   * and matches only when it names one of that app's clusters.
   */
  cluster: "x-ticketplane-cluster",
  /** Pod name, for the app's own use; the routes do not read it. */
  pod: "x-ticketplane-pod",
  /** The pod's `host:port`. */
  podAddress: "x-ticketplane-pod-address",
  /** Ticket id; logged so the access log can credit activity. */
  ticket: "x-ticketplane-ticket",
  /** `namespace/name` of the app. */
  app: "x-ticketplane-app",
} as const;

/**
 * Every header ticketplane sets starts with this. Where Check allows a request
 * of no ticketed app (`check.unmatched: allow`), it removes every request
 * header with this prefix, so nothing a client sends under our names reaches
 * a route or an app behind the shared gateway.
 */
export const ROUTING_HEADER_PREFIX = "x-ticketplane-";

/**
 * gRPC metadata (not an HTTP header of the request) that a gateway's ext_authz
 * filter sends with every Check: the gateway node group (AppSpec.gateway) the
 * gateway belongs to. Check matches only that group's apps, because only they
 * are in that gateway's route table. Absent: the default group.
 */
export const GATEWAY_GROUP_HEADER = "x-ticketplane-gateway";

/**
 * Request headers every access-log entry carries: the ticket and app Check set
 * (what the access-log service credits activity to), and the request id and
 * upgrade that identify a WebSocket connection.
 */
export const LOGGED_REQUEST_HEADERS: readonly string[] = [ROUTING_HEADERS.ticket, ROUTING_HEADERS.app, "x-request-id", "upgrade"];
