/**
 * Bounds on what one ADS client can make this process hold or write, so a
 * broken or hostile gateway costs a bounded amount of memory and log.
 */
export interface AdsLimits {
  /**
   * Resource names one delta stream may hold subscribed (every type
   * together; `initial_resource_versions` of one request counts the same way),
   * and names one state-of-the-world request may list. Over it the stream
   * ends with RESOURCE_EXHAUSTED.
   */
  readonly maxSubscribedNames: number;
  /** NACK log lines: the first NACK of a stream and type at once, then at most one line per interval with the count of the others. */
  readonly nackLogIntervalMs: number;
  /** Characters of a client's NACK message kept for logs and /api/xds; longer ones are cut and say so. */
  readonly nackMessageMaxChars: number;
  /**
   * Bytes of responses one stream may have written that the transport has
   * not taken yet (the client reads them at its pace). A response is
   * written only below it; above it the stream waits for its writes to
   * drain, and what changed meanwhile is sent then, coalesced to the latest
   * snapshot. One response always goes, however large.
   */
  readonly maxBytesInFlight: number;
  /**
   * Bytes in flight of every stream of the server together (WriteBudget): a
   * stream starts a write only while the total is below it, so a first sync
   * of many gateways goes in waves instead of holding every gateway's first
   * response in memory at once.
   */
  readonly maxBytesInFlightTotal: number;
  /**
   * First-sync bytes of every stream of the server together (a second
   * WriteBudget): a response of a type whose client has not yet answered
   * (ACKed or NACKed) any response of that type counts from its write until
   * the client answers it, the stream closes, or `firstSyncAnswerWaitMs`
   * after the transport took it. A stream starts such a write only while the
   * total is below this; otherwise it waits its turn, in arrival order. So
   * however many gateways connect at once, the first syncs being written,
   * read and decoded at any moment stay within about this many bytes, and
   * the burst's peak (the memory the process keeps afterwards) with them.
   */
  readonly maxFirstSyncBytes: number;
  /**
   * How long a first-sync response counts against `maxFirstSyncBytes` after
   * the transport took it, when its client neither ACKs nor NACKs it: a
   * gateway that never answers cannot keep the others waiting.
   */
  readonly firstSyncAnswerWaitMs: number;
}

/**
 * A gateway subscribes to one cluster and one ClusterLoadAssignment per pod
 * (plus a listener and a route table): 8,000 pods, the largest node group
 * planned for, is about 16,000 names, so 100,000 leaves room.
 */
export const ADS_LIMIT_DEFAULTS: AdsLimits = {
  maxSubscribedNames: 100_000,
  nackLogIntervalMs: 60_000,
  nackMessageMaxChars: 512,
  maxBytesInFlight: 64 * 1024,
  maxBytesInFlightTotal: 16 * 1024 * 1024,
  maxFirstSyncBytes: 4 * 1024 * 1024,
  firstSyncAnswerWaitMs: 5_000,
};
