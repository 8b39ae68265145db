/**
 * ReplicaLink: everything one replica needs to work with the others, as one
 * part. It serves the internal peer API on its own port (`listen.peer`,
 * grpc-js behind our listener: connections that are not HTTP/2 are counted
 * and closed), and gives Check its ticket side: verify locally (no peer call
 * on a valid ticket's path), allocate through the owner (ForwardingAllocator),
 * activity to the owner in batches (ActivityForwarder); it gives the
 * resolver its wake and serving signals, which reach the owner's reconciler
 * wherever the resolver runs (WakeForwarder); and it reports this
 * replica's gateways' ACK state to the owner (AckReporter).
 *
 * Start: bind the port (then the mode advertises it), start the batches.
 * Stop: no more reports or wakes, a last activity flush, the peer channels closed,
 * then the port (open calls get `shutdownGraceMs`).
 */
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import { listenGrpc, type GrpcListener } from "../common/grpc-listener.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import { formatHostPort } from "../config/address.js";
import { appKey, type AppKey, type AppSpec } from "../config/app-spec.js";
import type { KeyRing } from "../config/key-ring.js";
import type { ReplicaSettings } from "../runtime/ports.js";
import type { CheckPorts, ImmediateCheckPorts, TicketAllocator, TicketViews } from "../tickets/ports.js";
import { specOf } from "../tickets/spec-of.js";
import type { AckSink, AckSource } from "./ack-state.js";
import { AckReporter } from "./ack-reporter.js";
import { ActivityForwarder } from "./activity-forwarder.js";
import { ForwardingAllocator } from "./forwarding-allocator.js";
import { createReplicaMetrics, type ReplicaMetrics, type WakeCall } from "./metrics.js";
import { PeerClients } from "./peer-clients.js";
import { peerBearer } from "./peer-credential.js";
import { createPeerService, SafePeerService } from "./peer-service.js";
import { WakeForwarder, type ResolverSignals } from "./wake-forwarder.js";

export interface ReplicaLinkOptions {
  readonly settings: ReplicaSettings;
  /** This replica's ticket core. */
  readonly tickets: ImmediateCheckPorts & TicketAllocator & Pick<TicketViews, "apps">;
  /** The key ring in force. */
  readonly keys: () => KeyRing;
  /** Why this replica cannot decide yet (the owner refuses forwarded admissions until it can). */
  readonly notReady: () => string | undefined;
  /** The xDS server: this replica's gateways' ACK state, and other replicas' reports. */
  readonly xds: AckSink & AckSource;
  /** This replica's in-process resolver signals (the reconciler, KEDA's wake requests): its own resolver's, and other replicas' for the apps it owns. */
  readonly resolver: ResolverSignals;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly forwardDeadlineMs?: number;
  readonly activityFlushMs?: number;
  readonly ackReportMs?: number;
  readonly wakeResendMs?: number;
  readonly wakeDeadlineMs?: number;
  readonly shutdownGraceMs?: number;
}

export class ReplicaLink implements Runnable {
  readonly name = "peer";
  readonly stop: () => Promise<void>;
  /** Check's ticket side on this replica. */
  readonly checkPorts: CheckPorts;
  /** The resolver's wake and serving on this replica: in-process, and to the app's owner where that is another replica. */
  readonly resolverSignals: ResolverSignals;
  readonly metrics: ReplicaMetrics;
  readonly #o: ReplicaLinkOptions;
  readonly #clients: PeerClients;
  readonly #activity: ActivityForwarder;
  readonly #acks: AckReporter;
  readonly #wakes: WakeForwarder;
  #listener: GrpcListener | undefined;
  #address = "";

