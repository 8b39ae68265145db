/**
 * The admin server's `POST /drain/<namespace>/<pod>` behind its port: finds
 * the app that lists the pod and marks the pod draining (by "prestop"), so
 * that it takes no new tickets while Kubernetes terminates it. Any replica
 * may do this: it is the pod's own request, not a scale decision.
 */
import type { Clock } from "../common/clock.js";
import { appKey, type AppKey } from "../config/app-spec.js";
import type { TicketViews } from "../tickets/ports.js";
import type { Draining } from "./ports.js";

export type DrainOutcome = "drained" | "already" | "not_found";

export class PodDrainRequests {
  readonly #views: Pick<TicketViews, "apps" | "pods">;
  readonly #draining: Draining;
  readonly #clock: Clock;

  constructor(views: Pick<TicketViews, "apps" | "pods">, draining: Draining, clock: Clock) {
    this.#views = views;
    this.#draining = draining;
    this.#clock = clock;
  }

  /** Marks `namespace/pod` draining; "already" when it was; "not_found" when no app of the namespace lists it. */
  async drain(namespace: string, pod: string): Promise<DrainOutcome> {
    const app = this.#appOf(namespace, pod);
    if (app === undefined) return "not_found";
    if ((await this.#draining.read(app)).has(pod)) return "already";
    return (await this.#draining.mark(app, pod, { since: this.#clock.now(), by: "prestop" })) ? "drained" : "not_found";
  }

  #appOf(namespace: string, pod: string): AppKey | undefined {
    for (const spec of this.#views.apps()) {
      if (spec.namespace !== namespace) continue;
      const key = appKey(spec.namespace, spec.name);
      if (this.#views.pods(key).some((p) => p.name === pod)) return key;
    }
    return undefined;
  }
}
