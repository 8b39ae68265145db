import type { Clock } from "../../common/clock.js";
import type { Logger } from "../../common/logger.js";
import type { ConfigWatcher } from "../cache/watch.js";
import type { AdsLimits } from "./limits.js";
import type { XdsMetrics } from "./metrics.js";
import type { NodeGroupFn } from "./node-group.js";
import type { RoutabilityTracker } from "./routability.js";
import type { StreamStatus } from "./status.js";
import type { ResponseNonces } from "./response-encoding.js";
import type { WriteBudget } from "./write-budget.js";

/** A live stream as the server's registry sees it. */
export interface RegisteredStream {
  status(): StreamStatus;
}

/** What every stream handler shares: passed in by the server factory. */
export interface StreamContext {
  readonly cache: ConfigWatcher;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: XdsMetrics;
  readonly nodeGroup: NodeGroupFn;
  readonly routability: RoutabilityTracker;
  readonly limits: AdsLimits;
  /** Bytes in flight of every stream together (limits.maxBytesInFlightTotal). */
  readonly writeBudget: WriteBudget;
  /** First-sync bytes of every stream together, held until the client answers them (limits.maxFirstSyncBytes). */
  readonly firstSyncBudget: WriteBudget;
  /** The node groups that have a snapshot. */
  groups(): readonly string[];
  /** Whether `group` has a snapshot (a configuration to serve). */
  hasConfig(group: string): boolean;
  /** Nonces and the encoded messages streams share (ResponseNonces). */
  readonly nonces: ResponseNonces;
  nextStreamId(): number;
  register(stream: RegisteredStream): void;
  unregister(stream: RegisteredStream): void;
}
