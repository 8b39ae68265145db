/**
 * Check's ticket ports on a replica that may not own the app. Verify and
 * activity go to the ticket core (every replica answers a valid ticket from
 * local state); allocate (issue, queue) goes to it only while `owns()` —
 * this replica owns the app and has rebuilt its ledger from the store.
 * Otherwise the request fails closed: the waiting room with the app's
 * Retry-After (`refused`, `no_owner`), never a slot that the owner might
 * give to someone else too. Where another replica may own the app, the
 * replica link (src/replicas/) forwards over this gate: the gate answers for
 * the apps this replica owns, and allocates at once (never a promise).
 */
import type { AppKey } from "../config/app-spec.js";
import type { ImmediateCheckPorts, TicketAllocator, TicketViews } from "../tickets/ports.js";
import type { Allocation, AllocationRequest } from "../tickets/types.js";
import { specOf } from "../tickets/spec-of.js";

/** Retry-After when the app's own is not known (it is, whenever Check matched the app). */
const FALLBACK_RETRY_AFTER_MS = 5_000;

/** What Check's servers read of the ticket core (which allocates at once). */
export type CheckTickets = ImmediateCheckPorts & Pick<TicketAllocator, "sweep"> & Pick<TicketViews, "apps" | "subscribe" | "figures">;

export function ownerOnlyAllocation(tickets: CheckTickets, owns: (app: AppKey) => boolean): CheckTickets {
  const refuse = (app: AppKey): Allocation => {
    const spec = specOf(tickets, app);
    return { kind: "refused", reason: "no_owner", retryAfterMs: spec?.queue.retryAfterMs ?? FALLBACK_RETRY_AFTER_MS };
  };
  return {
    verify: (app, token) => tickets.verify(app, token),
    touch: (app, id) => tickets.touch(app, id),
    openConnection: (app, id, connection) => tickets.openConnection(app, id, connection),
    closeConnection: (connection) => tickets.closeConnection(connection),
    allocate: (app: AppKey, request: AllocationRequest) => (owns(app) ? tickets.allocate(app, request) : refuse(app)),
    sweep: () => tickets.sweep(),
    apps: () => tickets.apps(),
    subscribe: (listener) => tickets.subscribe(listener),
    figures: (app) => tickets.figures(app),
  };
}
