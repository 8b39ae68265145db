/**
 * The composition root. Builds the mode-neutral runtime once — the ticket
 * core, Check and access logs, xDS, admin — and plugs in one mode's
 * adapters through the ports of src/runtime/ports.ts: where apps and pods
 * come from, where the ledger is stored, where keys come from, and who
 * leads. Logger, clock and metrics registry come in from the CLI.
 *
 * Start order (RunnableManager), and why:
 *   0. the mode's first parts — Kubernetes: the Lease, which campaigns before
 *                   any leader-only part waits to be elected and stops last,
 *                   after the ledger's final save (that save needs the lead);
 *   1. event-log  — subscribed first, so every release is logged;
 *   2. inventory  — apps and pods in the ticket core (then follows edits),
 *                   then the mode's every-replica parts (the key Secret's watcher);
 *   3. ledger     — leader-only: claims the store (fails fast if another
 *                   process holds it), restores the saved ledger, then saves
 *                   after each change — before any server can hand out a ticket;
 *   4. xds        — gateways can connect and ACK pods (pods become routable);
 *   5. authz      — Check and access logs; once bound, xds publishes the
 *                   gateway config that points at them;
 *      peer       — only where the mode runs several replicas: the internal
 *                   peer API (forwarded admissions, activity and ACK reports,
 *                   resolver wakes from other replicas), and this replica's
 *                   batches and wakes to the owner; after authz so it stops
 *                   first (a last activity flush), before the resolver, so it
 *                   stops after it;
 *   6. keda       — only where `listen.keda` is set: KEDA's external scaler,
 *                   reading the ticket core's views (any replica can answer);
 *   7. admin      — health, readiness and the JSON API;
 *   8. sweeper    — leader-only: releases idle and expired tickets;
 *   9. the mode's leader-only parts (the Event recorder: it stops after the
 *                   reconciler, so what the reconciler recorded is written);
 *  10. reconciler — leader-only, only where the mode can add pods and gives
 *                   the reconciler's ports: scales, sets deletion costs and
 *                   drain marks, writes status and Events;
 *  11. the mode's last parts — local mode: the dev gateway, which connects to
 *                   the xDS, Check and access-log servers above, and stops
 *                   first, so no request meets a server already gone.
 * Stopping runs it backwards: no more scaling, no more sweeps, admin gone, in-flight Checks
 * finished, ADS streams closed, and only then the last ledger save, so the
 * store holds every ticket that was ever handed out.
 */
import type { Registry } from "prom-client";
import { AdminServer } from "./admin/index.js";
import type { Readiness } from "./admin/index.js";
import { AuthzServer, createAuthzMetrics } from "./authz/index.js";
import type { Clock } from "./common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "./common/errors.js";
import type { Logger } from "./common/logger.js";
import { appKey, formatHostPort, parseHostPort } from "./config/index.js";
import type { AppKey, HostPort } from "./config/index.js";
import { EventLog, LedgerKeeper, RunnableManager, SigningKeyKeeper, Sweeper, XdsServer, appsView, ownerOnlyAllocation, statusView } from "./runtime/index.js";
import type { BoundAddresses, Mode, RuntimeHooks } from "./runtime/index.js";
import type { Runnable } from "./common/runnable.js";
import { PodDrainRequests, Reconciler, ticketMetrics } from "./reconcile/index.js";
import type { ReconcilePorts } from "./reconcile/index.js";
import { createTicketResolverPorts, ResolverServer } from "./resolver/index.js";
import type { TicketResolverPortsOptions } from "./resolver/index.js";
import { ScalerServer, WakeRequests } from "./scaler/index.js";
import { ReplicaLink } from "./replicas/index.js";
import type { ResolverSignals } from "./replicas/index.js";
import { RequestRate, TicketCore, specOf } from "./tickets/index.js";
import type { CheckPorts, TicketViews } from "./tickets/index.js";

export interface TicketplaneDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  /** Ledger save debounce (default 500 ms). */
  readonly ledgerDebounceMs?: number;
  /** Called when this replica stops leading after start: the process must exit non-zero. */
  readonly onLeadershipLost?: () => void;
  /**
   * The reconciler's ports (Kubernetes mode: createKubeReconcilePorts). With
   * them, and a mode that can add pods, the reconciler runs (leader-only) and
   * the admin server's `POST /drain` marks pods through their Draining.
   */
  readonly reconcilePorts?: ReconcilePorts;
  /** Every app is reconciled at least this often (default 30 s). */
  readonly reconcileResyncMs?: number;
  /** Window of the Check request rate the formula and hpa policies read (default 60 s). */
  readonly requestRateWindowMs?: number;
}

