/**
 * The one rule for turning presented credentials into a decision: the first
 * ticket cookie value that verifies is used (and counts as activity: a
 * ticket on probation is confirmed by it); anything else goes to the
 * allocator, with the reason the ticket was not valid. A junk cookie of the
 * same name never shadows the real one. Check uses it; so do the ticket
 * core's own tests.
 */
import type { AppKey } from "../config/app-spec.js";
import type { ActivityRecorder, TicketAllocator, TicketVerifier } from "./ports.js";
import type { Admission, Credentials, Rejected } from "./types.js";

const ABSENT: Rejected = { ok: false, reason: "absent" };

export function admit(ports: TicketVerifier & TicketAllocator & ActivityRecorder, app: AppKey, credentials: Credentials): Admission {
  let rejected = ABSENT;
  for (const token of credentials.ticketTokens ?? []) {
    const verdict = ports.verify(app, token);
    if (verdict.ok) {
      ports.touch(app, verdict.ticket.id);
      return verdict;
    }
    // Report the first rejection, but one with claims (an expired ticket) wins: its slot is freed at once.
    if (rejected.reason === "absent" || (verdict.reason !== "absent" && verdict.claims !== undefined && !("claims" in rejected && rejected.claims !== undefined))) rejected = verdict;
  }
  return ports.allocate(app, { rejected, queueTokens: credentials.queueTokens, client: credentials.client });
}
