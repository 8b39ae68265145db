/**
 * Apps the resolver asked a pod for (it holds a request for them), for the
 * external scaler: where a KEDA ScaledObject owns an app's replicas,
 * ticketplane never writes them, so a request held at zero must reach KEDA
 * as activity (IsActive / StreamIsActive) instead. A wake lasts `forMs`
 * (the app's hold timeout) or until the app serves again.
 */
import type { Clock, Timer } from "../common/clock.js";
import type { AppKey } from "../config/app-spec.js";

/** What the scaler reads. */
export interface WakeSignal {
  isWaking(app: AppKey): boolean;
  /** Calls `listener` with an app whose wake started or ended; returns the unsubscribe function. */
  subscribe(listener: (app: AppKey) => void): () => void;
}

export class WakeRequests implements WakeSignal {
  readonly #clock: Clock;
  readonly #waking = new Map<AppKey, Timer>();
  readonly #listeners = new Set<(app: AppKey) => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The app is asked for a pod for the next `forMs` (a later call extends it). */
  wake(app: AppKey, forMs: number): void {
    const started = !this.#waking.has(app);
    this.#waking.get(app)?.cancel();
    this.#waking.set(app, this.#clock.setTimeout(() => this.clear(app), forMs));
    if (started) this.#notify(app);
  }

  /** The app serves (or the wake expired). */
  clear(app: AppKey): void {
    const t = this.#waking.get(app);
    if (t === undefined) return;
    t.cancel();
    this.#waking.delete(app);
    this.#notify(app);
  }

  isWaking(app: AppKey): boolean {
    return this.#waking.has(app);
  }

  subscribe(listener: (app: AppKey) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(app: AppKey): void {
    for (const l of this.#listeners) l(app);
  }
}
