import { Counter, Gauge, type Registry } from "prom-client";
import type { XdsProtocol } from "./status.js";

export interface XdsMetrics {
  readonly nacks: Counter<"type_url">;
  readonly ackTimeouts: Counter<"group">;
  readonly badRequests: Counter<"reason" | "protocol">;
  /** Counts one response written (ticketplane_xds_responses_total and ticketplane_xds_response_bytes_total). */
  responseSent(typeUrl: string, protocol: XdsProtocol, bytes: number): void;
  readonly streams: Gauge<"protocol">;
}

interface TallyEntry {
  readonly typeUrl: string;
  readonly protocol: XdsProtocol;
  count: number;
  bytes: number;
}

/**
 * Responses written, per type and protocol, kept as plain numbers and added
 * to the counters when the registry reads them: a change written to a
 * thousand streams costs additions, not two label hashes per stream.
 */
class ResponseTally {
  /** Per protocol, per type URL (no key string made per response). */
  readonly #pending = new Map<XdsProtocol, Map<string, TallyEntry>>();

  add(typeUrl: string, protocol: XdsProtocol, bytes: number): void {
    let byType = this.#pending.get(protocol);
    if (!byType) this.#pending.set(protocol, (byType = new Map<string, TallyEntry>()));
    const entry = byType.get(typeUrl);
    if (entry) {
      entry.count++;
      entry.bytes += bytes;
    } else byType.set(typeUrl, { typeUrl, protocol, count: 1, bytes });
  }

  flush(responses: Counter<"type_url" | "protocol">, responseBytes: Counter<"protocol">): void {
    for (const e of [...this.#pending.values()].flatMap((m) => [...m.values()])) {
      if (e.count === 0) continue;
      responses.inc({ type_url: e.typeUrl, protocol: e.protocol }, e.count);
      responseBytes.inc({ protocol: e.protocol }, e.bytes);
      e.count = 0;
      e.bytes = 0;
    }
  }
}

/** Registers the xDS server's metrics on `registry` (one set per registry). */
export function createXdsMetrics(registry: Registry): XdsMetrics {
  const registers = [registry];
  const tally = new ResponseTally();
  const flush = (): void => tally.flush(responses, responseBytes);
  const responses: Counter<"type_url" | "protocol"> = new Counter({ name: "ticketplane_xds_responses_total", help: "xDS responses sent.", labelNames: ["type_url", "protocol"], registers, collect: flush });
  const responseBytes: Counter<"protocol"> = new Counter({ name: "ticketplane_xds_response_bytes_total", help: "Bytes of xDS responses sent.", labelNames: ["protocol"], registers, collect: flush });
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
    responseSent: (typeUrl, protocol, bytes) => tally.add(typeUrl, protocol, bytes),
    streams: new Gauge({ name: "ticketplane_xds_streams", help: "Open ADS streams.", labelNames: ["protocol"], registers }),
  };
}
