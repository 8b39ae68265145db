/**
 * Keeps an AppMatcher in step with the ticket core's apps: rebuilt on the next lookup
 * after an `apps` change, never per request.
 */
import type { AppSpec } from "../config/app-spec.js";
import type { TicketViews } from "../tickets/ports.js";
import { AppMatcher } from "./app-matcher.js";

export class AppIndex {
  readonly #views: Pick<TicketViews, "apps" | "subscribe">;
  #matcher: AppMatcher | undefined;
  readonly #unsubscribe: () => void;

  constructor(views: Pick<TicketViews, "apps" | "subscribe">) {
    this.#views = views;
    this.#unsubscribe = views.subscribe((change) => {
      if (change.kind === "apps") this.#matcher = undefined;
    });
  }

  match(host: string, path: string): AppSpec | undefined {
    this.#matcher ??= new AppMatcher(this.#views.apps());
    return this.#matcher.match(host, path);
  }

  /** Stops following the ticket core. */
  close(): void {
    this.#unsubscribe();
  }
}
