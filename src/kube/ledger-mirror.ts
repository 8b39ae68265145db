/**
 * ApiLedgerMirror: a follower's copy of the owner's ledger, so that every
 * replica answers Check for a valid ticket from local state only.
 *
 * An informer lists and watches the ledger ConfigMaps (one per app, the
 * encoding of ledger-object.ts) in the control plane's namespace. On every
 * change of an app's object, the mirror replays its journal over its
 * snapshot and restores that app's ledger into the ticket core (restore
 * makes the app's ledger exactly the stored one: a ticket the owner
 * released or reassigned is released here too, `superseded`). So a release
 * on the owner stops validating on every follower after one journal append
 * (the owner batches them over `appendDelayMs`, 20 ms) plus one watch event.
 *
 * - A ticket whose app or pod this replica's informers have not seen yet is
 *   dropped by restore; the app is applied again when its apps or pods
 *   change, so it validates as soon as the pod is known here.
 * - An object that is not a ledger of ours is skipped and logged (the owner
 *   sets it aside); the other apps are mirrored.
 * - While this replica owns the ledger (`follow()` false) nothing is
 *   applied: the owner's ticket core is the ledger, and its own writes come
 *   back here later than its changes.
 */
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { sharedCounter } from "../common/metrics.js";
import { once, type Runnable } from "../common/runnable.js";
import type { AppKey } from "../config/app-spec.js";
import type { LedgerMirror, MirrorTarget } from "../runtime/ports.js";
import { replayJournal } from "../tickets/index.js";
import { Informer, type Change, type WatchPort } from "./informer.js";
import type { InformerTuning } from "./inventory.js";
import { LEDGER_LABEL, LEDGER_LABEL_VALUE, decodeLedgerObject, mergeAppSnapshots } from "./ledger-object.js";
import { ledgerObjectsIn, type KubeApis } from "./resources.js";

export interface ApiLedgerMirrorOptions {
  readonly apis: KubeApis;
  readonly watch: WatchPort;
  /** The control plane's namespace (where ApiLedgerStore writes). */
  readonly namespace: string;
  /** Object name prefix (default "ticketplane-ledger", as ApiLedgerStore). */
  readonly prefix?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly informers?: InformerTuning;
}

/** A ledger ConfigMap as cached: what decodeLedgerObject reads. */
interface CachedLedgerObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Record<string, string> };
  readonly data?: Record<string, string>;
  readonly binaryData?: Record<string, string>;
}

/** Drops that a later change of the app's apps or pods can cure. */
const CURABLE = new Set(["unknown app", "unknown pod"]);

export class ApiLedgerMirror implements LedgerMirror, Runnable {
  readonly name = "ledger-mirror";
  readonly stop: () => Promise<void>;
  readonly #o: ApiLedgerMirrorOptions;
  readonly #informer: Informer<CachedLedgerObject>;
  /** Each app's ledger as last read (its journal replayed), by object key. */
  readonly #apps = new Map<string, { readonly app: AppKey; readonly snapshot: unknown }>();
  /** Apps whose last apply dropped tickets a later apps/pods change may let in. */
  readonly #incomplete = new Set<AppKey>();
  readonly #metrics;
  #target: MirrorTarget | undefined;
  #follow: () => boolean = () => true;
  #unsubscribe: (() => void) | undefined;
  #applying = false;
  #synced = false;

