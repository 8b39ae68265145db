/**
 * Requests per second per app, as a moving average over a window (the
 * Kapacitor tutorial averages over one minute): the `requestsPerSecond`
 * figure of the formula and hpa scaling policies. Check records each
 * request; the reconciler reads the rate. Pure: time is passed in. Memory
 * is one counter per second of the window per app.
 */
import type { AppKey } from "../config/app-spec.js";

export class RequestRate {
  readonly #windowS: number;
  readonly #apps = new Map<AppKey, { readonly counts: number[]; readonly seconds: number[] }>();

  /** `windowMs`: the averaging window (default 60 s, at least 1 s). */
  constructor(windowMs = 60_000) {
    this.#windowS = Math.max(1, Math.round(windowMs / 1000));
  }

  /** Counts one request (or `n`) for `app` at `now` (ms). */
  record(app: AppKey, now: number, n = 1): void {
    let a = this.#apps.get(app);
    if (a === undefined) {
      a = { counts: new Array<number>(this.#windowS).fill(0), seconds: new Array<number>(this.#windowS).fill(-1) };
      this.#apps.set(app, a);
    }
    const second = Math.floor(now / 1000);
    const i = second % this.#windowS;
    if (a.seconds[i] !== second) {
      a.seconds[i] = second;
      a.counts[i] = 0;
    }
    a.counts[i] = (a.counts[i] ?? 0) + n;
  }

  /** Requests per second over the window ending at `now`; 0 for an app never seen. */
  perSecond(app: AppKey, now: number): number {
    const a = this.#apps.get(app);
    if (a === undefined) return 0;
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < this.#windowS; i++) {
      const s = a.seconds[i] ?? -1;
      if (s > second - this.#windowS && s <= second) total += a.counts[i] ?? 0;
    }
    return total / this.#windowS;
  }

  /** Forgets every app not in `apps` (the apps in force), so removed apps hold no memory. */
  retainOnly(apps: ReadonlySet<AppKey>): void {
    for (const app of this.#apps.keys()) if (!apps.has(app)) this.#apps.delete(app);
  }
}