/** Called once per server as it starts listening: ("authz", "127.0.0.1:9001"). */
export type OnListening = (server: "authz" | "accesslog" | "xds" | "peer" | "keda" | "resolver" | "admin", address: string) => void;

export interface Ticketplane {
  /** Starts every part in order. On failure it stops what started, then rejects. */
  start(onListening: OnListening): Promise<void>;
  /** Stops the parts that started, in reverse order. Every call returns the same promise. */
  stop(): Promise<void>;
  /** SIGHUP: re-reads the keys and the mode's inventory at once. Never rejects. */
  reload(): Promise<void>;
  /** Lines telling a person what to do next (stderr). */
  nextSteps(): readonly string[];
}

/**
 * Builds ticketplane for one mode. Reads the signing keys (the ticket core
 * cannot exist without them): rejects with TP_INVALID_CONFIG, naming every
 * problem and no secret, when they are unusable.
 */
export async function createTicketplane(mode: Mode, deps: TicketplaneDeps): Promise<Ticketplane> {
  const { logger, clock, registry } = deps;
  const part = (component: string): Logger => logger.child({ component });

  const keys = new SigningKeyKeeper(mode.keys, part("keys"));
  const tickets = new TicketCore({ clock, keys: await keys.load(), canAddPods: mode.canAddPods });
  keys.attach(tickets);
  mode.inventory.feed(tickets);

  const ledger = new LedgerKeeper({ store: mode.ledgerStore, tickets, clock, logger: part("ledger"), ...(deps.ledgerDebounceMs === undefined ? {} : { debounceMs: deps.ledgerDebounceMs }) });
  const { ports, requests, reconciler } = scalingParts(mode, deps, tickets, part("reconciler"));
  const xds = new XdsServer({ listen: mode.listen.xds, tickets, gateway: mode.gateway, logger: part("xds"), registry, clock, ...(mode.routeModes === undefined ? {} : { routeModes: mode.routeModes }) });
  // A follower's mirror applies the owner's ledger until this replica leads; from then on the ledger keeper rebuilds and owns it.
  const mirror = mode.ledgerMirror;
  mirror?.feed(tickets, () => !mode.leadership.isLeader());
  // Check decides only once apps and pods are in, the ledger is known (restored here, or mirrored from the owner) and the routes are out.
  const notReady = (): string | undefined => {
    if (!ledger.restored() && !(mirror?.synced() ?? false)) return mode.leadership.isLeader() || mirror === undefined ? "the ledger is not restored yet" : "the ledger mirror has not read the owner's ledger yet";
    if (!xds.published()) return "the gateway configuration is not published yet";
    return undefined;
  };
  // Only the owner allocates, and only while its ledger keeper records every change (rebuilt from the store, not stopping):
  // anything else fails closed (waiting room, Retry-After).
  const owns = (): boolean => mode.leadership.isLeader() && ledger.recording();
  const gated = ownerOnlyAllocation(tickets, owns);
  const wakes = new WakeRequests(clock);
  const inProcess = inProcessSignals(reconciler, wakes, tickets);
  // Several replicas: Check allocates through the app's owner and sends activity there, the resolver's wake and serving
  // reach the owner's reconciler, and the peer API answers other replicas.
  const link =
    mode.replicas === undefined
      ? undefined
      : new ReplicaLink({ settings: mode.replicas, tickets: gated, keys: () => keys.ring(), notReady, xds, resolver: inProcess, clock, logger: part("peer"), registry });
  const checkTickets: CheckPorts & Pick<TicketViews, "apps" | "subscribe" | "figures"> =
    link === undefined ? gated : { ...link.checkPorts, apps: () => tickets.apps(), subscribe: (listener) => tickets.subscribe(listener), figures: (app) => tickets.figures(app) };
  // Where the entry point sends an app at zero (the resolver), Check lets its requests through untouched: every replica reads the same routes.
  const entryModes = mode.entryModes ?? mode.routeModes;
  const authz = new AuthzServer({
    tickets: checkTickets,
    logger: part("authz"),
    metrics: createAuthzMetrics(registry, tickets),
    listen: { authz: formatHostPort(mode.listen.authz), accessLog: formatHostPort(mode.listen.accessLog) },
    trustedHops: mode.trustedHops,
    ...(mode.unmatched === undefined ? {} : { unmatched: mode.unmatched }),
    ...(entryModes === undefined ? {} : { routeMode: (app: AppKey) => entryModes.mode(app) }),
    notReady,
    ...(requests === undefined ? {} : { onAppRequest: (app: AppKey) => requests.record(app, clock.now()) }),
    clock,
    registry,
  });
  const listening = new Set<string>();
  const readiness = (): Readiness => readinessOf({ listening, notReady, leads: () => mode.leadership.isLeader(), ledger, others: [mirror?.readinessReasons() ?? [], mode.inventory.readinessReasons()] });
  const admin = new AdminServer(mode.listen.admin, {
    registry,
    readiness,
    logger: part("admin"),
    config: () => mode.configView({ keys: keys.status(), ledger: ledger.status() }),
    apps: () => appsView(tickets),
    xds: () => xds.status(),
    dashboard: {
      clock,
      status: () => statusView({ views: tickets, xds: () => xds.status(), ...(reconciler === undefined ? {} : { scale: reconciler }), now: () => clock.now() }),
      changes: (listener) => tickets.subscribe(() => listener()),
    },
    ...(ports === undefined ? {} : { drain: new PodDrainRequests(tickets, ports.draining, clock) }),
  });
  // The resolver holds requests for apps at zero and wakes them through the app's owner (this process, or over the peer
  // API); a released request gets its ticket as Check would give it here (through the owner where another replica owns the app).
  const resolverSide = link === undefined ? { signals: inProcess, tickets: gated } : { signals: link.resolverSignals, tickets: link.checkPorts };
  const resolver = resolverServer(mode.listen.resolver, { views: tickets, tickets: resolverSide.tickets, activity: checkTickets, signals: resolverSide.signals }, { clock, logger: part("resolver"), registry });
  const keda = mode.listen.keda === undefined ? undefined : new ScalerServer({ tickets, listen: mode.listen.keda, logger: part("keda"), clock, registry, waking: wakes });
  const manager = new RunnableManager({ logger: part("manager"), leadership: mode.leadership, ...(deps.onLeadershipLost === undefined ? {} : { onLeadershipLost: deps.onLeadershipLost }) });
  const addresses = (): BoundAddresses => ({ authz: authz.addresses.authz, accessLog: authz.addresses.accessLog, xds: xds.address(), admin: admin.address() ?? "?" });

  return {
    async start(onListening) {
      const started = (name: string, announce: () => void) => (): void => {
        listening.add(name);
        announce();
      };
      const parts = modeParts(mode, { reloadKeys: () => keys.reload(), addresses });
      for (const first of parts.first) manager.add(first);
      manager.add(new EventLog(tickets, part("tickets"))).add(mode.inventory);
      if (mirror !== undefined) manager.add(mirror);
      for (const every of parts.everyReplica) manager.add(every);
      manager
        .add(ledger, { leaderOnly: true })
        .add(xds, { onStarted: started("xds", () => onListening("xds", xds.address())) })
        .add(authz, {
          onStarted: started("authz", () => {
            xds.setUpstreams({ authz: bound(authz.addresses.authz), accessLog: bound(authz.addresses.accessLog) });
            onListening("authz", authz.addresses.authz);
            onListening("accesslog", authz.addresses.accessLog);
          }),
        });
      if (link !== undefined) manager.add(link, { onStarted: () => onListening("peer", link.address()) });
      if (keda !== undefined) manager.add(keda, { onStarted: () => onListening("keda", keda.address()) });
      if (resolver !== undefined) {
        manager.add(resolver, {
          onStarted: () => {
            xds.setResolver(resolver.address());
            onListening("resolver", formatHostPort(resolver.address()));
          },
        });
      }
      manager
        .add(admin, { onStarted: started("admin", () => onListening("admin", admin.address() ?? "?")) })
        .add(new Sweeper(tickets, clock, part("sweeper")), { leaderOnly: true });
      for (const leaderPart of parts.leaderOnly) manager.add(leaderPart, { leaderOnly: true });
      if (reconciler !== undefined) manager.add(reconciler, { leaderOnly: true });
      for (const lastPart of parts.last) manager.add(lastPart);
      await manager.start();
    },
    stop() {
      listening.clear();
      return manager.stop();
    },
    async reload() {
      await keys.reload();
      try {
        await mode.inventory.reload();
      } catch (err) {
        logger.error("reload of the inventory failed; what is in force stays", { error: errorMessage(err) });
      }
    },
    nextSteps: () => mode.nextSteps(addresses()),
  };
}

