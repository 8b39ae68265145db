import { Counter, Gauge, type Registry } from "prom-client";

export interface XdsMetrics {
  readonly nacks: Counter<"type_url">;
  readonly ackTimeouts: Counter<"group">;
  readonly badRequests: Counter<"reason" | "protocol">;
  readonly responses: Counter<"type_url" | "protocol">;
  readonly responseBytes: Counter<"protocol">;
  readonly streams: Gauge<"protocol">;
}

/** Registers the xDS server's metrics on `registry` (one set per registry). */
export function createXdsMetrics(registry: Registry): XdsMetrics {
  const registers = [registry];
  return {
    nacks: new Counter({ name: "ticketplane_xds_nack_total", help: "xDS responses a client rejected (NACK).", labelNames: ["type_url"], registers }),
    ackTimeouts: new Counter({
      name: "ticketplane_xds_ack_timeout_total",
      help: "Pods declared routable after the bounded wait because some gateway of the group did not ACK in time.",
      labelNames: ["group"],
      registers,
    }),
    badRequests: new Counter({
      name: "ticketplane_xds_bad_request_total",
      help: "xDS requests ignored or refused: malformed, or over a limit (reason: undecodable, no_node, unknown_type, too_many_names).",
      labelNames: ["reason", "protocol"],
      registers,
    }),
    responses: new Counter({ name: "ticketplane_xds_responses_total", help: "xDS responses sent.", labelNames: ["type_url", "protocol"], registers }),
    responseBytes: new Counter({ name: "ticketplane_xds_response_bytes_total", help: "Bytes of xDS responses sent.", labelNames: ["protocol"], registers }),
    streams: new Gauge({ name: "ticketplane_xds_streams", help: "Open ADS streams.", labelNames: ["protocol"], registers }),
  };
}
