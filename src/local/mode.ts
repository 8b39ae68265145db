/**
 * Local mode (`ticketplane dev`): no cluster, no Envoy. The apps are the
 * local file's, each app's pods are child processes the process driver
 * starts and stops (LocalInventory), the reconciler scales them through the
 * driver's ports (the same Reconciler as in Kubernetes mode), the ledger is
 * a state file and the key a generated one beside it (as in standalone
 * mode), and this single replica always leads. An app at zero comes back
 * through the resolver: the reconciler flips LocalRouteSwitch to Proxy and
 * the dev gateway's route for the app goes to the resolver. The dev gateway plays
 * Envoy's part in front of it: its last part, started once the servers it
 * connects to listen.
 */
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { appKey } from "../config/app-spec.js";
import type { LocalModeConfig } from "../config/local-file.js";
import type { ReconcilePorts } from "../reconcile/ports.js";
import type { BoundAddresses, Mode, RuntimeStatus } from "../runtime/ports.js";
import { singleReplicaFiles } from "../standalone/mode.js";
import { DevGatewayPart } from "./dev-gateway-part.js";
import { LocalInventory } from "./local-inventory.js";
import { LocalRouteSwitch } from "./route-switch.js";
import { ProcessDriver } from "./process-driver.js";
import type { PodTiming } from "./process-deployment.js";

export interface LocalModeOptions {
  readonly local: LocalModeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Probe, restart and stop timings of the pods (tests shorten them). */
  readonly timing?: Partial<PodTiming>;
  /** Where the dev gateway listens; default: the file's gateway listener address and port. Port 0: any free port. */
  readonly gatewayListen?: { readonly host?: string; readonly port?: number };
  /** Called once the dev gateway listens, with the address it bound. */
  readonly onGatewayListening?: (address: string) => void;
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
  const listen = { host: options.gatewayListen?.host ?? config.gateway.listenerAddress, port: options.gatewayListen?.port ?? config.gateway.listenerPort };
  const routes = new LocalRouteSwitch(config.apps.map((a) => appKey(a.namespace, a.name)));
  let gateway: DevGatewayPart | undefined;
  const files = singleReplicaFiles(config, clock, logger);
  const mode: Mode = {
    name: "local",
    inventory,
    gateway: inventory,
    ...files,
    // minPods 0 goes to zero and back through the resolver, so local mode always serves one: on the file's
    // listen.resolver, else a free port beside Check (the dev gateway finds it over xDS, as it finds Check).
    listen: { ...files.listen, resolver: files.listen.resolver ?? { host: files.listen.authz.host, port: 0 } },
    routeModes: routes,
    canAddPods: true,
    parts: {
      last: (hooks) => {
        gateway = new DevGatewayPart({ listen, hooks, clock, logger, registry: options.registry, ...(options.onGatewayListening === undefined ? {} : { onListening: options.onGatewayListening }) });
        return [gateway];
      },
    },
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
    nextSteps: (addresses: BoundAddresses) => nextSteps(local, addresses, gateway?.address() ?? `${listen.host}:${listen.port}`),
  };
  return { mode, reconcilePorts: { ...driver.ports(), routes }, driver };
}

function nextSteps(local: LocalModeConfig, addresses: BoundAddresses, gateway: string): string[] {
  const base = gateway.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
  const lines = ["", "ticketplane dev is running. Next:"];
  for (const spec of local.config.apps) lines.push(`  open the app:       http://${base}${spec.pathPrefix}   (the dev gateway; a new private window is a new user)`);
  lines.push(`  look inside:        http://${addresses.admin}/api/apps   (pods, tickets, queue)`, `  local pods:         http://${addresses.admin}/api/config   (under "local")`, "  stop:               Ctrl-C (stops every pod)", "");
  return lines;
}
