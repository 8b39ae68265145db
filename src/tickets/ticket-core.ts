/**
 * TicketCore: every app's ledger and queue, the signing keys, and the rules
 * that bind tickets to slots. It implements every port in ports.ts.
 *
 * Single-threaded by design (one event loop); every method is synchronous.
 * Listeners are called synchronously after a change is complete, in order;
 * a listener that throws is a bug and the error propagates to the caller.
 * Objects returned by `verify` and `allocate` are live views of internal
 * records: read them at once, do not mutate or keep them (take `tickets()`
 * or `pods()` for copies).
 */
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import { CanarySplit } from "./canary-split.js";
import { clampPods, ticketsDemandPods } from "./scaling.js";
import { AppLedger } from "./ledger.js";
import type { PodRecord } from "./pod-record.js";
import type { ActivityRecorder, KeyHolder, LedgerAccess, TicketAllocator, TicketInventory, TicketVerifier, TicketViews } from "./ports.js";
import { signQueueToken, verifyQueueToken } from "./queue-token.js";
import { randomId as defaultRandomId } from "./random-id.js";
import { SigningKeys } from "./signing-keys.js";
import { entryId, listOf, readSavedQueueEntry, readSavedTicket } from "./snapshot.js";
import type { TicketRecord } from "./ticket-record.js";
import { signTicketToken, verifyTicketToken } from "./ticket-token.js";
import type {
  Allocation,
  AllocationRequest,
  AppFigures,
  KeyRing,
  LedgerSnapshot,
  PodInput,
  PodAddress,
  PodView,
  QueueView,
  QueuedView,
  ReleaseReason,
  RestoreReport,
  TicketCoreEvent,
  TicketRejection,
  TicketView,
  Verification,
} from "./types.js";
import { WaitingQueue, type QueueEntry } from "./waiting-queue.js";
import { ReleaseHistory } from "./wait-estimate.js";

export interface TicketCoreOptions {
  readonly clock: Clock;
  readonly keys: KeyRing;
  /** Source of ticket and queue entry ids (inject a deterministic one in tests). */
  readonly randomId?: () => string;
  /**
   * New pods count as routable at once. Only for set-ups with no xDS gateway
   * to ACK them (unit tests); default false: make before use.
   */
  readonly routableByDefault?: boolean;
  /**
   * The inventory can add pods (a reconciler scales). False where pods are
   * only listed (standalone mode): an app without pods then refuses with
   * `no_capacity` instead of queueing users for pods that never come.
   */
  readonly canAddPods?: boolean;
}

/** A place a turned-away client brought back: not yet in line. */
interface ReturnedPlace {
  readonly kind: "returned";
  readonly id: string;
  readonly issuedAt: number;
  readonly token: string;
}

/**
 * How long a waiting client may stay away and keep its place (a reload, a
 * closed tab opened again), and how long after issue a turned-away client's
 * token can still take its place: two Retry-After periods and a grace
 * second, and never less than the reservation window.
 */
function placeLifetimeMs(state: AppState): number {
  const q = state.ledger.spec.queue;
  return Math.max(2 * q.retryAfterMs + STALE_GRACE_MS, q.reservationMs);
}

/** What the allocator knows of the client asking. */
interface Asking {
  readonly queueTokens: readonly string[];
  readonly client: string | undefined;
  /** Why the client holds no valid ticket (undefined: it presented none). */
  readonly replaced: TicketRejection | undefined;
}

interface AppState {
  readonly ledger: AppLedger;
  readonly queue: WaitingQueue;
  readonly split: CanarySplit;
  issuedTotal: number;
  /** When a client without a place was last turned away (it is due back within a Retry-After). */
  turnedAwayAt: number;
  /** Places whose token may not make an entry again (claimed, lapsed, dropped), until their tokens are too old anyway. */
  readonly usedPlaces: Map<string, number>;
  /** When slots were freed lately, for the waiting room's estimate. */
  readonly releases: ReleaseHistory;
}

/** Releases that free a slot on a pod that stays (the others take the slot away with the pod, app or key). */
const FREES_A_SLOT: ReadonlySet<ReleaseReason> = new Set<ReleaseReason>(["probation", "idle", "lifetime"]);

