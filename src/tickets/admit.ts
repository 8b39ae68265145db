/**
 * The one rule for turning presented credentials into a decision: a valid
 * ticket is used (and counts as activity); anything else goes to the
 * allocator, with the reason the ticket was not valid. Check uses it; so do
 * the ticket core's own tests.
 */
import type { AppKey } from "../config/app-spec.js";
import type { ActivityRecorder, TicketAllocator, TicketVerifier } from "./ports.js";
import type { Admission, Credentials } from "./types.js";

export function admit(ports: TicketVerifier & TicketAllocator & ActivityRecorder, app: AppKey, credentials: Credentials): Admission {
  const verdict = ports.verify(app, credentials.ticketToken);
  if (verdict.ok) {
    ports.touch(app, verdict.ticket.id);
    return verdict;
  }
  return ports.allocate(app, credentials.queueToken === undefined ? { rejected: verdict } : { queueToken: credentials.queueToken, rejected: verdict });
}
