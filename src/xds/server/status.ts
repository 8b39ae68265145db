import type { TypeUrl } from "../resources/type-urls.js";
import type { NackRecord } from "./ack-state.js";

export type XdsProtocol = "sotw" | "delta";

/** Per stream and type, for GET /api/xds. Times are epoch milliseconds. */
export interface TypeStatus {
  readonly typeUrl: TypeUrl;
  /** "*" for wildcard, else the subscribed names count. */
  readonly subscription: "*" | number;
  readonly ackedVersion?: string;
  readonly ackedAt?: number;
  readonly ackedResources: number;
  readonly lastSentVersion?: string;
  readonly lastSentNonce?: string;
  readonly lastSentAt?: number;
  readonly lastNack?: NackRecord;
}

export interface StreamStatus {
  readonly streamId: number;
  readonly nodeId: string;
  readonly nodeCluster: string;
  readonly group: string;
  readonly protocol: XdsProtocol;
  readonly connectedSince: number;
  readonly types: readonly TypeStatus[];
}

export interface XdsStatus {
  readonly streams: readonly StreamStatus[];
  /** Per group: the snapshot's version per type, and pods still waiting for ACKs. */
  readonly groups: readonly { readonly group: string; readonly versions: Readonly<Record<string, string>>; readonly pendingPods: readonly string[] }[];
}
