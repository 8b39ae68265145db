/**
 * One app's ledger as a ConfigMap: the encoding, defined once, that the
 * API-server ledger store writes and reads. No API calls here.
 *
 * ```yaml
 * metadata:
 *   name: ticketplane-ledger-<app slug>-<hash>    # one object per app
 *   labels: { ticketplane.dev/ledger: v1, app.kubernetes.io/managed-by: ticketplane }
 *   annotations:
 *     ticketplane.dev/app: <namespace>/<name>     # the app key, exactly
 *     ticketplane.dev/writer: <holder identity>   # who wrote last
 *     ticketplane.dev/term: "<leaseTransitions>"   # the writer's fencing term
 *     ticketplane.dev/saved-at: <RFC 3339>         # the last snapshot
 * binaryData:
 *   snapshot.json.gz: <gzip of { format, version, app, tickets, queue, issuedTotal }>
 * data:
 *   journal.00000001: <JSON record per line>       # appended since the snapshot
 * ```
 *
 * Why gzip: a ConfigMap holds at most 1 MiB of data. A ticket is ~240
 * bytes of JSON but ~38 bytes gzipped (ids are random, the rest repeats),
 * so 10,000 tickets of one app take ~370 KB and an app fits up to ~27,000.
 * The journal stays plain JSON: it is small, and readable with kubectl.
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { errorMessage } from "../common/errors.js";
import type { AppKey } from "../config/app-spec.js";
import type { LedgerSnapshot } from "../tickets/index.js";

export const LEDGER_LABEL = "ticketplane.dev/ledger";
export const LEDGER_LABEL_VALUE = "v1";
export const SET_ASIDE_LABEL_VALUE = "set-aside";
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "ticketplane" } as const;
export const APP_ANNOTATION = "ticketplane.dev/app";
export const WRITER_ANNOTATION = "ticketplane.dev/writer";
export const TERM_ANNOTATION = "ticketplane.dev/term";
export const SAVED_AT_ANNOTATION = "ticketplane.dev/saved-at";
export const SET_ASIDE_REASON_ANNOTATION = "ticketplane.dev/set-aside-reason";
export const SNAPSHOT_KEY = "snapshot.json.gz";
export const JOURNAL_PREFIX = "journal.";
export const APP_LEDGER_FORMAT = "ticketplane-app-ledger";
export const APP_LEDGER_VERSION = 1;
/** What the API server accepts in one ConfigMap: keys plus values (binaryData decoded), 1 MiB. */
export const CONFIGMAP_DATA_LIMIT = 1024 * 1024;

/** One app's share of a ledger snapshot. */
export interface AppPart {
  readonly tickets: readonly unknown[];
  readonly queue: readonly unknown[];
  readonly issuedTotal: number;
}

/** The ConfigMap name of an app's ledger: readable, and unique (a hash of the exact key). */
export function ledgerObjectName(prefix: string, app: AppKey): string {
  const slug = app.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
  const hash = createHash("sha256").update(app).digest("hex").slice(0, 10);
  return `${prefix}-${slug === "" ? "app" : slug}-${hash}`;
}

/** `journal.00000042`: sorts as text in append order. */
export function journalKey(seq: number): string {
  return `${JOURNAL_PREFIX}${String(seq).padStart(8, "0")}`;
}

/** The sequence number of a journal key, or undefined for other keys. */
export function journalSeq(key: string): number | undefined {
  const m = /^journal\.(\d{1,15})$/.exec(key);
  return m === null ? undefined : Number(m[1]);
}

/** Every app's share of a snapshot (apps with nothing are absent). */
export function splitSnapshot(snapshot: LedgerSnapshot): Map<AppKey, AppPart> {
  const parts = new Map<AppKey, { tickets: unknown[]; queue: unknown[]; issuedTotal: number }>();
  const of = (app: AppKey) => {
    let p = parts.get(app);
    if (p === undefined) parts.set(app, (p = { tickets: [], queue: [], issuedTotal: 0 }));
    return p;
  };
  for (const t of snapshot.tickets) of(t.app).tickets.push(t);
  for (const q of snapshot.queue) of(q.app).queue.push(q);
  for (const [app, n] of Object.entries(snapshot.issuedTotal)) if (n > 0) of(app).issuedTotal = n;
  return parts;
}

/** The gzipped snapshot of one app (deterministic: the same part gives the same bytes, so an unchanged app is not rewritten). */
export function encodeAppPart(app: AppKey, part: AppPart): Buffer {
  return gzipSync(JSON.stringify({ format: APP_LEDGER_FORMAT, version: APP_LEDGER_VERSION, app, tickets: part.tickets, queue: part.queue, issuedTotal: part.issuedTotal }));
}

/** Bytes the API server counts against the 1 MiB limit. */
export function dataBytes(data: Readonly<Record<string, string>>, binary: Readonly<Record<string, Buffer>>): number {
  let total = 0;
  for (const [k, v] of Object.entries(data)) total += k.length + Buffer.byteLength(v);
  for (const [k, v] of Object.entries(binary)) total += k.length + v.length;
  return total;
}

/** One stored app ledger, read back. Journal records are untrusted (replayJournal and restore check them). */
export interface DecodedLedger {
  readonly app: AppKey;
  /** The app's snapshot as a LedgerSnapshot-shaped value (undefined: journal only). */
  readonly snapshot: unknown;
  readonly snapshotGz: Buffer | undefined;
  readonly savedAt: number;
  /** Journal keys in order, with their text. */
  readonly journal: ReadonlyMap<string, string>;
  readonly records: readonly unknown[];
  /** Journal lines that did not parse or named another app. */
  readonly skipped: number;
  readonly term: number;
  readonly writer: string | undefined;
}

