import type { Clock, Timer } from "../common/clock.js";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { Snapshot } from "./cache/snapshot.js";
import type { SnapshotCache } from "./cache/snapshot-cache.js";
import type { BuiltResource, GatewayModel } from "./resources/model.js";

export interface PublisherOptions {
  /** Reads the current state: one model per node group (level-triggered: re-read on every publish). */
  readonly models: () => readonly GatewayModel[];
  /** Pure builder, e.g. buildGatewayResources. */
  readonly build: (model: GatewayModel) => readonly BuiltResource[];
  readonly cache: SnapshotCache;
  readonly logger: Logger;
  /** Timers for the coalescing window. */
  readonly clock: Clock;
  /** Coalescing window (default 10 ms): every schedule() within it leads to one publish. */
  readonly debounceMs?: number;
}

export interface Publisher {
  /** Asks for a publish within debounceMs; calls in the window coalesce. Never throws. */
  schedule(): void;
  /** Publishes now (cancelling a scheduled publish). Returns the groups whose snapshot was set. */
  publishNow(): string[];
  /** Resolves after the scheduled publish (if any) has run. */
  idle(): Promise<void>;
  /** Cancels a scheduled publish. */
  stop(): void;
}

/**
 * Turns the current GatewayModels into snapshots. A group whose snapshot
 * is inconsistent (a builder bug) or whose build throws keeps its last good
 * snapshot and is logged as an error; other groups still publish. Groups
 * that disappear from `models()` keep their last snapshot.
 */
export function createPublisher(options: PublisherOptions): Publisher {
  const debounceMs = options.debounceMs ?? 10;
  const log = options.logger.child({ component: "xds-publisher" });
  let timer: Timer | undefined;
  let waiters: (() => void)[] = [];

  const publishNow = (): string[] => {
    timer?.cancel();
    timer = undefined;
    const published: string[] = [];
    try {
      for (const model of options.models()) if (publishGroup(model)) published.push(model.group);
    } finally {
      const done = waiters;
      waiters = [];
      for (const w of done) w();
    }
    return published;
  };

  const publishGroup = (model: GatewayModel): boolean => {
    try {
      const previous = options.cache.getSnapshot(model.group);
      const snapshot = Snapshot.build(options.build(model), previous);
      const consistency = snapshot.consistent();
      if (!consistency.ok) {
        log.error("xds: built an inconsistent snapshot; keeping the last good one", { group: model.group, errors: consistency.errors });
        return false;
      }
      options.cache.setSnapshot(model.group, snapshot);
      return true;
    } catch (err) {
      log.error("xds: building the snapshot failed; keeping the last good one", { group: model.group, error: errorMessage(err) });
      return false;
    }
  };

  return {
    schedule: () => {
      if (timer) return;
      timer = options.clock.setTimeout(() => {
        timer = undefined;
        publishNow();
      }, debounceMs);
    },
    publishNow,
    idle: () => (timer ? new Promise<void>((resolve) => waiters.push(resolve)) : Promise.resolve()),
    stop: () => {
      timer?.cancel();
      timer = undefined;
      const done = waiters;
      waiters = [];
      for (const w of done) w();
    },
  };
}