/**
 * A waiting client comes back every Retry-After (the waiting room refreshes
 * itself); one that has not come back for two of those, plus this grace for
 * slow networks, has left and loses its place.
 */
const STALE_GRACE_MS = 1_000;
const UNKNOWN_APP: Allocation = Object.freeze({ kind: "unknown_app" });
const ABSENT: Verification = Object.freeze({ ok: false, reason: "absent" });
const UNKNOWN_APP_TICKET: Verification = Object.freeze({ ok: false, reason: "unknown_app" });
const NO_ADDRESSES: readonly PodAddress[] = Object.freeze([]);

export class TicketCore implements TicketVerifier, TicketAllocator, ActivityRecorder, TicketInventory, TicketViews, LedgerAccess, KeyHolder {
  readonly #clock: Clock;
  readonly #randomId: () => string;
  readonly #routableByDefault: boolean;
  readonly #canAddPods: boolean;
  #keys: SigningKeys;
  readonly #apps = new Map<AppKey, AppState>();
  /** What apps() answers, kept until setApps changes the apps, so a view of them (specOf's index) can be kept with it. */
  #appSpecs: readonly AppSpec[] | undefined;
  readonly #connections = new Map<string, { readonly state: AppState; readonly ticket: TicketRecord; lastSeenAt: number }>();
  readonly #listeners = new Set<(event: TicketCoreEvent) => void>();
  /** The listeners as an array, rebuilt when one comes or goes: #emit runs on every issue, and iterating a Set allocates. */
  #listenerList: readonly ((event: TicketCoreEvent) => void)[] = [];

  constructor(options: TicketCoreOptions) {
    this.#clock = options.clock;
    this.#keys = new SigningKeys(options.keys);
    this.#randomId = options.randomId ?? defaultRandomId;
    this.#routableByDefault = options.routableByDefault ?? false;
    this.#canAddPods = options.canAddPods ?? true;
  }

  // ── keys ──────────────────────────────────────────────────────────────

  setKeys(ring: KeyRing): void {
    const keys = new SigningKeys(ring);
    this.#keys = keys;
    const now = this.#clock.now();
    const changes: TicketCoreEvent[] = [];
    for (const state of this.#apps.values()) {
      for (const t of [...state.ledger.tickets.values()]) if (t.keyId !== undefined && !keys.has(t.keyId)) this.#release(state, t, "key_removed", now, changes);
      this.#settleQueue(state, now, changes);
    }
    this.#emit(changes);
  }

  // ── inventory ─────────────────────────────────────────────────────────

  setApps(specs: readonly AppSpec[]): void {
    const now = this.#clock.now();
    this.#appSpecs = undefined;
    const next = new Map<AppKey, AppSpec>();
    for (const s of specs) next.set(appKey(s.namespace, s.name), s);
    const changes: TicketCoreEvent[] = [];
    for (const [key, state] of this.#apps) {
      if (next.has(key)) continue;
      for (const t of [...state.ledger.tickets.values()]) this.#release(state, t, "app_removed", now, changes);
      this.#apps.delete(key);
    }
    for (const [key, spec] of next) {
      const state = this.#apps.get(key);
      if (state === undefined) {
        this.#apps.set(key, { ledger: new AppLedger(key, spec), queue: new WaitingQueue(), split: new CanarySplit(), issuedTotal: 0, turnedAwayAt: Number.NEGATIVE_INFINITY, usedPlaces: new Map(), releases: new ReleaseHistory() });
        continue;
      }
      for (const t of state.ledger.setSpec(spec, now)) this.#released(state, t, "spec_changed", changes);
      this.#settleQueue(state, now, changes);
    }
    changes.push({ kind: "apps" });
    this.#emit(changes);
  }

