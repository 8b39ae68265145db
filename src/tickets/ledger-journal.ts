/**
 * The ledger journal: what changed, as records a ledger store appends, so
 * that persisting an issue costs O(1) whatever the size of the ledger. A
 * store keeps a snapshot (compacted now and then) and the records appended
 * since; `replayJournal` folds the records into the snapshot on load. Pure.
 *
 * Replaying is idempotent in effect: records appended before a compaction
 * and replayed again over the snapshot that already holds them change
 * nothing (an issue of a ticket the snapshot has is skipped; a release of
 * one it lacks does nothing).
 */
import type { AppKey } from "../config/app-spec.js";
import type { QueuedView, TicketCoreEvent, TicketView } from "./types.js";

export type LedgerRecord =
  | { readonly op: "issue"; readonly ticket: TicketView }
  | { readonly op: "confirm"; readonly app: AppKey; readonly id: string; readonly at: number }
  | { readonly op: "release"; readonly app: AppKey; readonly id: string }
  /** The app's line: who joined (at their place by enqueuedAt) and who left since the last record. */
  | { readonly op: "queue"; readonly app: AppKey; readonly joined: readonly QueuedView[]; readonly left: readonly string[] };

/** The record a ticket-core event leaves in the journal, if any (reservations are not kept: the next owner grants them again). */
export function journalRecord(event: TicketCoreEvent): LedgerRecord | undefined {
  switch (event.kind) {
    case "issued":
      return { op: "issue", ticket: event.ticket };
    case "confirmed":
      return { op: "confirm", app: event.app, id: event.ticket.id, at: event.ticket.lastActiveAt };
    case "released":
      return { op: "release", app: event.app, id: event.ticket.id };
    case "queue":
      return event.joined.length === 0 && event.left.length === 0 ? undefined : { op: "queue", app: event.app, joined: event.joined, left: event.left };
    default:
      return undefined;
  }
}

type Mutable = { version: 1; savedAt: number; tickets: Record<string, unknown>[]; queue: unknown[]; issuedTotal: Record<string, number> };

/**
 * The snapshot with the records applied, in order. Both come from storage:
 * anything malformed is skipped (the ticket core checks every entry again
 * when it restores). Returns undefined when there is nothing at all.
 */
export function replayJournal(snapshot: unknown, records: readonly unknown[]): unknown {
  if (records.length === 0) return snapshot;
  const base = asSnapshot(snapshot);
  const byKey = new Map<string, Record<string, unknown>>();
  for (const t of base.tickets) byKey.set(`${String(t["app"])}\u0000${String(t["id"])}`, t);
  for (const r of records) apply(base, byKey, r);
  base.tickets = [...byKey.values()];
  return base;
}

function apply(base: Mutable, byKey: Map<string, Record<string, unknown>>, r: unknown): void {
  if (!isRecord(r)) return;
  if (r["op"] === "issue" && isRecord(r["ticket"])) {
    const t = r["ticket"];
    const key = `${String(t["app"])}\u0000${String(t["id"])}`;
    if (byKey.has(key)) return;
    byKey.set(key, { ...t });
    if (typeof t["app"] === "string") base.issuedTotal[t["app"]] = (base.issuedTotal[t["app"]] ?? 0) + 1;
    return;
  }
  if (r["op"] === "queue") {
    applyQueue(base, r);
    return;
  }
  const key = `${String(r["app"])}\u0000${String(r["id"])}`;
  if (r["op"] === "release") byKey.delete(key);
  else if (r["op"] === "confirm") {
    const t = byKey.get(key);
    if (t !== undefined) byKey.set(key, { ...t, confirmed: true, ...(typeof r["at"] === "number" ? { lastActiveAt: r["at"] } : {}) });
  }
}

/** Leaves first, then joins not already in line (replaying a record twice changes nothing). Entries are checked again on restore. */
function applyQueue(base: Mutable, r: Record<string, unknown>): void {
  const app = r["app"];
  const left = new Set(Array.isArray(r["left"]) ? (r["left"] as unknown[]) : []);
  const ofApp = (e: unknown): e is Record<string, unknown> => isRecord(e) && e["app"] === app;
  base.queue = base.queue.filter((e) => !(ofApp(e) && left.has(e["id"])));
  const present = new Set(base.queue.filter(ofApp).map((e) => e["id"]));
  for (const j of Array.isArray(r["joined"]) ? (r["joined"] as unknown[]) : []) {
    if (!isRecord(j) || present.has(j["id"])) continue;
    present.add(j["id"]);
    base.queue.push({ ...j, app });
  }
}

function asSnapshot(x: unknown): Mutable {
  const s = isRecord(x) && x["version"] === 1 ? x : {};
  const totals = isRecord(s["issuedTotal"]) ? s["issuedTotal"] : {};
  return {
    version: 1,
    savedAt: typeof s["savedAt"] === "number" ? s["savedAt"] : 0,
    tickets: Array.isArray(s["tickets"]) ? (s["tickets"] as unknown[]).filter(isRecord).map((t) => ({ ...t })) : [],
    queue: Array.isArray(s["queue"]) ? [...(s["queue"] as unknown[])] : [],
    issuedTotal: Object.fromEntries(Object.entries(totals).filter((e): e is [string, number] => typeof e[1] === "number")),
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
