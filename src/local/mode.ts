/**
 * Local mode (`ticketplane dev`): no cluster, no Envoy. The apps are the
 * local file's, each app's pods are child processes the process driver
 * starts and stops (LocalInventory), the reconciler scales them through the
 * driver's ports (the same Reconciler as in Kubernetes mode), the ledger is
 * a state file and the key a generated one beside it (as in standalone
 * mode), and this single replica always leads.
 */
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { appKey } from "../config/app-spec.js";
import { parseKeyFile } from "../config/key-file.js";
import type { LocalModeConfig } from "../config/local-file.js";
import type { ReconcilePorts } from "../reconcile/ports.js";
import { soleReplica, type BoundAddresses, type Mode, type RuntimeStatus } from "../runtime/ports.js";
import { FileKeyProvider } from "../standalone/key-files.js";
import { generatedKeyFile } from "../standalone/mode.js";
import { StateFileStore } from "../standalone/state-file-store.js";
import { LocalInventory } from "./local-inventory.js";
import { ProcessDriver } from "./process-driver.js";
import type { PodTiming } from "./process-deployment.js";

export interface LocalModeOptions {
  readonly local: LocalModeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Probe, restart and stop timings of the pods (tests shorten them). */
  readonly timing?: Partial<PodTiming>;
}

export interface LocalMode {
  readonly mode: Mode;
  /** The reconciler's ports over the local pods (TicketplaneDeps.reconcilePorts). */
  readonly reconcilePorts: ReconcilePorts;
  readonly driver: ProcessDriver;
}

export function createLocalMode(options: LocalModeOptions): LocalMode {
  const { local, clock } = options;
  const { config } = local;
  const logger = options.logger.child({ component: "local" });
  const driver = new ProcessDriver({ apps: config.apps, run: local.run, clock, logger, ...(options.timing === undefined ? {} : { timing: options.timing }) });
  const inventory = new LocalInventory(config, driver, logger);
  const mode: Mode = {
    name: "local",
    listen: config.listen,
    inventory,
    gateway: inventory,
    ledgerStore: new StateFileStore({ file: config.state.file, clock, logger }),
    keys: new FileKeyProvider({ generatedKeyFile: generatedKeyFile(config.state.file), parseKeyFile, logger, ...(config.keys === undefined ? {} : { keysFile: config.keys.file }) }),
    leadership: soleReplica(),
    canAddPods: true,
    trustedHops: config.clientAddress.trustedHops,
    configView: (status: RuntimeStatus) => ({
      mode: "local",
      source: config.filePath,
      listen: config.listen,
      gateway: config.gateway,
      keys: status.keys,
      ledger: status.ledger,
      apps: config.apps.map((spec) => ({ ...spec, run: local.run[appKey(spec.namespace, spec.name)] })),
      local: driver.views(),
    }),
    nextSteps: (addresses: BoundAddresses) => nextSteps(local, addresses),
  };
  return { mode, reconcilePorts: driver.ports(), driver };
}

function nextSteps(local: LocalModeConfig, addresses: BoundAddresses): string[] {
  const { gateway } = local.config;
  const host = gateway.listenerAddress === "0.0.0.0" ? "127.0.0.1" : gateway.listenerAddress;
  const lines = ["", "ticketplane dev is running. Next:"];
  for (const spec of local.config.apps) lines.push(`  open the app:       http://${host}:${gateway.listenerPort}${spec.pathPrefix}`);
  lines.push(`  look inside:        http://${addresses.admin}/api/apps   (pods, tickets, queue)`, `  local pods:         http://${addresses.admin}/api/config   (under "local")`, "  stop:               Ctrl-C (stops every pod)", "");
  return lines;
}
