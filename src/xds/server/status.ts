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
  /** The node's group has no snapshot yet: the stream is open and gets nothing until one is published. */
  readonly waitingForConfig: boolean;
  /** Bytes of responses written to this stream that the transport has not taken yet (the gateway reads slowly, or not at all). */
  readonly bytesInFlight: number;
  /** First-sync bytes written to this stream that its client has not answered yet (limits.maxFirstSyncBytes). */
  readonly firstSyncBytes: number;
  readonly types: readonly TypeStatus[];
}

/** A stream whose node group has no configuration. */
export interface WaitingStream {
  readonly streamId: number;
  readonly nodeId: string;
  readonly group: string;
}

export interface XdsStatus {
  readonly streams: readonly StreamStatus[];
  /** Bytes in flight of every stream together, and how many streams wait for room under limits.maxBytesInFlightTotal. */
  readonly writes: { readonly bytesInFlight: number; readonly limit: number; readonly streamsWaiting: number };
  /** First-sync bytes not yet answered by their clients, every stream together, and how many streams wait for room under limits.maxFirstSyncBytes. */
  readonly firstSyncs: { readonly bytes: number; readonly limit: number; readonly streamsWaiting: number };
  /** The streams whose node group has no snapshot (a misnamed group, or one not configured yet). */
  readonly waitingForConfig: readonly WaitingStream[];
  /** Per group: the snapshot's version per type, and pods still waiting for ACKs. */
  readonly groups: readonly { readonly group: string; readonly versions: Readonly<Record<string, string>>; readonly pendingPods: readonly string[] }[];
}
