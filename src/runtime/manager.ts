/**
 * RunnableManager: owns the start order and the one stop path of every
 * long-running part, as controller-runtime's manager does.
 *
 * - Parts start one at a time in the order they were added; `start` resolves
 *   once all that may run now are serving.
 * - A leader-only part starts at its place in the order when this replica
 *   leads; otherwise it is deferred and started (in order) on election.
 * - `stop` stops what started, in reverse order, one at a time, and is the
 *   only way parts stop. Every call returns the same promise.
 * - A part that fails to start stops everything that started, and `start`
 *   rejects with its error.
 * - Losing leadership stops everything and calls `onLeadershipLost`: the
 *   process must exit rather than act on a ledger it no longer owns.
 */
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import type { Leadership } from "./ports.js";

export interface PartOptions {
  /** Runs only while this replica leads (allocation, sweeps, ledger writes). */
  readonly leaderOnly?: boolean;
  /** Called once the part has started (e.g. to print its listening line). */
  readonly onStarted?: () => void;
}

interface Part {
  readonly runnable: Runnable;
  readonly options: PartOptions;
}

export interface ManagerOptions {
  readonly logger: Logger;
  readonly leadership: Leadership;
  /** Called once when leadership is lost after start (the process should exit non-zero). */
  readonly onLeadershipLost?: () => void;
}

export class RunnableManager {
  readonly #o: ManagerOptions;
  readonly #parts: Part[] = [];
  readonly #started: Part[] = [];
  readonly #deferred: Part[] = [];
  readonly #controller = new AbortController();
  #state: "new" | "starting" | "running" | "stopping" = "new";
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#o = options;
  }

  /** Adds a part at the end of the start order. Only before `start`. */
  add(runnable: Runnable, options: PartOptions = {}): this {
    if (this.#state !== "new") throw new Error(`cannot add ${runnable.name} after the manager started`);
    this.#parts.push({ runnable, options });
    return this;
  }

  /** Names of the parts running now, in start order. */
  running(): readonly string[] {
    return this.#started.map((p) => p.runnable.name);
  }

  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error("the manager starts once");
    this.#state = "starting";
    const { leadership } = this.#o;
    try {
      for (const part of this.#parts) {
        if (part.options.leaderOnly === true && !leadership.isLeader()) this.#deferred.push(part);
        else await this.#startPart(part);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.#state !== "starting") return;
    this.#state = "running";
    if (this.#deferred.length > 0) leadership.elected.then(() => this.#startDeferred(), () => undefined);
    leadership.lost.addEventListener("abort", () => this.#lost(), { once: true });
  }

  /** Stops every started part in reverse order. Idempotent: every call returns the same promise. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #startPart(part: Part): Promise<void> {
    if (this.#state === "stopping") return;
    const { runnable } = part;
    try {
      await runnable.start(this.#controller.signal);
    } catch (err) {
      this.#o.logger.error(`${runnable.name} failed to start`, { part: runnable.name, error: errorMessage(err) });
      // It may hold resources from a partial start.
      await runnable.stop().catch(() => undefined);
      throw err;
    }
    this.#started.push(part);
    this.#o.logger.debug(`${runnable.name} started`, { part: runnable.name });
    part.options.onStarted?.();
  }

  async #startDeferred(): Promise<void> {
    this.#o.logger.info("leading: starting leader-only parts", { parts: this.#deferred.map((p) => p.runnable.name) });
    try {
      for (const part of this.#deferred.splice(0)) await this.#startPart(part);
    } catch {
      // Logged by #startPart; a leader that cannot act must not hold the lead.
      await this.stop();
      this.#o.onLeadershipLost?.();
    }
  }

  #lost(): void {
    if (this.#state === "stopping") return;
    this.#o.logger.error("leadership lost: stopping so that only the new leader acts");
    void this.stop().finally(() => this.#o.onLeadershipLost?.());
  }

  /**
   * Leader-only parts first (in reverse order: the reconciler, …, the
   * ledger's final save), then the lead is given up (Leadership.release:
   * a successor takes over while this replica still drains), then the
   * rest in reverse order. Without `release`, plain reverse order.
   */
  async #stopAll(): Promise<void> {
    this.#state = "stopping";
    this.#controller.abort();
    const started = this.#started.splice(0).reverse();
    const { leadership } = this.#o;
    if (leadership.release !== undefined) {
      await this.#stopEach(started.filter((p) => p.options.leaderOnly === true));
      try {
        await leadership.release();
      } catch (err) {
        this.#o.logger.error("could not give up the lead; it expires on its own", { error: errorMessage(err) });
      }
      await this.#stopEach(started.filter((p) => p.options.leaderOnly !== true));
      return;
    }
    await this.#stopEach(started);
  }

  async #stopEach(parts: readonly Part[]): Promise<void> {
    for (const { runnable: r } of parts) {
      try {
        await r.stop();
        this.#o.logger.debug(`${r.name} stopped`, { part: r.name });
      } catch (err) {
        this.#o.logger.error(`${r.name} failed to stop cleanly`, { part: r.name, error: errorMessage(err) });
      }
    }
  }
}