  constructor(options: ApiLedgerMirrorOptions) {
    this.#o = options;
    const prefix = options.prefix ?? "ticketplane-ledger";
    this.#informer = new Informer<CachedLedgerObject>({
      source: ledgerObjectsIn(options.apis, options.namespace, `${LEDGER_LABEL}=${LEDGER_LABEL_VALUE}`),
      strip: stripLedgerObject,
      keyOf: (cm) => cm.metadata.name,
      watch: options.watch,
      clock: options.clock,
      logger: options.logger,
      onChange: (changes) => this.#changed(changes, prefix),
      ...options.informers,
    });
    this.#metrics = {
      applies: sharedCounter(options.registry, { name: "ticketplane_ledger_mirror_applies_total", help: "App ledgers this follower restored from the owner's ledger objects", labelNames: [] }),
      skipped: sharedCounter(options.registry, { name: "ticketplane_ledger_mirror_skipped_total", help: "Ledger objects the mirror could not read (not ours; the owner sets them aside)", labelNames: [] }),
    };
    this.stop = once(async () => {
      this.#unsubscribe?.();
      await this.#informer.stop();
    });
  }

  feed(target: MirrorTarget, follow: () => boolean): void {
    this.#target = target;
    this.#follow = follow;
  }

  /** Resolves once the ledger objects are listed and applied. */
  async start(signal: AbortSignal): Promise<void> {
    this.#unsubscribe = this.#target?.subscribe((event) => {
      if (this.#applying || (event.kind !== "apps" && event.kind !== "pods")) return;
      const apps = event.kind === "apps" ? [...this.#incomplete] : this.#incomplete.has(event.app) ? [event.app] : [];
      if (apps.length > 0) this.#apply(apps);
    });
    await this.#informer.start(signal);
    this.#synced = true;
  }

  synced(): boolean {
    return this.#synced;
  }

  readinessReasons(): readonly string[] {
    const reason = this.#informer.readinessReason();
    return reason === undefined ? [] : [`ledger mirror: ${reason}`];
  }

  #changed(changes: readonly Change<CachedLedgerObject>[], prefix: string): void {
    const apps = new Set<AppKey>();
    for (const c of changes) {
      const before = this.#apps.get(c.key);
      if (before !== undefined) apps.add(before.app);
      this.#apps.delete(c.key);
      if (c.after === undefined) continue;
      const decoded = decodeLedgerObject(c.after, prefix);
      if (!decoded.ok) {
        this.#metrics.skipped.inc();
        this.#o.logger.warn("ledger object not mirrored: not ours", { object: c.key, reason: decoded.reason });
        continue;
      }
      const d = decoded.value;
      this.#apps.set(c.key, { app: d.app, snapshot: replayJournal(d.snapshot, d.records) });
      apps.add(d.app);
    }
    if (apps.size > 0) this.#apply([...apps]);
  }

  /** Restores `apps` from what the mirror holds (an app without an object: an empty ledger). */
  #apply(apps: readonly AppKey[]): void {
    const target = this.#target;
    if (target === undefined || !this.#follow()) return;
    const wanted = new Set(apps);
    const snapshots = [...this.#apps.values()].filter((a) => wanted.has(a.app)).map((a) => a.snapshot);
    this.#applying = true;
    try {
      const report = target.restore(mergeAppSnapshots(snapshots, this.#o.clock.now()), apps);
      for (const app of apps) this.#incomplete.delete(app);
      const curable = report.dropped.filter((d) => CURABLE.has(d.reason));
      // Which app a dropped entry belongs to is not in the report: every app of this apply is retried on its next apps/pods change.
      if (curable.length > 0) for (const app of apps) this.#incomplete.add(app);
      this.#metrics.applies.inc(apps.length);
      this.#o.logger.debug("mirrored the owner's ledger", { apps: apps.join(","), tickets: report.restoredTickets, queue: report.restoredQueue, dropped: report.dropped.length });
    } catch (err) {
      this.#o.logger.error("mirroring the owner's ledger failed", { apps: apps.join(","), error: errorMessage(err) });
    } finally {
      this.#applying = false;
    }
  }
}

/** What the mirror keeps of a ConfigMap: its name, annotations and data (resourceVersion and managedFields change without the ledger changing). */
function stripLedgerObject(object: unknown): CachedLedgerObject | undefined {
  if (typeof object !== "object" || object === null) return undefined;
  const cm = object as { metadata?: { name?: unknown; namespace?: unknown; annotations?: unknown }; data?: unknown; binaryData?: unknown };
  const name = cm.metadata?.name;
  if (typeof name !== "string") return undefined;
  const record = (x: unknown): Record<string, string> | undefined => (typeof x === "object" && x !== null ? (x as Record<string, string>) : undefined);
  const annotations = record(cm.metadata?.annotations);
  const data = record(cm.data);
  const binaryData = record(cm.binaryData);
  return {
    metadata: { name, ...(typeof cm.metadata?.namespace === "string" ? { namespace: cm.metadata.namespace } : {}), ...(annotations === undefined ? {} : { annotations }) },
    ...(data === undefined ? {} : { data }),
    ...(binaryData === undefined ? {} : { binaryData }),
  };
}