  setPods(app: AppKey, pods: readonly PodInput[]): void {
    const state = this.#apps.get(app);
    if (state === undefined) return;
    const now = this.#clock.now();
    const changes: TicketCoreEvent[] = [];
    const update = state.ledger.setPods(pods, now, this.#routableByDefault);
    for (const t of update.released) this.#released(state, t, "pod_gone", changes);
    if (update.changed) changes.push({ kind: "pods", app });
    this.#settleQueue(state, now, changes);
    this.#emit(changes);
  }

  setRoutable(app: AppKey, pod: string, routable: boolean): void {
    const state = this.#apps.get(app);
    if (state === undefined || !state.ledger.setRoutable(pod, routable)) return;
    const changes: TicketCoreEvent[] = [{ kind: "pods", app }];
    this.#settleQueue(state, this.#clock.now(), changes);
    this.#emit(changes);
  }

  // ── verify ────────────────────────────────────────────────────────────

  verify(app: AppKey, token: string | undefined): Verification {
    if (token === undefined || token === "") return ABSENT;
    const state = this.#apps.get(app);
    if (state === undefined) return UNKNOWN_APP_TICKET;
    const check = verifyTicketToken(this.#keys, token, app, this.#clock.now());
    if (!check.ok) return check.claims === undefined ? { ok: false, reason: check.reason } : { ok: false, reason: check.reason, claims: check.claims };
    const c = check.claims;
    const t = state.ledger.tickets.get(c.id);
    // Hot path: a signature check and a map lookup, no allocation.
    if (t !== undefined && t.pod === c.pod && t.slot === c.slot && t.issuedAt === c.issuedAt) return t.verified;
    return { ok: false, reason: state.ledger.pods.has(c.pod) ? "released" : "pod_gone", claims: c };
  }

  // ── allocate ──────────────────────────────────────────────────────────

  allocate(app: AppKey, request: AllocationRequest): Allocation {
    const state = this.#apps.get(app);
    if (state === undefined) return UNKNOWN_APP;
    const now = this.#clock.now();
    const changes: TicketCoreEvent[] = [];
    const rejected = request.rejected;
    const replaced: TicketRejection | undefined = rejected.reason === "absent" ? undefined : rejected.reason;
    const client = request.client === "" ? undefined : request.client;
    if (rejected.reason === "expired" && rejected.claims !== undefined) {
      // The ticket is over: free its slot now rather than at the next sweep (by the ledger's own clock, not the caller's word).
      const t = state.ledger.tickets.get(rejected.claims.id);
      if (t !== undefined && t.issuedAt === rejected.claims.issuedAt && now >= t.expiresAt) this.#release(state, t, "lifetime", now, changes);
    }
    const result = this.#issueOrQueue(state, { queueTokens: request.queueTokens ?? [], client, replaced }, now, changes);
    this.#emit(changes);
    return result;
  }

  sweep(): readonly TicketCoreEvent[] {
    const now = this.#clock.now();
    const changes: TicketCoreEvent[] = [];
    this.#closeSilentConnections(now);
    for (const state of this.#apps.values()) {
      const { idleTimeoutMs, probationMs } = state.ledger.spec.ticket;
      for (const t of [...state.ledger.tickets.values()]) {
        if (now >= t.expiresAt) this.#release(state, t, "lifetime", now, changes);
        else if (t.unclaimed(now, probationMs)) this.#release(state, t, "probation", now, changes);
        else if (t.idle(now, idleTimeoutMs)) this.#release(state, t, "idle", now, changes);
      }
      this.#settleQueue(state, now, changes);
    }
    this.#emit(changes);
    return changes;
  }

  /** A connection the access log stopped reporting lost its close entry: it counts as closed now. */
  #closeSilentConnections(now: number): void {
    for (const [id, c] of this.#connections) {
      if (now - c.lastSeenAt < c.state.ledger.spec.ticket.connectionTimeoutMs) continue;
      this.#connections.delete(id);
      if (c.ticket.removeConnection(id)) c.ticket.lastActiveAt = now;
    }
  }

  // ── activity ──────────────────────────────────────────────────────────

  touch(app: AppKey, ticketId: string): void {
    const state = this.#apps.get(app);
    const t = state?.ledger.tickets.get(ticketId);
    if (state !== undefined && t !== undefined) this.#activate(state, t, this.#clock.now());
  }

  /** Activity on a ticket; the first one ends its probation, which is an event (a ledger store must know it). */
  #activate(state: AppState, t: TicketRecord, now: number): void {
    if (state.ledger.activate(t, now)) this.#emit([{ kind: "confirmed", app: state.ledger.key, ticket: t.view() }]);
  }

