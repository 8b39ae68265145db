/**
 * Kubernetes mode's acting side against the test API server, for tests:
 * a real KubeInventory feeding a real TicketCore, an EventRecorder, and
 * createKubeReconcilePorts over client-node, all on one fake clock (HTTP,
 * watches and the simulated ReplicaSet controller are real).
 */
import { EventsV1Api, Watch } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import type { HostPort } from "../config/address.js";
import type { AppSpec } from "../config/app-spec.js";
import { TicketCore } from "../tickets/ticket-core.js";
import { keyRing, sequentialIds } from "../tickets/tickets.fixture.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import type { KubeApiServer } from "../../test/support/kube-api/server.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { EventRecorder } from "./events.js";
import { KubeInventory } from "./inventory.js";
import { apiClients } from "./kube-api.fixture.js";
import { createKubeReconcilePorts, type KubeReconcilePorts } from "./reconcile-ports.js";
import { kubeApis } from "./resources.js";

export interface KubeActors {
  readonly clock: FakeClock;
  readonly logger: RecordingLogger;
  readonly registry: Registry;
  readonly core: TicketCore;
  readonly inventory: KubeInventory;
  readonly recorder: EventRecorder;
  readonly ports: KubeReconcilePorts;
  stop(): Promise<void>;
}

/** Starts the inventory and the ports (in that order, as the mode does) against `server`. */
export async function startKubeActors(server: KubeApiServer, options: { readonly callTimeoutMs?: number; readonly apps?: readonly AppSpec[]; readonly resolver?: HostPort } = {}): Promise<KubeActors> {
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const registry = new Registry();
  const { kubeConfig } = apiClients(server);
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  const watch = new Watch(kubeConfig);
  const inventory = new KubeInventory({ apis: kubeApis(kubeConfig), watch, namespaces: [], clock, logger });
  inventory.feed(core);
  const recorder = new EventRecorder({ events: kubeConfig.makeApiClient(EventsV1Api), reportingController: "ticketplane.dev/reconciler", reportingInstance: "tp-0", clock, logger, registry });
  const ports = createKubeReconcilePorts({ kubeConfig, inventory, events: recorder, clock, logger, registry, watch, ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }), ...(options.resolver === undefined ? {} : { resolver: options.resolver }) });
  const signal = new AbortController().signal;
  await inventory.start(signal);
  await ports.start(signal);
  return {
    clock, logger, registry, core, inventory, recorder, ports,
    async stop() {
      await ports.stop();
      await recorder.stop();
      await inventory.stop();
    },
  };
}