/**
 * What scales this mode's apps: the reconciler (only where the mode can add
 * pods and gives its ports) and the Check request rate its formula and hpa
 * policies read (without them, Check counts nothing).
 */
function scalingParts(mode: Mode, deps: TicketplaneDeps, tickets: TicketCore, logger: Logger): { ports?: ReconcilePorts; requests?: RequestRate; reconciler?: Reconciler } {
  const ports = mode.canAddPods ? deps.reconcilePorts : undefined;
  if (ports === undefined) return {};
  const { clock, registry } = deps;
  const requests = new RequestRate(deps.requestRateWindowMs);
  tickets.subscribe((event) => {
    if (event.kind === "apps") requests.retainOnly(new Set(tickets.apps().map((a) => appKey(a.namespace, a.name))));
  });
  const resync = deps.reconcileResyncMs === undefined ? {} : { resyncMs: deps.reconcileResyncMs };
  const reconciler = new Reconciler({ clock, logger, registry, leadership: mode.leadership, views: tickets, ports, metrics: ticketMetrics(tickets, clock, requests), ...resync });
  return { ports, requests, reconciler };
}

/** Why this replica is not ready (the admin server's /readyz): servers not listening, Check unable to decide, a leader without its ledger, the mode's own reasons. */
function readinessOf(o: { listening: ReadonlySet<string>; notReady: () => string | undefined; leads: () => boolean; ledger: Pick<LedgerKeeper, "restored">; others: readonly (readonly string[])[] }): Readiness {
  const reasons: string[] = [];
  for (const server of ["xds", "authz", "admin"]) if (!o.listening.has(server)) reasons.push(`${server} server is not listening`);
  const checking = o.notReady();
  if (checking !== undefined) reasons.push(`Check cannot decide yet: ${checking}`);
  else if (o.leads() && !o.ledger.restored()) reasons.push("this replica leads but has not rebuilt the ledger from the store yet: it issues nothing until it has");
  for (const more of o.others) reasons.push(...more);
  return { ready: reasons.length === 0, reasons };
}