  openConnection(app: AppKey, ticketId: string, connectionId: string): void {
    const now = this.#clock.now();
    const known = this.#connections.get(connectionId);
    if (known !== undefined) {
      // Reported again (the gateway logs open connections periodically): still open.
      known.lastSeenAt = now;
      this.#activate(known.state, known.ticket, now);
      return;
    }
    const state = this.#apps.get(app);
    const t = state?.ledger.tickets.get(ticketId);
    if (state === undefined || t === undefined) return;
    t.addConnection(connectionId);
    this.#connections.set(connectionId, { state, ticket: t, lastSeenAt: now });
    this.#activate(state, t, now);
  }

  closeConnection(connectionId: string): void {
    const entry = this.#connections.get(connectionId);
    if (entry === undefined) return;
    this.#connections.delete(connectionId);
    // Closing is the last activity: the idle timeout counts from here.
    if (entry.ticket.removeConnection(connectionId)) entry.ticket.lastActiveAt = this.#clock.now();
  }

  // ── views ─────────────────────────────────────────────────────────────

  /** The same array until setApps is called again. */
  apps(): readonly AppSpec[] {
    this.#appSpecs ??= Object.freeze([...this.#apps.values()].map((s) => s.ledger.spec));
    return this.#appSpecs;
  }

  pods(app: AppKey): readonly PodView[] {
    const state = this.#apps.get(app);
    if (state === undefined) return [];
    return state.ledger.podsByName().map((p) => p.view());
  }

  podAddresses(app: AppKey): readonly PodAddress[] {
    return this.#apps.get(app)?.ledger.addresses() ?? NO_ADDRESSES;
  }

  tickets(app: AppKey): readonly TicketView[] {
    const state = this.#apps.get(app);
    return state === undefined ? [] : [...state.ledger.tickets.values()].map((t) => t.view());
  }

  queue(app: AppKey): readonly QueueView[] {
    const entries = this.#apps.get(app)?.queue.entries() ?? [];
    return entries.map((e, i) => ({ id: e.id, position: i + 1, reserved: e.reservedUntil !== undefined }));
  }

  figures(app: AppKey): AppFigures | undefined {
    const state = this.#apps.get(app);
    if (state === undefined) return undefined;
    const { ledger, queue } = state;
    let servingPods = 0;
    for (const p of ledger.pods.values()) if (p.serving) servingPods++;
    const spec = ledger.spec;
    const used = ledger.tickets.size;
    return {
      app,
      pods: ledger.pods.size,
      servingPods,
      capacity: ledger.capacity(),
      used,
      onProbation: ledger.onProbation(),
      free: ledger.freeSlots(),
      queued: queue.length,
      // Waiting users are demand too: without them a full app would never grow.
      // The tickets policy's figure (src/tickets/scaling.ts), whatever policy scales the app.
      desiredPods: clampPods(ticketsDemandPods(used, queue.length, spec.spareTickets, spec.ticketsPerPod), spec.minPods, spec.maxPods),
      issuedTotal: state.issuedTotal,
    };
  }

  subscribe(listener: (event: TicketCoreEvent) => void): () => void {
    // Wrapped so that subscribing the same function twice gives two subscriptions.
    const own = (c: TicketCoreEvent): void => listener(c);
    this.#listeners.add(own);
    this.#listenerList = [...this.#listeners];
    return () => {
      this.#listeners.delete(own);
      this.#listenerList = [...this.#listeners];
    };
  }

  // ── ledger snapshot ───────────────────────────────────────────────────

