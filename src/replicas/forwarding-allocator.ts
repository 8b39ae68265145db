/**
 * ForwardingAllocator: the `TicketAllocator` Check uses where several
 * replicas run. For an app this replica owns it is the ticket core
 * (answered at once); for an app another replica owns it forwards that one
 * call to the owner's peer API with a deadline well inside Envoy's
 * ext_authz timeout (gateway.authzTimeout, 250 ms by default), and the
 * owner's answer — ticket and token, place in line, Retry-After — is
 * returned as if it were local. Owner unknown, unreachable, refusing, past
 * the deadline, or answering nonsense: the waiting room with Retry-After
 * (refused, owner_unavailable). Fail closed: never a local slot for an app
 * another replica may be allocating for. The promise never rejects.
 */
import type { Logger } from "../common/logger.js";
import type { AppKey } from "../config/app-spec.js";
import type { AppOwnership } from "../runtime/ports.js";
import type { TicketAllocator } from "../tickets/ports.js";
import type { Allocation, AllocationRequest, MaybePromise, TicketCoreEvent } from "../tickets/types.js";
import { allocationOf, toAdmitRequest } from "./admit-wire.js";
import { callFailureOf, describeCallFailure } from "./call-failure.js";
import type { ForwardResult, ReplicaMetrics } from "./metrics.js";
import type { PeerClients } from "./peer-clients.js";

/** Forwarding deadline: well inside the 250 ms ext_authz timeout, so Envoy gets our waiting room, not its own 503. */
export const DEFAULT_FORWARD_DEADLINE_MS = 150;
/** Retry-After of the fail-closed answer: about one Lease retry period, when a new owner is known. */
export const OWNER_UNAVAILABLE_RETRY_MS = 2_000;

export interface ForwardingAllocatorOptions {
  /** This replica's ticket core. */
  readonly local: TicketAllocator;
  readonly ownership: AppOwnership;
  readonly peers: Pick<PeerClients, "admit">;
  readonly metrics: ReplicaMetrics;
  readonly logger: Logger;
  readonly deadlineMs?: number;
}

export class ForwardingAllocator implements TicketAllocator {
  readonly #o: ForwardingAllocatorOptions;
  readonly #deadlineMs: number;

  constructor(options: ForwardingAllocatorOptions) {
    this.#o = options;
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_FORWARD_DEADLINE_MS;
  }

  allocate(app: AppKey, request: AllocationRequest): MaybePromise<Allocation> {
    const owner = this.#o.ownership.ownerOf(app);
    if (owner.kind === "self") return this.#o.local.allocate(app, request);
    if (owner.kind === "unknown") return this.#failClosed("owner_unknown", app, owner.reason);
    return this.#forward(owner.address, app, request);
  }

  /** The sweeper runs only where this replica leads: the local ticket core's sweep. */
  sweep(): readonly TicketCoreEvent[] {
    return this.#o.local.sweep();
  }

  async #forward(address: string, app: AppKey, request: AllocationRequest): Promise<Allocation> {
    const started = performance.now();
    let answer;
    try {
      answer = await this.#o.peers.admit(address, toAdmitRequest(app, request), this.#deadlineMs);
    } catch (err) {
      return this.#failClosed(callFailureOf(err), app, `owner ${address}: ${describeCallFailure(err)}`);
    }
    const allocation = allocationOf(app, answer);
    if (typeof allocation === "string") return this.#failClosed("bad_answer", app, `owner ${address}: ${allocation}`);
    this.#o.metrics.forwarded.inc({ result: "answered" });
    this.#o.metrics.forwardSeconds.observe((performance.now() - started) / 1000);
    return allocation;
  }

  #failClosed(result: Exclude<ForwardResult, "answered">, app: AppKey, why: string): Allocation {
    this.#o.metrics.forwarded.inc({ result });
    this.#o.logger.debug("could not ask the app's owner; the user waits (fail closed)", { app, result, reason: why });
    return { kind: "refused", reason: "owner_unavailable", retryAfterMs: OWNER_UNAVAILABLE_RETRY_MS };
  }
}
