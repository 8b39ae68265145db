/**
 * Calls the allocator's `sweep` on a fixed interval of the Clock: releases
 * idle and expired tickets, expires queue reservations and hands freed
 * slots to the queue. Leader-only: only the owner of an app releases.
 */
import type { Clock, Timer } from "../common/clock.js";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import type { TicketAllocator } from "../tickets/ports.js";

export class Sweeper implements Runnable {
  readonly name = "sweeper";
  readonly #allocator: Pick<TicketAllocator, "sweep">;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: Timer | undefined;

  constructor(allocator: Pick<TicketAllocator, "sweep">, clock: Clock, logger: Logger, intervalMs = 1_000) {
    this.#allocator = allocator;
    this.#clock = clock;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  start(): Promise<void> {
    this.#timer ??= this.#clock.setInterval(() => this.sweepOnce(), this.#intervalMs);
    return Promise.resolve();
  }

  /** One sweep; a failure is logged and the next tick tries again. */
  sweepOnce(): void {
    try {
      this.#allocator.sweep();
    } catch (err) {
      this.#logger.error("sweep failed; trying again at the next tick", { error: errorMessage(err) });
    }
  }

  stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    return Promise.resolve();
  }
}
