/**
 * The one rule for turning presented credentials into a decision: the first
 * ticket cookie value that verifies is used (and counts as activity: a
 * ticket on probation is confirmed by it); anything else goes to the
 * allocator, with the reason the ticket was not valid. A junk cookie of the
 * same name never shadows the real one. Check uses it; so do the ticket
 * core's own tests, and the owner answering a forwarded call (src/replicas/).
 * A valid ticket is answered synchronously; only the allocator may answer
 * later (when it forwards to the app's owner).
 */
import type { AppKey } from "../config/app-spec.js";
import type { AdmitPorts, ImmediateCheckPorts } from "./ports.js";
import type { Admission, Credentials, MaybePromise, Rejected } from "./types.js";

const ABSENT: Rejected = { ok: false, reason: "absent" };

/** The ticket core (or any allocator that answers at once): the admission at once. */
export function admit(ports: ImmediateCheckPorts, app: AppKey, credentials: Credentials): Admission;
/** An allocator that may forward to the app's owner: a promise when it did. */
export function admit(ports: AdmitPorts, app: AppKey, credentials: Credentials): MaybePromise<Admission>;
export function admit(ports: AdmitPorts, app: AppKey, credentials: Credentials): MaybePromise<Admission> {
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
  return ports.allocate(app, { rejected, queueTokens: credentials.queueTokens, client: credentials.client, ticketTokens: credentials.ticketTokens });
}
