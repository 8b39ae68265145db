/**
 * Calls `desk.sweep()` on a fixed interval: releases idle and expired
 * tickets, expires queue reservations and hands freed slots to the queue.
 * Time itself comes from the desk's Clock; the interval only says how often
 * to look.
 */
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import type { TicketDesk } from "../tickets/types.js";

export class Sweeper implements Runnable {
  readonly name = "sweeper";
  readonly #desk: TicketDesk;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(desk: TicketDesk, logger: Logger, intervalMs = 1_000) {
    this.#desk = desk;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  start(signal: AbortSignal): Promise<void> {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweepOnce(), this.#intervalMs);
      signal.addEventListener("abort", () => void this.stop(), { once: true });
    }
    return Promise.resolve();
  }

  /** One sweep; a failure is logged and the next tick tries again. */
  sweepOnce(): void {
    try {
      const changes = this.#desk.sweep();
      for (const c of changes) if (c.kind === "released") this.#logger.debug("ticket released", { app: c.app, pod: c.ticket.pod, ticket: c.ticket.id, reason: c.reason });
    } catch (err) {
      this.#logger.error("sweep failed", { error: errorMessage(err) });
    }
  }

  stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }
}
