/**
 * The composition root of standalone mode: builds every part from the
 * LocalConfig and returns them as Runnables started in a fixed order and
 * stopped in reverse. Logger, clock and metrics registry come in from the CLI.
 *
 * Start order, and why:
 *   1. state   — keys loaded, apps and pods in the desk, the saved ledger
 *                restored, before any server can hand out a ticket;
 *   2. xds     — gateways can connect and ACK pods (pods become routable);
 *   3. authz   — Check and access logs, now that the desk is complete;
 *   4. admin   — health, readiness and the JSON API;
 *   5. watcher — config edits, once everything they touch is running;
 *   6. sweeper — releases idle/expired tickets every second.
 * Stopping in reverse means: no more edits or sweeps, admin gone, in-flight
 * Checks finished and ADS streams closed, and only then the ledger saved, so
 * the state file holds every ticket that was ever handed out.
 */
import { basename, dirname, join } from "node:path";
import type { Registry } from "prom-client";
import { AdminServer } from "./admin/index.js";
import type { Readiness } from "./admin/index.js";
import { AuthzServer, createAuthzMetrics } from "./authz/index.js";
import type { Clock } from "./common/clock.js";
import { ERROR_CODES, TicketplaneError, errorMessage } from "./common/errors.js";
import type { Logger } from "./common/logger.js";
import type { Runnable } from "./common/runnable.js";
import { formatHostPort, formatSpecError, parseHostPort, parseKeyFile } from "./config/index.js";
import type { HostPort, LocalConfig } from "./config/index.js";
import { ConfigState, ConfigWatcher, StateStore, Sweeper, appsView, applyApps, buildGatewayModels, configView, createXdsPart, loadKeys } from "./standalone/index.js";
import type { FileRead, LoadedKeys } from "./standalone/index.js";
import { TicketOffice } from "./tickets/index.js";


export interface StandaloneOptions {
  readonly configFile: string;
  /** The text `config` was parsed from (the watcher's baseline). */
  readonly configText: string;
  readonly config: LocalConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  /** Config file debounce and poll (tests shorten them). */
  readonly watch?: { readonly debounceMs?: number; readonly pollMs?: number };
  /** State save debounce (default 500 ms). */
  readonly stateDebounceMs?: number;
}

/** Called once per server as it starts listening: ("authz", "127.0.0.1:9001"). */
export type OnListening = (server: "authz" | "accesslog" | "xds" | "admin", address: string) => void;

export interface StandaloneApp {
  /** Starts every part in order; rejects (after logging) if one cannot start. Call stop() then. */
  start(signal: AbortSignal, onListening: OnListening): Promise<void>;
  /** Stops the parts that started, in reverse order. Idempotent. */
  stop(): Promise<void>;
  /** SIGHUP: re-reads the keys file and the config file at once. */
  reload(): Promise<void>;
  /** Lines telling a person what to do next (stderr). */
  nextSteps(): string[];
}

/** Where the generated signing key lives when no keys file is configured: next to the state file. */
export function generatedKeyFile(stateFile: string): string {
  const name = basename(stateFile).replace(/\.state\.json$/, "").replace(/\.json$/, "");
  return join(dirname(stateFile), `${name}.key.json`);
}

