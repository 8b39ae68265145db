/**
 * Defensive reading of a persisted ledger snapshot: a snapshot comes from storage
 * (the API server, a file), so every entry is checked before it is used.
 */
import type { AppKey } from "../config/app-spec.js";
import type { TicketView } from "./types.js";

export interface SavedQueueEntry {
  readonly app: AppKey;
  readonly id: string;
  readonly enqueuedAt: number;
  readonly lastSeenAt: number;
  readonly client: string | undefined;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isTime(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x) && x >= 0;
}

function isName(x: unknown): x is string {
  return typeof x === "string" && x.length > 0 && x.length <= 1024;
}

/** A well-formed ticket entry, or undefined. */
export function readSavedTicket(x: unknown): TicketView | undefined {
  if (!isRecord(x)) return undefined;
  const { id, app, pod, slot, issuedAt, expiresAt, lastActiveAt } = x;
  if (!isName(id) || !isName(app) || !isName(pod) || !Number.isInteger(slot)) return undefined;
  if (!isTime(issuedAt) || !isTime(expiresAt) || !isTime(lastActiveAt)) return undefined;
  const optional = readOptionalTicketFields(x);
  if (optional === undefined) return undefined;
  return { id, app, pod, slot: slot as number, issuedAt, expiresAt, lastActiveAt, openConnections: 0, ...optional };
}

/** The fields later versions added; tickets saved before probation existed were all firm. */
function readOptionalTicketFields(x: Readonly<Record<string, unknown>>): { confirmed: boolean; keyId?: string; client?: string } | undefined {
  const { keyId, confirmed, client } = x;
  if ((keyId !== undefined && !isName(keyId)) || (client !== undefined && !isName(client)) || (confirmed !== undefined && typeof confirmed !== "boolean")) return undefined;
  return { confirmed: confirmed ?? true, ...(keyId === undefined ? {} : { keyId }), ...(client === undefined ? {} : { client }) };
}

/** A well-formed queue entry, or undefined. */
export function readSavedQueueEntry(x: unknown): SavedQueueEntry | undefined {
  if (!isRecord(x)) return undefined;
  const { app, id, enqueuedAt, lastSeenAt, client } = x;
  if (!isName(app) || !isName(id) || !isTime(enqueuedAt) || !isTime(lastSeenAt)) return undefined;
  if (client !== undefined && !isName(client)) return undefined;
  return { app, id, enqueuedAt, lastSeenAt, client: typeof client === "string" ? client : undefined };
}

/** An id to name an entry by in a restore report, whatever its shape. */
export function entryId(x: unknown): string {
  return isRecord(x) && typeof x["id"] === "string" ? x["id"] : "?";
}

/** The entries of a list field, or [] when the field is not a list. */
export function listOf(x: unknown): readonly unknown[] {
  return Array.isArray(x) ? (x as unknown[]) : [];
}