  constructor(options: ReplicaLinkOptions) {
    this.#o = options;
    const { settings, tickets, clock, logger } = options;
    const ownership = settings.ownership;
    this.metrics = createReplicaMetrics(options.registry);
    const metrics = this.metrics;
    this.#clients = new PeerClients({ bearer: () => peerBearer(options.keys()) });
    const allocator = new ForwardingAllocator({ local: tickets, ownership, peers: this.#clients, metrics, logger, ...(options.forwardDeadlineMs === undefined ? {} : { deadlineMs: options.forwardDeadlineMs }) });
    this.#activity = new ActivityForwarder({
      local: tickets,
      ownership,
      send: (address, batch) => this.#clients.activity(address, batch),
      identity: settings.identity,
      clock,
      logger,
      metrics,
      ...(options.activityFlushMs === undefined ? {} : { flushEveryMs: options.activityFlushMs }),
    });
    this.#acks = new AckReporter({
      source: options.xds,
      // Checked every 250 ms: the owners' channels are kept connected, so a forwarded admission never waits for a connection.
      owners: () => {
        const owners = this.peerOwners();
        for (const address of owners) this.#clients.warm(address);
        return owners;
      },
      send: (address, report) => this.#clients.reportAcks(address, report),
      identity: settings.identity,
      clock,
      logger,
      metrics,
      ...(options.ackReportMs === undefined ? {} : { everyMs: options.ackReportMs }),
    });
    this.#wakes = new WakeForwarder({
      local: options.resolver,
      ownership,
      send: (address, call, signal, deadlineMs) => this.#clients.signal(address, call, signal, deadlineMs),
      identity: settings.identity,
      wakeForMs: (app) => this.#spec(app)?.resolverHoldTimeoutMs ?? 0,
      clock,
      logger,
      metrics,
      ...(options.wakeResendMs === undefined ? {} : { resendEveryMs: options.wakeResendMs }),
      ...(options.wakeDeadlineMs === undefined ? {} : { deadlineMs: options.wakeDeadlineMs }),
    });
    this.resolverSignals = this.#wakes;
    const activity = this.#activity;
    this.checkPorts = {
      verify: (app, token) => tickets.verify(app, token),
      allocate: (app, request) => allocator.allocate(app, request),
      sweep: () => allocator.sweep(),
      touch: (app, ticketId) => activity.touch(app, ticketId),
      openConnection: (app, ticketId, connectionId) => activity.openConnection(app, ticketId, connectionId),
      closeConnection: (connectionId) => activity.closeConnection(connectionId),
    };
    this.stop = once(() => this.#stop());
  }

  /** The bound peer address (after start). */
  address(): string {
    return this.#address;
  }

  /** Distinct peer addresses of the replicas that own this replica's apps now. */
  peerOwners(): string[] {
    const owners = new Set<string>();
    for (const spec of this.#o.tickets.apps()) {
      const owner = this.#o.settings.ownership.ownerOf(appKey(spec.namespace, spec.name));
      if (owner.kind === "peer") owners.add(owner.address);
    }
    return [...owners];
  }

  /** Sends waiting activity, the ACK state and due wakes now (tests step the fake clock with it). */
  async flush(): Promise<void> {
    await Promise.all([this.#activity.flush(), this.#acks.report(), this.#wakes.resend()]);
  }

  /** Apps whose wake or serving waits to reach their owner (tests). */
  pendingSignals(): ReadonlyMap<AppKey, WakeCall> {
    return this.#wakes.pending();
  }

  #spec(app: AppKey): AppSpec | undefined {
    return specOf(this.#o.tickets, app);
  }

  async start(): Promise<void> {
    const { settings, logger, clock, registry } = this.#o;
    const server = new grpc.Server();
    server.addService(
      SafePeerService,
      createPeerService({ tickets: this.#o.tickets, ownership: settings.ownership, keys: this.#o.keys, notReady: this.#o.notReady, acks: this.#o.xds, resolver: this.#o.resolver, knows: (app) => this.#spec(app) !== undefined, metrics: this.metrics, logger }),
    );
    const hostPort = formatHostPort(settings.listen);
    try {
      this.#listener = await listenGrpc({ server, host: settings.listen.host, port: settings.listen.port, name: "peer", logger, clock, registry });
    } catch (err) {
      throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind the peer API on ${hostPort}: ${errorMessage(err)}`, { address: hostPort }, { cause: err });
    }
    this.#address = formatHostPort({ host: settings.listen.host, port: this.#listener.port });
    settings.onPeerBound?.(this.#listener.port);
    await this.#activity.start();
    await this.#acks.start();
    await this.#wakes.start();
    logger.info("peer API listening", { address: this.#address, identity: settings.identity });
  }

  async #stop(): Promise<void> {
    await this.#acks.stop();
    await this.#wakes.stop();
    await this.#activity.stop();
    this.#clients.close();
    await this.#listener?.shutdown(this.#o.shutdownGraceMs ?? 1_000);
    this.#listener = undefined;
  }
}
