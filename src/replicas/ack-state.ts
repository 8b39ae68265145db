/**
 * ACK state as it crosses between replicas (make before use across
 * replicas): per node group, the gateways connected to one replica and the
 * pods (`<namespace>/<app>/<pod>`) every one of them has ACKed — cluster,
 * endpoints and the route table that routes the pod's app.
 */

export interface GroupAckState {
  readonly group: string;
  /** Node ids of the replica's gateways of this group (never empty in a report). */
  readonly gateways: readonly string[];
  readonly ackedPods: readonly string[];
}

/** Where followers' reports go on the owner: the xDS server's routability (src/runtime/xds-server.ts). */
export interface AckSink {
  /** Replaces everything `replica` reported before; an empty list: it has no gateways now. */
  applyAckReport(replica: string, groups: readonly GroupAckState[]): void;
}

/** Where a follower reads its own gateways' ACK state. */
export interface AckSource {
  /** Per group with at least one connected gateway. */
  ackState(): readonly GroupAckState[];
}
