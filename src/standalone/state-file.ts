/**
 * The state file format: a marker, a version, the app keys the ledger was
 * saved for, and the ledger snapshot. Parsing is pure and returns every
 * reason a text is not ours; it never throws on bad input. The ticket core
 * checks every entry again when it restores them.
 */
import type { AppKey } from "../config/app-spec.js";
import type { LedgerSnapshot } from "../tickets/types.js";

export const STATE_FORMAT = "ticketplane-state";
export const STATE_VERSION = 1;

export interface StateFile {
  readonly format: typeof STATE_FORMAT;
  readonly version: typeof STATE_VERSION;
  readonly savedAt: number;
  /** The apps configured when the ledger was saved (for operators; restore re-checks each ticket). */
  readonly apps: readonly AppKey[];
  readonly ledger: LedgerSnapshot;
}

export type StateParse = { readonly ok: true; readonly value: StateFile } | { readonly ok: false; readonly reason: string };

export function encodeStateFile(state: StateFile): string {
  return JSON.stringify(state) + "\n";
}

export function parseStateFile(text: string): StateParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (${err instanceof Error ? err.message : String(err)}); truncated or corrupt` };
  }
  if (!isObject(raw)) return { ok: false, reason: "not a JSON object" };
  if (raw["format"] !== STATE_FORMAT) return { ok: false, reason: `format is ${JSON.stringify(raw["format"]) ?? "missing"}, expected "${STATE_FORMAT}" (a foreign file)` };
  if (raw["version"] !== STATE_VERSION) return { ok: false, reason: `version ${JSON.stringify(raw["version"]) ?? "missing"} is not supported (expected ${STATE_VERSION})` };
  if (typeof raw["savedAt"] !== "number") return { ok: false, reason: "savedAt is not a number" };
  const apps = raw["apps"];
  if (!Array.isArray(apps) || !apps.every((a) => typeof a === "string")) return { ok: false, reason: "apps is not a list of app keys" };
  // Files written before the ledger had its name call it "desk".
  const field = "ledger" in raw ? "ledger" : "desk";
  const ledger = raw[field];
  const problem = ledgerShapeProblem(ledger);
  if (problem !== undefined) return { ok: false, reason: `${field}: ${problem}` };
  return { ok: true, value: { format: STATE_FORMAT, version: STATE_VERSION, savedAt: raw["savedAt"], apps, ledger: ledger as LedgerSnapshot } };
}

function ledgerShapeProblem(ledger: unknown): string | undefined {
  if (!isObject(ledger)) return "not an object";
  if (ledger["version"] !== 1) return `version ${JSON.stringify(ledger["version"]) ?? "missing"} is not supported`;
  if (typeof ledger["savedAt"] !== "number") return "savedAt is not a number";
  const tickets = ledger["tickets"];
  if (!Array.isArray(tickets)) return "tickets is not a list";
  const badTicket = tickets.findIndex((t) => !isTicket(t));
  if (badTicket >= 0) return `tickets[${badTicket}] is not a ticket`;
  const queue = ledger["queue"];
  if (!Array.isArray(queue)) return "queue is not a list";
  const badEntry = queue.findIndex((q) => !isObject(q) || typeof q["app"] !== "string" || typeof q["id"] !== "string" || typeof q["enqueuedAt"] !== "number" || typeof q["lastSeenAt"] !== "number");
  if (badEntry >= 0) return `queue[${badEntry}] is not a queue entry`;
  const issued = ledger["issuedTotal"];
  if (!isObject(issued) || !Object.values(issued).every((v) => typeof v === "number")) return "issuedTotal is not a map of counts";
  return undefined;
}

function isTicket(t: unknown): boolean {
  if (!isObject(t)) return false;
  const strings = ["id", "app", "pod"].every((k) => typeof t[k] === "string");
  const numbers = ["slot", "issuedAt", "expiresAt", "lastActiveAt", "openConnections"].every((k) => typeof t[k] === "number" && Number.isFinite(t[k]));
  return strings && numbers;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
