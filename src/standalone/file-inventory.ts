/**
 * FileInventory: standalone mode's inventory. The config file lists the apps
 * and, for each, its pods as they stand; the file is watched, a valid edit
 * is applied at once, an invalid or unreadable one changes nothing and makes
 * the process not ready until it is fixed (ConfigState). It is also the
 * source of the gateway settings, which an edit may change.
 */
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once } from "../common/runnable.js";
import { appKey, type PodEntry } from "../config/app-spec.js";
import type { GatewayConfig, LocalConfig } from "../config/config-file.js";
import type { TicketInventory } from "../tickets/ports.js";
import type { PodInput } from "../tickets/types.js";
import type { GatewaySource, Inventory } from "../runtime/ports.js";
import { ConfigState } from "./config-state.js";
import { FileWatcher, type FileRead } from "./file-watcher.js";

export interface FileInventoryOptions {
  readonly file: string;
  /** The text `config` was parsed from (the watcher's baseline). */
  readonly text: string;
  readonly config: LocalConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** File watch debounce and poll (tests shorten them). */
  readonly watch?: { readonly debounceMs?: number; readonly pollMs?: number };
}

type Target = Pick<TicketInventory, "setApps" | "setPods">;

export class FileInventory implements Inventory, GatewaySource {
  readonly name = "inventory";
  readonly state: ConfigState;
  readonly #o: FileInventoryOptions;
  readonly #watcher: FileWatcher;
  readonly #gatewayListeners = new Set<() => void>();
  #target: Target | undefined;
  readonly stop: () => Promise<void>;

  constructor(options: FileInventoryOptions) {
    this.#o = options;
    this.state = new ConfigState(options.file, options.config, options.clock);
    this.#watcher = new FileWatcher({ file: options.file, clock: options.clock, logger: options.logger, onContent: (read) => this.#offer(read), initialText: options.text, ...(options.watch ?? {}) });
    this.stop = once(() => this.#watcher.stop());
  }

  feed(target: Target): void {
    this.#target = target;
  }

  async start(): Promise<void> {
    this.#apply(this.state.config);
    await this.#watcher.start();
  }

  readinessReasons(): readonly string[] {
    return this.state.readinessReasons();
  }

  /** Reads the file now, even if unchanged (SIGHUP). Never rejects. */
  reload(): Promise<void> {
    return this.#watcher.reload();
  }

  current(): GatewayConfig {
    return this.state.config.gateway;
  }

  subscribe(listener: () => void): () => void {
    const own = (): void => listener();
    this.#gatewayListeners.add(own);
    return () => {
      this.#gatewayListeners.delete(own);
    };
  }

  #offer(read: FileRead): void {
    const { file, logger } = this.#o;
    const before = this.state.config.gateway;
    const offer = this.state.offer(read);
    if (offer.kind === "unreadable") {
      logger.error("config file cannot be read; keeping the last good config", { file, error: offer.error });
      return;
    }
    if (offer.kind === "refused") {
      for (const e of offer.errors) logger.error("config file is invalid; keeping the last good config", { file, path: e.path, value: e.value, rule: e.rule });
      return;
    }
    this.#apply(offer.config);
    logger.info("config file applied", { file, apps: offer.config.apps.length });
    if (offer.restartRequired.length > 0) logger.warn("some changed settings take effect only after a restart", { fields: offer.restartRequired });
    if (JSON.stringify(before) !== JSON.stringify(offer.config.gateway)) for (const l of [...this.#gatewayListeners]) l();
  }

  /** Apps first (new apps get ledgers, removed apps release their tickets), then every app's pods as listed. */
  #apply(config: LocalConfig): void {
    const target = this.#target;
    if (target === undefined) throw new Error("FileInventory started before feed()");
    target.setApps(config.apps);
    for (const spec of config.apps) {
      const key = appKey(spec.namespace, spec.name);
      target.setPods(key, podsOf(config.pods[key] ?? []));
    }
  }
}

function podsOf(entries: readonly PodEntry[]): PodInput[] {
  return entries.map((p) => ({ name: p.name, host: p.host, port: p.port, ready: p.ready }));
}