export type DecodeResult = { readonly ok: true; readonly value: DecodedLedger } | { readonly ok: false; readonly reason: string };

/** Reads a labelled ConfigMap as an app ledger; anything not ours is a reason, never an exception. */
export function decodeLedgerObject(cm: V1ConfigMap, prefix: string): DecodeResult {
  const meta = cm.metadata ?? {};
  const app = meta.annotations?.[APP_ANNOTATION];
  if (typeof app !== "string" || !/^[^/\s]+\/[^/\s]+$/.test(app)) return { ok: false, reason: `annotation ${APP_ANNOTATION} is ${JSON.stringify(app) ?? "missing"}, not an app key namespace/name` };
  if (meta.name !== ledgerObjectName(prefix, app)) return { ok: false, reason: `its name ${String(meta.name)} is not the ledger name of app ${app} (${ledgerObjectName(prefix, app)}): copied or foreign` };
  const snap = readSnapshot(cm.binaryData?.[SNAPSHOT_KEY], app);
  if (!snap.ok) return snap;
  const journal = readJournal(cm.data ?? {}, app);
  if (!journal.ok) return journal;
  const { entries, records, skipped } = journal;
  return { ok: true, value: { app, snapshot: snap.snapshot, snapshotGz: snap.gz, journal: entries, records, skipped, ...writtenBy(meta.annotations ?? {}) } };
}

/** Who wrote the object and when, from its annotations (absent or malformed: 0 / undefined). */
function writtenBy(ann: Readonly<Record<string, string>>): Pick<DecodedLedger, "term" | "writer" | "savedAt"> {
  const term = Number(ann[TERM_ANNOTATION] ?? "0");
  const savedAt = Date.parse(ann[SAVED_AT_ANNOTATION] ?? "");
  return { term: Number.isSafeInteger(term) ? term : 0, writer: ann[WRITER_ANNOTATION], savedAt: Number.isFinite(savedAt) ? savedAt : 0 };
}

type JournalRead = { readonly ok: true; readonly entries: Map<string, string>; readonly records: unknown[]; readonly skipped: number } | { readonly ok: false; readonly reason: string };

/** The journal keys in order and their records; a data key that is not a journal key makes the object not ours. */
function readJournal(data: Readonly<Record<string, string>>, app: AppKey): JournalRead {
  const entries = new Map<string, string>();
  const records: unknown[] = [];
  let skipped = 0;
  for (const key of Object.keys(data).sort()) {
    if (journalSeq(key) === undefined) return { ok: false, reason: `data key ${key} is not a journal key (journal.<n>)` };
    const text = data[key] ?? "";
    entries.set(key, text);
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const record = parseRecord(line, app);
      if (record === undefined) skipped++;
      else records.push(record);
    }
  }
  return { ok: true, entries, records, skipped };
}

type SnapshotRead = { readonly ok: true; readonly snapshot: unknown; readonly gz: Buffer | undefined } | { readonly ok: false; readonly reason: string };

function readSnapshot(base64: string | undefined, app: AppKey): SnapshotRead {
  if (base64 === undefined) return { ok: true, snapshot: undefined, gz: undefined };
  const gz = Buffer.from(base64, "base64");
  let raw: unknown;
  try {
    raw = JSON.parse(gunzipSync(gz).toString("utf8"));
  } catch (err) {
    return { ok: false, reason: `${SNAPSHOT_KEY} is not gzipped JSON (${errorMessage(err)})` };
  }
  if (!isRecord(raw) || raw["format"] !== APP_LEDGER_FORMAT) return { ok: false, reason: `${SNAPSHOT_KEY} is not a ${APP_LEDGER_FORMAT} (format ${JSON.stringify(isRecord(raw) ? raw["format"] : raw) ?? "missing"})` };
  if (raw["version"] !== APP_LEDGER_VERSION) return { ok: false, reason: `${SNAPSHOT_KEY} has version ${JSON.stringify(raw["version"]) ?? "missing"}, expected ${APP_LEDGER_VERSION}` };
  if (raw["app"] !== app) return { ok: false, reason: `${SNAPSHOT_KEY} is the ledger of ${JSON.stringify(raw["app"])}, not of ${app}` };
  const { tickets, queue, issuedTotal } = raw;
  if (!Array.isArray(tickets) || !Array.isArray(queue) || typeof issuedTotal !== "number") return { ok: false, reason: `${SNAPSHOT_KEY} lacks tickets, queue or issuedTotal` };
  // Entries of other apps do not belong here: dropped, as restore would drop an unknown app's.
  const mine = (x: unknown) => isRecord(x) && x["app"] === app;
  return { ok: true, gz, snapshot: { version: 1, savedAt: 0, tickets: (tickets as unknown[]).filter(mine), queue: (queue as unknown[]).filter(mine), issuedTotal: { [app]: issuedTotal } } };
}

function parseRecord(line: string, app: AppKey): unknown {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(r)) return undefined;
  const recordApp = r["op"] === "issue" && isRecord(r["ticket"]) ? r["ticket"]["app"] : r["app"];
  return recordApp === app ? r : undefined;
}

/** The apps' snapshots (each replayed over its journal) as one LedgerSnapshot-shaped value (restore checks every entry). */
export function mergeAppSnapshots(snapshots: readonly unknown[], savedAt: number): unknown {
  const tickets: unknown[] = [];
  const queue: unknown[] = [];
  const issuedTotal: Record<string, number> = {};
  for (const s of snapshots) {
    const x = (s ?? {}) as { tickets?: unknown[]; queue?: unknown[]; issuedTotal?: Record<string, number> };
    tickets.push(...(x.tickets ?? []));
    queue.push(...(x.queue ?? []));
    Object.assign(issuedTotal, x.issuedTotal ?? {});
  }
  return { version: 1, savedAt, tickets, queue, issuedTotal };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
