/**
 * A Warning Event on every object that would define an app but cannot
 * (`KubeInventory.onInvalidApps`), its note naming each field, value and
 * rule, so `kubectl describe ticketedapp …` (or the Deployment) says why the
 * app is not served. Leader-only: only the leader records Events. An object
 * that stays invalid is recorded again at every change of the set; the
 * recorder folds those repeats into one Event with a series.
 */
import { formatSpecError } from "../config/app-spec.js";
import { TICKETED_APP_API_VERSION } from "../config/ticketed-app.js";
import type { Runnable } from "../common/runnable.js";
import type { InvalidApp } from "./app-sources.js";
import type { EventInput } from "./events.js";

/** The reason of the Warning Event on an invalid app's object. */
export const INVALID_APP_REASON = "InvalidConfig";

export interface InvalidAppEventsOptions {
  readonly inventory: { invalidApps(): readonly InvalidApp[]; onInvalidApps(listener: (invalid: readonly InvalidApp[]) => void): () => void };
  readonly events: { record(input: EventInput): void };
}

export class InvalidAppEvents implements Runnable {
  readonly name = "invalid-app-events";
  readonly #o: InvalidAppEventsOptions;
  #unsubscribe: (() => void) | undefined;

  constructor(options: InvalidAppEventsOptions) {
    this.#o = options;
  }

  /** Records the objects invalid now, then every change of the set. */
  start(): Promise<void> {
    this.#unsubscribe ??= this.#o.inventory.onInvalidApps((invalid) => this.#record(invalid));
    this.#record(this.#o.inventory.invalidApps());
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    return Promise.resolve();
  }

  #record(invalid: readonly InvalidApp[]): void {
    for (const i of invalid) this.#o.events.record(invalidAppEvent(i));
  }
}

/** The Warning Event for one invalid object: regarding it, the note listing every error as `path: value — rule`. */
export function invalidAppEvent(invalid: InvalidApp): EventInput {
  const { object } = invalid;
  const apiVersion = object.kind === "TicketedApp" ? TICKETED_APP_API_VERSION : "apps/v1";
  const errors = invalid.errors.map(formatSpecError).join("; ");
  return {
    regarding: { apiVersion, kind: object.kind, namespace: object.namespace, name: object.name },
    type: "Warning",
    reason: INVALID_APP_REASON,
    action: "Validate",
    // The API server caps an Event's note at 1 KiB.
    note: `not served: ${errors}`.slice(0, 1000),
  };
}
