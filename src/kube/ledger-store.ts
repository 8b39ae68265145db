/**
 * ApiLedgerStore: Kubernetes mode's ledger store, one ConfigMap per app in
 * the control plane's namespace (the encoding: ledger-object.ts).
 *
 * Why one object per app: an issue touches only its app's object, a
 * compaction rewrites only the apps that changed, one app's size cannot
 * push the others over the API server's limit, and the owner/follower seam
 * of several replicas (apps hashed into buckets, a Lease each) maps onto
 * per-app objects without a format change.
 *
 * - `append` adds one journal key to each touched app's object with a merge
 *   patch (O(records), not a rewrite of the app, let alone of every app).
 *   When the journal would push the object past `maxObjectBytes`, the store
 *   folds the journal into that app's snapshot itself (replayJournal).
 * - `save` (compaction) replaces the snapshot of each app whose content
 *   changed and drops its journal; an app with nothing left and no longer
 *   configured loses its object.
 * - Every write carries the resourceVersion last seen (optimistic
 *   concurrency). On 409 the store re-reads the object and reapplies,
 *   unless the object was written by a newer owner (a higher term than
 *   ours): then it refuses (TP_CONFLICT) and never overwrites it.
 * - The claim is the leader Lease: `acquire` verifies this replica holds it
 *   (it does not take it: leader election does), and every write checks
 *   again, so a replica that lost the lead stops writing at once — even its
 *   final compaction on the way out.
 * - An app whose ledger would exceed the bound is not written: the write
 *   rejects (TP_IO naming the app, its size and the bound), a metric counts
 *   it, and the last stored state of that app stays. Other apps are written.
 * - `load` lists the labelled objects (pages; a 410 on a page restarts the
 *   list), replays each journal over its snapshot and merges the apps. An
 *   object that is not ours (corrupt, foreign, renamed, another version)
 *   is copied to `<name>-set-aside-<time>` (label `set-aside`, with the
 *   reason) and deleted, never trusted; the other apps still load.
 */
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { sharedCounter, sharedGauge } from "../common/metrics.js";
import type { AppKey } from "../config/app-spec.js";
import type { LedgerLoad, LedgerStore } from "../runtime/ports.js";
import { replayJournal, type LedgerRecord, type LedgerSnapshot } from "../tickets/index.js";
import { withDeadline, type CallOptions } from "./call-deadline.js";
import { describeKubeError, isAlreadyExists, isConflict, isGone, isNotFound, toKubeError } from "./errors.js";
import {
  APP_ANNOTATION,
  CONFIGMAP_DATA_LIMIT,
  LEDGER_LABEL,
  LEDGER_LABEL_VALUE,
  MANAGED_BY,
  SAVED_AT_ANNOTATION,
  SET_ASIDE_LABEL_VALUE,
  SET_ASIDE_REASON_ANNOTATION,
  SNAPSHOT_KEY,
  TERM_ANNOTATION,
  WRITER_ANNOTATION,
  dataBytes,
  decodeLedgerObject,
  encodeAppPart,
  journalKey,
  journalSeq,
  ledgerObjectName,
  mergeAppSnapshots,
  splitSnapshot,
  type AppPart,
} from "./ledger-object.js";

/** Who may write: the leader Lease (LeaseLeadership implements it). */
export interface LedgerClaim {
  readonly identity: string;
  isLeader(): boolean;
  /** The Lease's transitions when this replica took it: a fencing term (undefined before). */
  term(): number | undefined;
  /** The holder last observed, for error messages. */
  holder(): string | undefined;
}

export interface ApiLedgerStoreOptions {
  readonly core: CoreV1Api;
  /** The control plane's namespace. */
  readonly namespace: string;
  readonly claim: LedgerClaim;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Object name prefix (default "ticketplane-ledger"). */
  readonly prefix?: string;
  /** Bound on one app's object, data bytes as the API server counts them (default 1,000,000; the API server's limit is 1 MiB). */
  readonly maxObjectBytes?: number;
  /** Deadline of one API call (default 10 s). */
  readonly callTimeoutMs?: number;
  /** Objects per list page (default 100). */
  readonly pageSize?: number;
}

