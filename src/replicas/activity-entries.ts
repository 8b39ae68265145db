/**
 * Activity as it crosses between replicas: one entry per touch, WebSocket
 * open or close, applied on the owner in the order the sender saw them.
 */
import type { ActivityEntry } from "@envoyproxy/protos/peer";
import type { ActivityRecorder } from "../tickets/ports.js";

export type ActivityKind = "touch" | "open" | "close";

/** Applies a batch to the owner's ticket core; entries that name nothing usable are counted, not applied. */
export function applyActivity(tickets: ActivityRecorder, entries: readonly ActivityEntry[]): { readonly applied: number; readonly ignored: number } {
  let applied = 0;
  for (const e of entries) {
    if (e.kind === "touch" && e.app !== "" && e.ticketId !== "") tickets.touch(e.app, e.ticketId);
    else if (e.kind === "open" && e.app !== "" && e.ticketId !== "" && e.connectionId !== "") tickets.openConnection(e.app, e.ticketId, e.connectionId);
    else if (e.kind === "close" && e.connectionId !== "") tickets.closeConnection(e.connectionId);
    else continue;
    applied++;
  }
  return { applied, ignored: entries.length - applied };
}
