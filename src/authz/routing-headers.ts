/**
 * The request headers Check sets for the gateway's routes and access log.
 * Always sent with `append: false`, so whatever a client sent under these
 * names is replaced and a client can never choose its own pod.
 */
export const ROUTING_HEADERS = {
  /** Pod name; the gateway's routes match on it. */
  pod: "x-ticketplane-pod",
  /** The pod's `host:port`. */
  podAddress: "x-ticketplane-pod-address",
  /** Ticket id; logged through `additional_request_headers_to_log` so the access log can credit activity. */
  ticket: "x-ticketplane-ticket",
  /** `namespace/name` of the app. */
  app: "x-ticketplane-app",
} as const;
