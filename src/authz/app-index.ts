/**
 * Keeps an AppMatcher in step with the desk's apps: rebuilt on the next lookup
 * after an `apps` change, never per request.
 */
import type { AppSpec } from "../config/app-spec.js";
import type { TicketDesk } from "../tickets/types.js";
import { AppMatcher } from "./app-matcher.js";

export class AppIndex {
  readonly #desk: TicketDesk;
  #matcher: AppMatcher | undefined;
  readonly #unsubscribe: () => void;

  constructor(desk: TicketDesk) {
    this.#desk = desk;
    this.#unsubscribe = desk.subscribe((change) => {
      if (change.kind === "apps") this.#matcher = undefined;
    });
  }

  match(host: string, path: string): AppSpec | undefined {
    this.#matcher ??= new AppMatcher(this.#desk.apps());
    return this.#matcher.match(host, path);
  }

  /** Stops following the desk. */
  close(): void {
    this.#unsubscribe();
  }
}