  snapshot(): LedgerSnapshot {
    const tickets: TicketView[] = [];
    const queue: LedgerSnapshot["queue"][number][] = [];
    const issuedTotal: Record<AppKey, number> = {};
    for (const [app, state] of this.#apps) {
      for (const t of state.ledger.tickets.values()) tickets.push(t.view());
      for (const e of state.queue.entries()) queue.push({ app, ...queuedView(e) });
      issuedTotal[app] = state.issuedTotal;
    }
    return { version: 1, savedAt: this.#clock.now(), tickets, queue, issuedTotal };
  }

  /**
   * Makes the ledgers of `apps` (default: every app) the snapshot's: the
   * owner rebuilding from its store, a follower following the owner's.
   * Restored tickets keep their last activity and their probation (a crash
   * loop must not keep abandoned tickets alive), with no open connection:
   * the gateways report open connections again within a second. A ticket
   * signed by a key no longer in the ring is dropped: no token of its can
   * verify. A ticket already held here on the same slot since the same
   * moment is kept (with its activity and connections); one held here but
   * not in the snapshot, or on another slot, is released first (`superseded`):
   * the snapshot is the owner's word, so no slot ends up with two holders.
   * The waiting queue of each app becomes the snapshot's, in its order.
   */
  restore(snapshot: unknown, apps?: readonly AppKey[]): RestoreReport {
    const now = this.#clock.now();
    const dropped: { id: string; reason: string }[] = [];
    if (typeof snapshot !== "object" || snapshot === null || (snapshot as { version?: unknown }).version !== 1) {
      return { restoredTickets: 0, restoredQueue: 0, dropped: [{ id: "snapshot", reason: "unsupported snapshot version" }] };
    }
    const saved = snapshot as Readonly<Record<string, unknown>>;
    const scope = this.#scope(apps);
    const changes: TicketCoreEvent[] = [];
    const { touched, kept } = this.#supersede(scope, listOf(saved["tickets"]), now, changes);
    let restoredTickets = 0;
    for (const x of listOf(saved["tickets"])) {
      const reason = this.#restoreTicket(x, now, { touched, kept, scope });
      if (reason === undefined) restoredTickets++;
      else dropped.push({ id: entryId(x), reason });
    }
    for (const state of scope) this.#clearQueue(state, touched);
    let restoredQueue = 0;
    for (const x of listOf(saved["queue"])) {
      const reason = this.#restoreQueueEntry(x, now, touched, scope);
      if (reason === undefined) restoredQueue++;
      else dropped.push({ id: entryId(x), reason });
    }
    restoreTotals(scope, saved["issuedTotal"]);
    for (const state of touched) {
      // The restored line is the stored one: nothing new for the journal.
      state.queue.takeChanges();
      changes.push({ kind: "pods", app: state.ledger.key });
      this.#settleQueue(state, now, changes, true);
    }
    this.#emit(changes);
    return { restoredTickets, restoredQueue, dropped };
  }

  #scope(apps: readonly AppKey[] | undefined): Set<AppState> {
    if (apps === undefined) return new Set(this.#apps.values());
    const scope = new Set<AppState>();
    for (const app of apps) {
      const state = this.#apps.get(app);
      if (state !== undefined) scope.add(state);
    }
    return scope;
  }

  /** Releases the tickets of `scope` that the snapshot does not hold as they are held here. Returns the apps it touched and the tickets it kept. */
  #supersede(scope: ReadonlySet<AppState>, saved: readonly unknown[], now: number, changes: TicketCoreEvent[]): { touched: Set<AppState>; kept: Set<TicketRecord> } {
    const touched = new Set<AppState>();
    const kept = new Set<TicketRecord>();
    const wanted = new Map<string, TicketView>();
    for (const x of saved) {
      const v = readSavedTicket(x);
      if (v !== undefined) wanted.set(`${v.app}\n${v.id}`, v);
    }
    for (const state of scope) {
      for (const t of [...state.ledger.tickets.values()]) {
        const v = wanted.get(`${state.ledger.key}\n${t.id}`);
        if (v !== undefined && sameHold(t, v)) {
          kept.add(t);
          continue;
        }
        this.#release(state, t, "superseded", now, changes);
        touched.add(state);
      }
    }
    return { touched, kept };
  }

