/**
 * LeaseWatcher: watches the leader Lease so that a follower takes it the
 * moment its holder releases it (client-go's ReleaseOnCancel clears the
 * holder), instead of at its next retry, 2–4.4 s later with client-go's
 * timing. A crashed holder releases nothing: that takeover still waits for
 * the lease to expire, which only the polling attempts can see.
 *
 * One informer on the one Lease (field selector on its name): list, watch,
 * and every failure retried by the informer. A change that leaves the Lease
 * without a holder (or deletes it) nudges the election; other changes (the
 * leader's renewals) do nothing, so the watch costs no API call.
 */
import type { CoordinationV1Api } from "@kubernetes/client-node";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import { Informer, type Change, type ResourceSource, type WatchPort } from "./informer.js";
import type { InformerTuning } from "./inventory.js";
import { page } from "./resources.js";

export interface LeaseWatcherOptions {
  readonly coordination: CoordinationV1Api;
  readonly watch: WatchPort;
  readonly namespace: string;
  readonly lease: string;
  /** Called when the Lease is seen released or deleted (LeaseLeadership.nudge). */
  readonly onReleased: () => void;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly informers?: InformerTuning;
}

/** What is cached of the Lease: its name and holder. */
interface CachedLease {
  readonly name: string;
  readonly holder: string;
}

export class LeaseWatcher implements Runnable {
  readonly name = "lease-watch";
  readonly stop: () => Promise<void>;
  readonly #informer: Informer<CachedLease>;

  constructor(options: LeaseWatcherOptions) {
    const { coordination, namespace, lease } = options;
    const fieldSelector = `metadata.name=${lease}`;
    const source: ResourceSource = {
      description: `Lease ${namespace}/${lease}`,
      path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
      selectors: { fieldSelector },
      async list(p) {
        return page((await coordination.listNamespacedLease({ namespace, fieldSelector, limit: p.limit, ...(p.continue === undefined ? {} : { _continue: p.continue }) })));
      },
    };
    this.#informer = new Informer<CachedLease>({
      source,
      strip: stripLease,
      keyOf: (l) => l.name,
      watch: options.watch,
      clock: options.clock,
      logger: options.logger,
      onChange: (changes) => {
        if (changes.some(released)) options.onReleased();
      },
      ...options.informers,
    });
    this.stop = once(() => this.#informer.stop());
  }

  /** Resolves after the first list (a release seen then nudges too). */
  start(signal: AbortSignal): Promise<void> {
    return this.#informer.start(signal);
  }
}

/** Released: the holder cleared, or the Lease gone. A Lease created with a holder is someone's. */
function released(c: Change<CachedLease>): boolean {
  if (c.after === undefined) return c.before !== undefined;
  return c.after.holder === "";
}

function stripLease(object: unknown): CachedLease | undefined {
  if (typeof object !== "object" || object === null) return undefined;
  const l = object as { metadata?: { name?: unknown }; spec?: { holderIdentity?: unknown } };
  if (typeof l.metadata?.name !== "string") return undefined;
  return { name: l.metadata.name, holder: typeof l.spec?.holderIdentity === "string" ? l.spec.holderIdentity : "" };
}