/** What the store last wrote or read of one app's object. */
interface Stored {
  /** undefined: no object. */
  rv: string | undefined;
  snapshotGz: Buffer | undefined;
  /** The app's snapshot (LedgerSnapshot-shaped) and the records appended since: self-compaction replays them. */
  base: unknown;
  records: unknown[];
  journal: Map<string, string>;
  nextSeq: number;
}

const TRIES = 4;
const EMPTY: AppPart = { tickets: [], queue: [], issuedTotal: 0 };

export class ApiLedgerStore implements LedgerStore {
  readonly description: string;
  readonly #o: ApiLedgerStoreOptions;
  readonly #prefix: string;
  readonly #max: number;
  readonly #apps = new Map<AppKey, Stored>();
  readonly #metrics;

  constructor(options: ApiLedgerStoreOptions) {
    this.#o = options;
    this.#prefix = options.prefix ?? "ticketplane-ledger";
    this.#max = Math.min(options.maxObjectBytes ?? 1_000_000, CONFIGMAP_DATA_LIMIT);
    this.description = `ConfigMaps ${options.namespace}/${this.#prefix}-* (one per app)`;
    const r = options.registry;
    this.#metrics = {
      writes: sharedCounter(r, { name: "ticketplane_ledger_store_writes_total", help: "Writes of app ledger objects to the API server, by operation and outcome", labelNames: ["op", "outcome"] }),
      oversize: sharedCounter(r, { name: "ticketplane_ledger_store_oversize_total", help: "Writes refused because an app's ledger would exceed the object size bound (the app's last stored state stays)", labelNames: ["app"] }),
      bytes: sharedGauge(r, { name: "ticketplane_ledger_store_object_bytes", help: "Size of each app's ledger object (data bytes as the API server counts them)", labelNames: ["app"] }),
      setAside: sharedCounter(r, { name: "ticketplane_ledger_store_set_aside_total", help: "Stored app ledgers that were not ours (corrupt, foreign) and were set aside", labelNames: [] }),
    };
  }

  /** The bound one app's object is kept under (bytes). */
  get maxObjectBytes(): number {
    return this.#max;
  }

  /** The ConfigMap name of an app's ledger. */
  objectName(app: AppKey): string {
    return ledgerObjectName(this.#prefix, app);
  }

  /** The Lease is the claim: this verifies this replica holds it; it never takes it. */
  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.#checkClaim("acquire");
      resolve();
    });
  }

  release(): Promise<void> {
    this.#apps.clear();
    return Promise.resolve();
  }

  async load(): Promise<LedgerLoad> {
    this.#checkClaim("load");
    this.#apps.clear();
    const items = await this.#listAll();
    const snapshots: unknown[] = [];
    const setAside: { reason: string; movedTo: string }[] = [];
    let savedAt = 0;
    for (const cm of items) {
      const decoded = decodeLedgerObject(cm, this.#prefix);
      if (!decoded.ok) {
        setAside.push({ reason: `${cm.metadata?.name ?? "?"}: ${decoded.reason}`, movedTo: await this.#setAside(cm, decoded.reason) });
        continue;
      }
      const d = decoded.value;
      if (d.skipped > 0) this.#o.logger.warn("skipped journal lines that do not parse or name another app", { app: d.app, object: cm.metadata?.name, skipped: d.skipped });
      const maxSeq = Math.max(0, ...[...d.journal.keys()].map((k) => journalSeq(k) ?? 0));
      this.#apps.set(d.app, { rv: cm.metadata?.resourceVersion, snapshotGz: d.snapshotGz, base: d.snapshot, records: [...d.records], journal: new Map(d.journal), nextSeq: maxSeq + 1 });
      this.#metrics.bytes.set({ app: d.app }, this.#bytesOf(d.journal, d.snapshotGz));
      snapshots.push(replayJournal(d.snapshot, d.records));
      savedAt = Math.max(savedAt, d.savedAt);
    }
    if (snapshots.length === 0) {
      if (setAside.length === 0) return { kind: "missing" };
      return { kind: "set-aside", reason: setAside.map((s) => s.reason).join("; "), movedTo: setAside.map((s) => s.movedTo).join(", ") };
    }
    return { kind: "loaded", snapshot: mergeAppSnapshots(snapshots, savedAt), savedAt };
  }

  async append(records: readonly LedgerRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.#checkClaim("append");
    const byApp = new Map<AppKey, LedgerRecord[]>();
    for (const r of records) {
      const app = r.op === "issue" ? r.ticket.app : r.app;
      let list = byApp.get(app);
      if (list === undefined) byApp.set(app, (list = []));
      list.push(r);
    }
    await this.#eachApp([...byApp], ([app, recs]) => this.#appendApp(app, recs));
  }

  async save(snapshot: LedgerSnapshot, apps: readonly AppKey[]): Promise<void> {
    this.#checkClaim("save");
    const parts = splitSnapshot(snapshot);
    const configured = new Set(apps);
    const targets = new Set<AppKey>([...parts.keys(), ...this.#apps.keys()]);
    await this.#eachApp([...targets], (app) => {
      const part = parts.get(app);
      if (part === undefined && !configured.has(app)) return this.#deleteApp(app);
      return this.#writeSnapshot(app, part ?? EMPTY, snapshot.savedAt);
    });
  }

  // ---- per-app writes ----------------------------------------------------

  async #appendApp(app: AppKey, recs: readonly LedgerRecord[]): Promise<void> {
    const text = recs.map((r) => JSON.stringify(r)).join("\n");
    await this.#withRetries(app, "append", async (st) => {
      const key = journalKey(st.nextSeq);
      const journal = new Map(st.journal).set(key, text);
      // Fold the journal into the snapshot (this app only) when it would push the object over the bound, or
      // when the object is gone although we stored state in it (deleted by someone): a journal alone would lose that state.
      const lostObject = st.rv === undefined && (st.base !== undefined || st.records.length > 0);
      if (lostObject || this.#bytesOf(journal, st.snapshotGz) > this.#max) {
        const folded = replayJournal(st.base ?? emptyBase(app), [...st.records, ...recs]);
        await this.#replace(app, st, partOf(folded, app), this.#o.clock.now());
        return;
      }
      const fence = this.#fence();
      const written =
        st.rv === undefined
          ? await this.#call((o) => this.#o.core.createNamespacedConfigMap({ namespace: this.#o.namespace, body: this.#object(app, { data: { [key]: text } }) }, o))
          : await this.#call(
              (o) => this.#o.core.patchNamespacedConfigMap({ name: this.objectName(app), namespace: this.#o.namespace, body: { metadata: { resourceVersion: st.rv, annotations: fence }, data: { [key]: text } } }, o),
              setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
            );
      st.rv = written.metadata?.resourceVersion;
      st.journal = journal;
      st.records.push(...recs);
      st.nextSeq += 1;
      this.#metrics.bytes.set({ app }, this.#bytesOf(journal, st.snapshotGz));
    });
  }

  async #writeSnapshot(app: AppKey, part: AppPart, savedAt: number): Promise<void> {
    const gz = encodeAppPart(app, part);
    const known = this.#apps.get(app);
    if (known !== undefined && known.journal.size === 0 && known.snapshotGz?.equals(gz) === true) return;
    if (known?.rv === undefined && part.tickets.length === 0 && part.queue.length === 0 && part.issuedTotal === 0) return;
    await this.#withRetries(app, "snapshot", (st) => this.#replace(app, st, part, savedAt, gz));
  }

  /** Writes `part` as the app's whole object (snapshot, no journal), creating it if needed. */
  async #replace(app: AppKey, st: Stored, part: AppPart, savedAt: number, encoded?: Buffer): Promise<void> {
    const gz = encoded ?? encodeAppPart(app, part);
    const bytes = this.#bytesOf(new Map(), gz);
    if (bytes > this.#max) {
      this.#metrics.oversize.inc({ app });
      throw new TicketplaneError(
        ERROR_CODES.IO,
        `the ledger of app ${app} (${part.tickets.length} tickets, ${part.queue.length} waiting) needs ${bytes} bytes, over the bound of ${this.#max} for one object; its last stored state stays and tickets issued since are not durable`,
        { app, bytes, limit: this.#max, object: this.objectName(app) },
      );
    }
    const body = this.#object(app, { binaryData: { [SNAPSHOT_KEY]: gz.toString("base64") } }, savedAt);
    const ns = this.#o.namespace;
    const written =
      st.rv === undefined
        ? await this.#call((o) => this.#o.core.createNamespacedConfigMap({ namespace: ns, body }, o))
        : await this.#call((o) => this.#o.core.replaceNamespacedConfigMap({ name: this.objectName(app), namespace: ns, body: { ...body, metadata: { ...body.metadata, resourceVersion: st.rv } } }, o));
    st.rv = written.metadata?.resourceVersion;
    st.snapshotGz = gz;
    st.base = { version: 1, savedAt, tickets: part.tickets, queue: part.queue, issuedTotal: { [app]: part.issuedTotal } };
    st.records = [];
    st.journal = new Map();
    st.nextSeq = 1;
    this.#metrics.bytes.set({ app }, bytes);
  }

  async #deleteApp(app: AppKey): Promise<void> {
    await this.#withRetries(app, "delete", async (st) => {
      if (st.rv !== undefined) await this.#call((o) => this.#o.core.deleteNamespacedConfigMap({ name: this.objectName(app), namespace: this.#o.namespace, body: { preconditions: { resourceVersion: st.rv } } }, o));
      this.#apps.delete(app);
      this.#metrics.bytes.remove({ app });
    });
  }

  /**
   * Runs one write with what the store knows of the app's object; on 409
   * (someone wrote since), 404 (deleted) or AlreadyExists (created) it
   * re-reads the object — refusing if a newer owner wrote it — and tries
   * again. Other failures reject (TP_UNAVAILABLE, TP_IO …) naming the app.
   */
  async #withRetries(app: AppKey, op: string, write: (st: Stored) => Promise<void>): Promise<void> {
    let st = this.#apps.get(app) ?? this.#blank(app);
    for (let attempt = 1; ; attempt++) {
      this.#checkClaim(op);
      try {
        await write(st);
        this.#metrics.writes.inc({ op, outcome: "ok" });
        return;
      } catch (err) {
        if (err instanceof TicketplaneError) throw err;
        const stale = isConflict(err) || isNotFound(err) || isAlreadyExists(err);
        this.#metrics.writes.inc({ op, outcome: stale ? "conflict" : "error" });
        if (!stale || attempt >= TRIES) throw toKubeError(err, { app, object: this.objectName(app), call: op });
        this.#o.logger.debug("ledger object changed under us; re-reading it", { app, op, error: describeKubeError(err) });
        st = await this.#reread(app);
      }
    }
  }

  /** Re-reads an app's object after a conflict. Throws TP_CONFLICT when a newer owner wrote it. */
  async #reread(app: AppKey): Promise<Stored> {
    const known = this.#apps.get(app) ?? this.#blank(app);
    let cm: V1ConfigMap;
    try {
      cm = await this.#call((o) => this.#o.core.readNamespacedConfigMap({ name: this.objectName(app), namespace: this.#o.namespace }, o));
    } catch (err) {
      if (!isNotFound(err)) throw toKubeError(err, { app, object: this.objectName(app), call: "read" });
      const gone = { ...known, rv: undefined, journal: new Map<string, string>(), nextSeq: 1 };
      this.#apps.set(app, gone);
      return gone;
    }
    const ann = cm.metadata?.annotations ?? {};
    this.#refuseNewer(app, ann);
    const journal = new Map(Object.entries(cm.data ?? {}).filter(([k]) => journalSeq(k) !== undefined));
    const unknown = [...journal.keys()].filter((k) => journal.get(k) !== known.journal.get(k));
    if (unknown.length > 0 && ann[WRITER_ANNOTATION] !== this.#o.claim.identity) {
      this.#o.logger.warn("an earlier owner appended to this app's ledger after this replica loaded it; the next compaction replaces its records", { app, writer: ann[WRITER_ANNOTATION], keys: unknown.length });
    }
    const gz = cm.binaryData?.[SNAPSHOT_KEY];
    const next: Stored = { ...known, rv: cm.metadata?.resourceVersion, snapshotGz: gz === undefined ? undefined : Buffer.from(gz, "base64"), journal, nextSeq: Math.max(0, ...[...journal.keys()].map((k) => journalSeq(k) ?? 0)) + 1 };
    this.#apps.set(app, next);
    return next;
  }

  /** Throws TP_CONFLICT when the object was written with a higher term than ours: a newer owner has it. */
  #refuseNewer(app: AppKey, ann: Readonly<Record<string, string>>): void {
    const theirTerm = Number(ann[TERM_ANNOTATION] ?? "0");
    const ours = this.#o.claim.term() ?? 0;
    if (!(theirTerm > ours)) return;
    const writer = ann[WRITER_ANNOTATION] ?? "another owner";
    throw new TicketplaneError(ERROR_CODES.CONFLICT, `the ledger of app ${app} was written by ${writer} (term ${theirTerm}), newer than this replica (${this.#o.claim.identity}, term ${ours}); not overwriting it`, { app, object: this.objectName(app), writer, term: theirTerm });
  }

  // ---- load helpers ------------------------------------------------------

  /** Every labelled object, page by page; a 410 (the continue token expired) restarts the list. */
  async #listAll(): Promise<V1ConfigMap[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const items: V1ConfigMap[] = [];
        let cont: string | undefined;
        do {
          const page = await this.#call((o) =>
            this.#o.core.listNamespacedConfigMap({ namespace: this.#o.namespace, labelSelector: `${LEDGER_LABEL}=${LEDGER_LABEL_VALUE}`, limit: this.#o.pageSize ?? 100, ...(cont === undefined ? {} : { _continue: cont }) }, o),
          );
          items.push(...page.items);
          cont = page.metadata?._continue === "" ? undefined : page.metadata?._continue;
        } while (cont !== undefined);
        return items;
      } catch (err) {
        if (isGone(err) && attempt < TRIES) {
          this.#o.logger.info("ledger list expired between pages (410); listing again from the start", { namespace: this.#o.namespace });
          continue;
        }
        throw toKubeError(err, { namespace: this.#o.namespace, call: "list ledger objects" });
      }
    }
  }

  /** Copies an object that is not ours aside (never trusted, kept for inspection) and deletes it. Returns the copy's name. */
  async #setAside(cm: V1ConfigMap, reason: string): Promise<string> {
    const name = cm.metadata?.name ?? "unnamed";
    const movedTo = `${name.slice(0, 200)}-set-aside-${stamp(this.#o.clock.now())}`;
    const ns = this.#o.namespace;
    this.#metrics.setAside.inc();
    this.#o.logger.error("a stored app ledger is not ours; setting it aside and not trusting it", { object: name, reason, movedTo });
    try {
      await this.#call((o) =>
        this.#o.core.createNamespacedConfigMap({
          namespace: ns,
          body: {
            metadata: { name: movedTo, labels: { ...cm.metadata?.labels, [LEDGER_LABEL]: SET_ASIDE_LABEL_VALUE }, annotations: { ...cm.metadata?.annotations, [SET_ASIDE_REASON_ANNOTATION]: reason.slice(0, 1000) } },
            ...(cm.data === undefined ? {} : { data: cm.data }),
            ...(cm.binaryData === undefined ? {} : { binaryData: cm.binaryData }),
          },
        }, o),
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw toKubeError(err, { object: name, call: "set aside" });
    }
    try {
      await this.#call((o) => this.#o.core.deleteNamespacedConfigMap({ name, namespace: ns, body: { preconditions: { resourceVersion: cm.metadata?.resourceVersion } } }, o));
    } catch (err) {
      if (!isNotFound(err)) throw toKubeError(err, { object: name, call: "delete after setting aside" });
    }
    return `ConfigMap ${ns}/${movedTo}`;
  }

  // ---- small parts -------------------------------------------------------

  #checkClaim(op: string): void {
    const { claim } = this.#o;
    if (claim.isLeader()) return;
    throw new TicketplaneError(ERROR_CODES.CONFLICT, `this replica (${claim.identity}) does not hold the leader Lease${claim.holder() === undefined ? "" : ` (held by ${claim.holder()})`}; the ledger in ${this.description} is written only by the leader`, { op, identity: claim.identity, holder: claim.holder() });
  }

  #fence(): Record<string, string> {
    return { [WRITER_ANNOTATION]: this.#o.claim.identity, [TERM_ANNOTATION]: String(this.#o.claim.term() ?? 0) };
  }

  #object(app: AppKey, content: Pick<V1ConfigMap, "data" | "binaryData">, savedAt?: number): V1ConfigMap {
    return {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: this.objectName(app),
        namespace: this.#o.namespace,
        labels: { ...MANAGED_BY, [LEDGER_LABEL]: LEDGER_LABEL_VALUE },
        annotations: { [APP_ANNOTATION]: app, ...this.#fence(), ...(savedAt === undefined ? {} : { [SAVED_AT_ANNOTATION]: new Date(savedAt).toISOString() }) },
      },
      ...content,
    };
  }

  #blank(app: AppKey): Stored {
    const st: Stored = { rv: undefined, snapshotGz: undefined, base: undefined, records: [], journal: new Map(), nextSeq: 1 };
    this.#apps.set(app, st);
    return st;
  }

  #bytesOf(journal: ReadonlyMap<string, string>, gz: Buffer | undefined): number {
    return dataBytes(Object.fromEntries(journal), gz === undefined ? {} : { [SNAPSHOT_KEY]: gz });
  }

  #call<T>(call: (options: CallOptions) => Promise<T>, extra?: CallOptions): Promise<T> {
    return withDeadline(this.#o.clock, this.#o.callTimeoutMs ?? 10_000, call, extra);
  }

  /** Runs `write` for every item, a few at a time; every item is tried, and the failures are reported together. */
  async #eachApp<T>(items: readonly T[], write: (item: T) => Promise<void>): Promise<void> {
    const failures: TicketplaneError[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++];
        try {
          await write(item);
        } catch (err) {
          failures.push(err instanceof TicketplaneError ? err : toKubeError(err, {}));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
    const [first] = failures;
    if (first === undefined) return;
    if (failures.length === 1) throw first;
    const code = failures.some((f) => f.code === ERROR_CODES.CONFLICT) ? ERROR_CODES.CONFLICT : first.code;
    throw new TicketplaneError(code, `${failures.length} app ledgers not written: ${failures.map((f) => f.message).join("; ")}`, { apps: failures.map((f) => String(f.context["app"] ?? "?")).join(",") }, { cause: first });
  }
}

function emptyBase(app: AppKey): unknown {
  return { version: 1, savedAt: 0, tickets: [], queue: [], issuedTotal: { [app]: 0 } };
}

/** An app's part of a replayed (LedgerSnapshot-shaped) value. */
function partOf(folded: unknown, app: AppKey): AppPart {
  const s = (folded ?? {}) as { tickets?: unknown[]; queue?: unknown[]; issuedTotal?: Record<string, number> };
  return { tickets: s.tickets ?? [], queue: s.queue ?? [], issuedTotal: s.issuedTotal?.[app] ?? 0 };
}

/** `20260101T000000123Z` lowercased: sortable, and valid in an object name. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, "").toLowerCase();
}
