import type { Clock, Timer } from "../common/clock.js";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { Snapshot } from "./cache/snapshot.js";
import type { SnapshotCache } from "./cache/snapshot-cache.js";
import type { GatewayBuild } from "./resources/gateway-builder.js";
import type { BuiltResource, GatewayModel } from "./resources/model.js";

export interface PublisherOptions {
  /** Reads the current state: one model per node group (level-triggered: re-read on every publish). */
  readonly models: () => readonly GatewayModel[];
  /**
   * Pure builder, e.g. buildGatewayResources; or one that also says what
   * changed since its previous build of the group
   * (createIncrementalGatewayBuilder), so that the snapshot is derived
   * from the change alone.
   */
  readonly build: (model: GatewayModel) => readonly BuiltResource[] | GatewayBuild;
  readonly cache: SnapshotCache;
  readonly logger: Logger;
  /** Timers for the coalescing window. */
  readonly clock: Clock;
  /**
   * Coalescing window (default 10 ms): at most one publish per window. A
   * schedule() after a quiet window publishes on the next turn (a single
   * pod change is not delayed); those within the window after a publish
   * lead to one publish at the window's end.
   */
  readonly debounceMs?: number;
}

export interface Publisher {
  /** Asks for a publish: on the next turn, or at the end of the window of the last publish (debounceMs); calls meanwhile coalesce. Never throws. */
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
  /** When the last publish ran: the next one waits until debounceMs after it. */
  let lastPublishAt: number | undefined;
  let waiters: (() => void)[] = [];
  /** Per group, the snapshot made of the builder's last output: a build's change applies only to it. */
  const builtFrom = new Map<string, Snapshot>();

  /** `inStep`: `previous` is the snapshot of the builder's last output, so the build's change applies to it. */
  const snapshotOf = (built: readonly BuiltResource[] | GatewayBuild, previous: Snapshot | undefined, inStep: boolean): Snapshot => {
    if (isArray(built)) return Snapshot.build(built, previous);
    if (built.change && previous && inStep) return Snapshot.apply(previous, built.change.upserts, built.change.removals);
    return Snapshot.build(built.resources(), previous);
  };

  const publishNow = (): string[] => {
    timer?.cancel();
    timer = undefined;
    lastPublishAt = options.clock.now();
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
      // Read before it is cleared (clearing it first made every build a full one).
      const inStep = previous !== undefined && builtFrom.get(model.group) === previous;
      // Until this build's snapshot exists, no later change may be applied to an earlier one.
      builtFrom.delete(model.group);
      const snapshot = snapshotOf(options.build(model), previous, inStep);
      builtFrom.set(model.group, snapshot);
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
      // Leading edge: after a quiet window the change goes out at once; during one, it waits for the window's end.
      const delay = lastPublishAt === undefined ? 0 : Math.max(0, lastPublishAt + debounceMs - options.clock.now());
      timer = options.clock.setTimeout(() => {
        timer = undefined;
        publishNow();
      }, delay);
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

function isArray(built: readonly BuiltResource[] | GatewayBuild): built is readonly BuiltResource[] {
  return Array.isArray(built);
}
