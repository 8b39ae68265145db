/**
 * Standalone mode: no Kubernetes. A config file lists the apps and their
 * pods (FileInventory), the ledger lives in a state file (StateFileStore),
 * the keys in a keys file or a generated key (FileKeyProvider), and this
 * single replica always leads. A plain Envoy is the entry point and takes
 * everything from our xDS (bootstrap: envoy/standalone.yaml).
 */
import { basename, dirname, join } from "node:path";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { LocalConfig } from "../config/config-file.js";
import { LISTEN_DEFAULTS } from "../config/config-file.js";
import { parseKeyFile } from "../config/key-file.js";
import { soleReplica, type BoundAddresses, type Mode } from "../runtime/ports.js";
import { configView } from "./config-view.js";
import { FileInventory } from "./file-inventory.js";
import { FileKeyProvider } from "./key-files.js";
import { StateFileStore } from "./state-file-store.js";

export interface StandaloneModeOptions {
  readonly configFile: string;
  /** The text `config` was parsed from (the file watcher's baseline). */
  readonly configText: string;
  readonly config: LocalConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** File watch debounce and poll (tests shorten them). */
  readonly watch?: { readonly debounceMs?: number; readonly pollMs?: number };
}

/** The ADS address envoy/standalone.yaml is written for. */
export const ENVOY_BOOTSTRAP_XDS = LISTEN_DEFAULTS.xds;

/** Where the generated signing key lives when no keys file is configured: next to the state file. */
export function generatedKeyFile(stateFile: string): string {
  const name = basename(stateFile).replace(/\.state\.json$/, "").replace(/\.json$/, "");
  return join(dirname(stateFile), `${name}.key.json`);
}

/**
 * What a single replica driven by a file keeps on disk, and who leads: the
 * ledger in the state file, the keys in the keys file (or a key generated
 * beside the state file), this process always the leader; with the file's
 * listen addresses and trusted hops. Standalone and local modes share it.
 */
export function singleReplicaFiles(config: LocalConfig, clock: Clock, logger: Logger): Pick<Mode, "listen" | "ledgerStore" | "keys" | "leadership" | "trustedHops"> {
  return {
    listen: config.listen,
    ledgerStore: new StateFileStore({ file: config.state.file, clock, logger }),
    keys: new FileKeyProvider({ generatedKeyFile: generatedKeyFile(config.state.file), parseKeyFile, logger, ...(config.keys === undefined ? {} : { keysFile: config.keys.file }) }),
    leadership: soleReplica(),
    trustedHops: config.clientAddress.trustedHops,
  };
}

export function createStandaloneMode(options: StandaloneModeOptions): Mode & { readonly inventory: FileInventory } {
  const { config, clock } = options;
  const logger = options.logger.child({ component: "standalone" });
  const inventory = new FileInventory({ file: options.configFile, text: options.configText, config, clock, logger, ...(options.watch === undefined ? {} : { watch: options.watch }) });
  return {
    name: "standalone",
    inventory,
    gateway: inventory,
    ...singleReplicaFiles(config, clock, logger),
    // Pods are only listed in the file: nothing will start more.
    canAddPods: false,
    configView: (status) => configView(inventory.state, status),
    nextSteps: (addresses) => nextSteps(inventory.state.config, addresses),
  };
}

function nextSteps(config: LocalConfig, addresses: BoundAddresses): string[] {
  const host = config.gateway.listenerAddress === "0.0.0.0" ? "127.0.0.1" : config.gateway.listenerAddress;
  const first = config.apps[0];
  const lines = [
    "",
    "ticketplane is running. Next:",
    `  1. start Envoy:   envoy -c envoy/standalone.yaml   (its ADS points at ${ENVOY_BOOTSTRAP_XDS})`,
  ];
  if (addresses.xds !== ENVOY_BOOTSTRAP_XDS) {
    lines.push(`     ticketplane's ADS listens on ${addresses.xds}, not ${ENVOY_BOOTSTRAP_XDS}: change the xds_cluster address in a copy of envoy/standalone.yaml to match`);
  }
  lines.push(`  2. open the app:  curl -i http://${host}:${config.gateway.listenerPort}${first?.pathPrefix ?? "/"}`, `  3. look inside:   curl http://${addresses.admin}/api/apps`, "");
  return lines;
}