export async function createStandaloneApp(options: StandaloneOptions): Promise<StandaloneApp> {
  const { config, logger, clock, registry, configFile } = options;
  const log = logger.child({ component: "standalone" });

  const keyOptions = { generatedKeyFile: generatedKeyFile(config.state.file), parseKeyFile, logger: log, ...(config.keys !== undefined ? { keysFile: config.keys.file } : {}) };
  const firstKeys = await loadKeys(keyOptions);
  if (!firstKeys.ok) {
    for (const e of firstKeys.errors) log.error("keys file is invalid", { file: firstKeys.file, path: e.path, value: e.value, rule: e.rule });
    throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `keys file ${firstKeys.file} is invalid: ${firstKeys.errors.map(formatSpecError).join("; ")}`, { file: firstKeys.file });
  }
  let keys: LoadedKeys = firstKeys.value;
  let keysError: string | undefined;

  const desk = new TicketOffice({ clock, keys: keys.ring });
  const configState = new ConfigState(configFile, config, clock);
  const state = new StateStore({ file: config.state.file, desk, clock, logger: log, ...(options.stateDebounceMs !== undefined ? { debounceMs: options.stateDebounceMs } : {}) });

  const authz = new AuthzServer({
    desk,
    logger: logger.child({ component: "authz" }),
    metrics: createAuthzMetrics(registry, desk),
    listen: { authz: formatHostPort(config.listen.authz), accessLog: formatHostPort(config.listen.accessLog) },
  });
  const listening = new Set<string>();
  const bound = (address: string): HostPort => {
    const parsed = parseHostPort(address, true);
    if (!parsed.ok) throw new TicketplaneError(ERROR_CODES.INTERNAL, `bound address ${address} does not parse`, { address });
    return parsed.value;
  };
  const xds = createXdsPart({
    listen: config.listen.xds,
    desk,
    logger: logger.child({ component: "xds" }),
    registry,
    clock,
    // Gateways need the authz and access-log addresses: until authz has bound them there is nothing to publish.
    models: () => (listening.has("authz") ? buildGatewayModels({ desk, gateway: () => configState.config.gateway, authz: () => bound(authz.addresses.authz), accessLog: () => bound(authz.addresses.accessLog) }) : []),
  });

  const readiness = (): Readiness => {
    const reasons: string[] = [];
    for (const server of ["xds", "authz", "admin"]) if (!listening.has(server)) reasons.push(`${server} server is not listening`);
    reasons.push(...configState.readinessReasons());
    return { ready: reasons.length === 0, reasons };
  };
  const admin = new AdminServer(config.listen.admin, {
    registry,
    readiness,
    logger: logger.child({ component: "admin" }),
    config: () =>
      configView({
        config: configState,
        keys: () => ({ source: keys.source, active: keys.ring.active, ids: keys.ring.keys.map((k) => k.id), ...(keysError !== undefined ? { error: keysError } : {}) }),
        state: () => state.status(),
      }),
    apps: () => appsView(desk),
    xds: () => xds.status(),
  });

  const onFileContent = (read: FileRead): void => {
    const offer = configState.offer(read);
    if (offer.kind === "unreadable") {
      log.error("config file cannot be read; keeping the last good config", { file: configFile, error: offer.error });
      return;
    }
    if (offer.kind === "refused") {
      for (const e of offer.errors) log.error("config file is invalid; keeping the last good config", { file: configFile, path: e.path, value: e.value, rule: e.rule });
      return;
    }
    applyApps(desk, offer.config.apps);
    xds.schedule();
    log.info("config file applied", { file: configFile, apps: offer.config.apps.length });
    if (offer.restartRequired.length > 0) log.warn("some changed settings take effect only after a restart", { fields: offer.restartRequired });
  };
  const watcher = new ConfigWatcher({ file: configFile, logger: log, onContent: onFileContent, initialText: options.configText, ...(options.watch ?? {}) });
  const sweeper = new Sweeper(desk, log);

  const reloadKeys = async (): Promise<void> => {
    if (config.keys === undefined) return;
    const next = await loadKeys(keyOptions);
    if (!next.ok) {
      keysError = `keys file is invalid; the keys in force stay: ${next.errors.map(formatSpecError).join("; ")}`;
      for (const e of next.errors) log.error("keys file is invalid; keeping the keys in force", { file: next.file, path: e.path, value: e.value, rule: e.rule });
      return;
    }
    try {
      desk.setKeys(next.value.ring);
    } catch (err) {
      keysError = `key ring rejected; the keys in force stay: ${errorMessage(err)}`;
      log.error("key ring rejected; keeping the keys in force", { error: errorMessage(err) });
      return;
    }
    keys = next.value;
    keysError = undefined;
    log.info("keys reloaded", { active: keys.ring.active, ids: keys.ring.keys.map((k) => k.id) });
  };

  // The fixed start order (see the file comment); stop runs it backwards.
  const parts: { readonly runnable: Runnable; readonly announce: (on: OnListening) => void }[] = [
    {
      runnable: {
        name: "state",
        start: async () => {
          applyApps(desk, config.apps);
          await state.restore();
          state.watch();
        },
        stop: () => state.close(),
      },
      announce: () => undefined,
    },
    { runnable: xds, announce: (on) => on("xds", xds.address()) },
    {
      runnable: authz,
      announce: (on) => {
        on("authz", authz.addresses.authz);
        on("accesslog", authz.addresses.accessLog);
      },
    },
    { runnable: admin, announce: (on) => on("admin", admin.address() ?? "?") },
    { runnable: watcher, announce: () => undefined },
    { runnable: sweeper, announce: () => undefined },
  ];
  const started: Runnable[] = [];
  let stopping: Promise<void> | undefined;

  return {
    async start(signal, onListening) {
      for (const part of parts) {
        try {
          await part.runnable.start(signal);
        } catch (err) {
          log.error(`${part.runnable.name} failed to start`, { error: errorMessage(err) });
          throw err;
        }
        started.push(part.runnable);
        listening.add(part.runnable.name);
        part.announce(onListening);
      }
      xds.schedule();
    },
    stop() {
      stopping ??= (async () => {
        for (const r of [...started].reverse()) {
          listening.delete(r.name);
          try {
            await r.stop();
          } catch (err) {
            log.error(`${r.name} failed to stop cleanly`, { error: errorMessage(err) });
          }
        }
      })();
      return stopping;
    },
    async reload() {
      await reloadKeys();
      await watcher.reload();
    },
    nextSteps() {
      const c = configState.config;
      const host = c.gateway.listenerAddress === "0.0.0.0" ? "127.0.0.1" : c.gateway.listenerAddress;
      const first = c.apps[0];
      return [
        "",
        "ticketplane is running. Next:",
        `  1. start Envoy:   envoy -c envoy/standalone.yaml   (its ADS points at ${xds.address()})`,
        `  2. open the app:  curl -i http://${host}:${c.gateway.listenerPort}${first?.pathPrefix ?? "/"}`,
        `  3. look inside:   curl http://${admin.address() ?? "?"}/api/apps`,
        "",
      ];
    },
  };
}