/** The resolver, where `listen.resolver` is set: its ports over the ticket side it is given and the owner's signals. */
function resolverServer(
  listen: HostPort | undefined,
  side: Omit<TicketResolverPortsOptions, "wake" | "serving"> & { readonly signals: ResolverSignals },
  deps: { readonly clock: Clock; readonly logger: Logger; readonly registry: Registry },
): ResolverServer | undefined {
  if (listen === undefined) return undefined;
  const { signals, ...ports } = side;
  return new ResolverServer({ ports: createTicketResolverPorts({ ...ports, wake: (app) => signals.wake(app), serving: (app) => signals.serving(app) }), listen, ...deps });
}

/**
 * The resolver's signals as this process applies them: the reconciler (it
 * acts while this replica leads) and, for apps whose replicas a KEDA
 * ScaledObject owns, the external scaler's activity (a wake lasts the app's
 * hold timeout).
 */
function inProcessSignals(reconciler: Reconciler | undefined, wakes: WakeRequests, views: Pick<TicketViews, "apps">): ResolverSignals {
  const holdTimeout = (app: AppKey): number => specOf(views, app)?.resolverHoldTimeoutMs ?? 0;
  return {
    wake: (app) => {
      reconciler?.wake(app);
      wakes.wake(app, holdTimeout(app));
    },
    serving: (app) => {
      reconciler?.serving(app);
      wakes.clear(app);
    },
  };
}

/** The mode's parts beyond its inventory, each list empty where the mode has none. */
function modeParts(mode: Mode, hooks: RuntimeHooks): { first: readonly Runnable[]; everyReplica: readonly Runnable[]; leaderOnly: readonly Runnable[]; last: readonly Runnable[] } {
  const p = mode.parts;
  return { first: p?.first ?? [], everyReplica: p?.everyReplica?.(hooks) ?? [], leaderOnly: p?.leaderOnly ?? [], last: p?.last?.(hooks) ?? [] };
}

/** A bound `host:port` as a HostPort (the servers report what they bound; it always parses). */
function bound(address: string): HostPort {
  const parsed = parseHostPort(address, true);
  if (!parsed.ok) throw new TicketplaneError(ERROR_CODES.INTERNAL, `bound address ${address} does not parse`, { address });
  return parsed.value;
}
