/**
 * Logs what the ticket core does on its own (releases: idle, lifetime, pod
 * gone, app removed, spec changed, key removed) at debug level. Issues and
 * queue entries are logged by Check, where the request id is known.
 */
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import type { TicketViews } from "../tickets/ports.js";

export class EventLog implements Runnable {
  readonly name = "event-log";
  readonly #views: Pick<TicketViews, "subscribe">;
  readonly #logger: Logger;
  #unsubscribe: (() => void) | undefined;

  constructor(views: Pick<TicketViews, "subscribe">, logger: Logger) {
    this.#views = views;
    this.#logger = logger;
  }

  start(): Promise<void> {
    this.#unsubscribe ??= this.#views.subscribe((event) => {
      if (event.kind === "released") this.#logger.debug("ticket released", { app: event.app, pod: event.ticket.pod, ticket: event.ticket.id, slot: event.ticket.slot, reason: event.reason });
    });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    return Promise.resolve();
  }
}