  #clearQueue(state: AppState, touched: Set<AppState>): void {
    for (const e of [...state.queue.entries()]) state.queue.remove(e);
    touched.add(state);
  }

  #restoreTicket(x: unknown, now: number, pass: { readonly touched: Set<AppState>; readonly kept: Set<TicketRecord>; readonly scope: ReadonlySet<AppState> }): string | undefined {
    const { touched, kept, scope } = pass;
    const v = readSavedTicket(x);
    if (v === undefined) return "malformed entry";
    const state = this.#apps.get(v.app);
    if (state === undefined) return "unknown app";
    if (!scope.has(state)) return "app not restored";
    const held = state.ledger.tickets.get(v.id);
    if (held !== undefined && kept.delete(held)) {
      // Held here already (a follower's mirror, promoted): keep it, with the later activity and the owner's confirmation.
      if (v.confirmed && !held.confirmed) state.ledger.activate(held, Math.max(held.lastActiveAt, v.lastActiveAt));
      else held.lastActiveAt = Math.max(held.lastActiveAt, v.lastActiveAt);
      return undefined;
    }
    if (now >= v.expiresAt) return "expired";
    if (v.keyId !== undefined && !this.#keys.has(v.keyId)) return `signing key "${v.keyId}" is no longer in the ring`;
    const r = state.ledger.restore(v);
    if (typeof r === "string") return r;
    touched.add(state);
    return undefined;
  }

  #restoreQueueEntry(x: unknown, now: number, touched: Set<AppState>, scope: ReadonlySet<AppState>): string | undefined {
    const e = readSavedQueueEntry(x);
    if (e === undefined) return "malformed entry";
    const state = this.#apps.get(e.app);
    if (state === undefined) return "unknown app";
    if (!scope.has(state)) return "app not restored";
    if (state.queue.get(e.id) !== undefined) return "duplicate queue entry";
    if (state.queue.length >= state.ledger.spec.queue.maxLength) return "queue full";
    // Counted as seen now: while no owner answered (a restart, a failover) its client could not come back.
    state.queue.push({ id: e.id, enqueuedAt: e.enqueuedAt, lastSeenAt: Math.max(e.lastSeenAt, now), client: e.client, reservedUntil: undefined });
    touched.add(state);
    return undefined;
  }

  // ── internals ─────────────────────────────────────────────────────────

  #issueOrQueue(state: AppState, asking: Asking, now: number, changes: TicketCoreEvent[]): Allocation {
    const { ledger, queue } = state;
    const spec = ledger.spec;
    const retryAfterMs = spec.queue.retryAfterMs;
    this.#settleQueue(state, now, changes);
    const place = this.#place(state, asking.queueTokens, now);
    if (place?.kind === "entry") return this.#waiting(state, place.entry, place.token, asking, now, changes);
    if (place?.kind === "returned") return this.#takePlace(state, place, asking, now, changes);
    // Newcomers never jump anyone waiting: neither those in line nor those just turned away, who are due back within a Retry-After.
    if (!queue.hasUnreserved() && ledger.freeSlots() > queue.reserved() && now - state.turnedAwayAt >= retryAfterMs + STALE_GRACE_MS) {
      const issued = this.#issue(state, now, asking, changes);
      if (issued !== undefined) return issued;
    }
    if (ledger.pods.size === 0 && (spec.maxPods === 0 || !this.#canAddPods)) return { kind: "refused", reason: "no_capacity", retryAfterMs };
    if (queue.length >= spec.queue.maxLength) return { kind: "refused", reason: "queue_full", retryAfterMs };
    // Turned away with a signed place and no entry: the entry is made when (if) the client comes back.
    state.turnedAwayAt = now;
    const token = signQueueToken(this.#keys, { app: ledger.key, id: this.#freshId((id) => queue.get(id) !== undefined || state.usedPlaces.has(id)), issuedAt: now });
    return this.#queued(state, queue.length + 1, queue.length + 1, token, now);
  }

  /** The queued answer, with the wait the recent releases suggest for `position`. */
  #queued(state: AppState, position: number, length: number, queueToken: string, now: number): Allocation {
    const retryAfterMs = state.ledger.spec.queue.retryAfterMs;
    const estimatedWaitMs = state.releases.estimateWaitMs(position, now);
    return estimatedWaitMs === undefined ? { kind: "queued", position, length, queueToken, retryAfterMs } : { kind: "queued", position, length, queueToken, retryAfterMs, estimatedWaitMs };
  }

  /** A client that was turned away came back in time: it takes its place in line (by when it first came). */
  #takePlace(state: AppState, place: ReturnedPlace, asking: Asking, now: number, changes: TicketCoreEvent[]): Allocation {
    const { queue, ledger } = state;
    const retryAfterMs = ledger.spec.queue.retryAfterMs;
    if (queue.length >= ledger.spec.queue.maxLength) return { kind: "refused", reason: "queue_full", retryAfterMs };
    const limit = ledger.spec.limits.queuePerClient;
    if (asking.client !== undefined && limit > 0 && queue.countFor(asking.client) >= limit) return { kind: "refused", reason: "client_limit", retryAfterMs };
    const entry: QueueEntry = { id: place.id, enqueuedAt: place.issuedAt, lastSeenAt: now, client: asking.client, reservedUntil: undefined };
    queue.push(entry);
    this.#settleQueue(state, now, changes, true);
    return this.#waiting(state, entry, place.token, asking, now, changes);
  }

  /** A waiting client came back: it takes the slot reserved for it if there is one. */
  #waiting(state: AppState, entry: QueueEntry, token: string, asking: Asking, now: number, changes: TicketCoreEvent[]): Allocation {
    const { queue } = state;
    entry.lastSeenAt = now;
    if (entry.reservedUntil !== undefined) {
      const issued = this.#issue(state, now, asking, changes);
      if (issued?.kind === "issued") {
        this.#forget(state, entry);
        this.#settleQueue(state, now, changes, true);
      }
      if (issued !== undefined) return issued;
    }
    return this.#queued(state, queue.position(entry), queue.length, token, now);
  }

  /**
   * What the client's queue tokens hold: its entry in line, or a place it
   * was given when turned away and may take now (signed by us, for this app,
   * not used before, and presented within two Retry-After periods of issue).
   */
  #place(state: AppState, tokens: readonly string[], now: number): { kind: "entry"; entry: QueueEntry; token: string } | ReturnedPlace | undefined {
    let returned: ReturnedPlace | undefined;
    for (const token of tokens) {
      if (token === "") continue;
      const check = verifyQueueToken(this.#keys, token, state.ledger.key);
      if (!check.ok) continue;
      const entry = state.queue.get(check.claims.id);
      if (entry !== undefined) return { kind: "entry", entry, token };
      const fresh = now - check.claims.issuedAt <= placeLifetimeMs(state) && check.claims.issuedAt <= now;
      if (returned === undefined && fresh && !state.usedPlaces.has(check.claims.id)) returned = { kind: "returned", id: check.claims.id, issuedAt: check.claims.issuedAt, token };
    }
    return returned;
  }

  /** Takes an entry out of line for good: its token can never make a place again. */
  #forget(state: AppState, entry: QueueEntry): void {
    state.queue.remove(entry);
    state.usedPlaces.set(entry.id, entry.enqueuedAt + placeLifetimeMs(state));
  }

  /**
   * Issues a ticket on the pod chosen for it, or undefined when no pod has a
   * free slot, or a refusal when the client holds all the tickets it may.
   * Atomic: a failure leaves no slot bound.
   */
  #issue(state: AppState, now: number, asking: Asking, changes: TicketCoreEvent[]): Allocation | undefined {
    const ledger = state.ledger;
    const limit = ledger.spec.limits.ticketsPerClient;
    if (asking.client !== undefined && limit > 0 && ledger.heldBy(asking.client) >= limit) return { kind: "refused", reason: "client_limit", retryAfterMs: ledger.spec.queue.retryAfterMs };
    const pod = this.#pickPod(state);
    if (pod === undefined) return undefined;
    const t = ledger.bind(pod, this.#freshId((id) => ledger.tickets.has(id)), this.#keys.active, now, asking.client);
    let token: string;
    try {
      token = signTicketToken(this.#keys, t);
    } catch (err) {
      ledger.release(t, now);
      throw err;
    }
    state.issuedTotal++;
    changes.push({ kind: "issued", app: ledger.key, ticket: t.view() });
    const replaced = asking.replaced;
    return replaced === undefined ? { kind: "issued", ticket: t, pod, token } : { kind: "issued", ticket: t, pod, token, replaced };
  }

  /** Canary split first (only when both groups have room), then packing within the group. */
  #pickPod(state: AppState): PodRecord | undefined {
    const { ledger, split } = state;
    const canary = ledger.spec.canary;
    if (canary === undefined) return ledger.choosePod();
    const c = ledger.choosePod(true);
    const s = ledger.choosePod(false);
    if (c !== undefined && s !== undefined) return split.next(canary.weight) ? c : s;
    return c ?? s;
  }

  #freshId(taken: (id: string) => boolean): string {
    for (let i = 0; i < 16; i++) {
      const id = this.#randomId();
      if (id !== "" && !taken(id)) return id;
    }
    throw new TicketplaneError(ERROR_CODES.INTERNAL, "random id source keeps repeating itself", {});
  }

  /** Drops lapsed and stale queue entries (their tokens are used up), then matches reservations to free slots. */
  #settleQueue(state: AppState, now: number, changes: TicketCoreEvent[], changed = false): void {
    const q = state.ledger.spec.queue;
    const dropped = state.queue.expire(now, placeLifetimeMs(state));
    for (const d of dropped) state.usedPlaces.set(d.entry.id, d.entry.enqueuedAt + placeLifetimeMs(state));
    if (state.usedPlaces.size > 0) for (const [id, until] of state.usedPlaces) if (now > until) state.usedPlaces.delete(id);
    const granted = state.queue.grant(state.ledger.freeSlots(), now, q.reservationMs);
    const line = state.queue.takeChanges();
    if (changed || dropped.length > 0 || granted || line.joined.length > 0 || line.left.length > 0) {
      const app = state.ledger.key;
      const joined = line.joined.map(queuedView);
      const i = changes.findIndex((c) => c.kind === "queue" && c.app === app);
      const earlier = changes[i];
      if (earlier?.kind === "queue") changes[i] = { kind: "queue", app, joined: [...earlier.joined, ...joined], left: [...earlier.left, ...line.left] };
      else changes.push({ kind: "queue", app, joined, left: line.left });
    }
  }

  #release(state: AppState, t: TicketRecord, reason: ReleaseReason, now: number, changes: TicketCoreEvent[]): void {
    state.ledger.release(t, now);
    if (FREES_A_SLOT.has(reason)) state.releases.record(now);
    this.#released(state, t, reason, changes);
  }

  /** Bookkeeping after the ledger let go of `t`. */
  #released(state: AppState, t: TicketRecord, reason: ReleaseReason, changes: TicketCoreEvent[]): void {
    for (const id of t.connectionIds()) this.#connections.delete(id);
    changes.push({ kind: "released", app: state.ledger.key, ticket: t.view(), reason });
  }

  /** Each change to every listener, in order. A listener added meanwhile hears the next change on; one removed is not called again. */
  #emit(changes: readonly TicketCoreEvent[]): void {
    // Index loops: array iterators here were not optimised away (each issue emits through this).
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i];
      const list = this.#listenerList;
      for (let k = 0; k < list.length; k++) {
        const l = list[k];
        if (this.#listeners.has(l)) l(c);
      }
    }
  }
}

function queuedView(e: QueueEntry): QueuedView {
  return { id: e.id, enqueuedAt: e.enqueuedAt, lastSeenAt: e.lastSeenAt, ...(e.client === undefined ? {} : { client: e.client }) };
}

/** The same ticket on the same slot since the same moment: what verify compares a token's claims with. */
function sameHold(t: TicketRecord, v: TicketView): boolean {
  return t.pod === v.pod && t.slot === v.slot && t.issuedAt === v.issuedAt;
}

/** Issue counts only grow: a snapshot's count is taken where it is higher. */
function restoreTotals(scope: ReadonlySet<AppState>, totals: unknown): void {
  for (const state of scope) {
    const total = typeof totals === "object" && totals !== null ? (totals as Record<string, unknown>)[state.ledger.key] : undefined;
    if (typeof total === "number" && Number.isSafeInteger(total) && total > state.issuedTotal) state.issuedTotal = total;
  }
}
