/**
 * LocalInventory: local mode's inventory. The apps are the local file's;
 * their pods are the process driver's children, reported to the ticket
 * core as they start, turn ready, drain, crash and stop. The file is read
 * once: an edit applies at the next start. It is also the gateway settings'
 * source, which therefore never change.
 */
import type { Logger } from "../common/logger.js";
import { once } from "../common/runnable.js";
import type { GatewayConfig, LocalConfig } from "../config/config-file.js";
import type { GatewaySource, Inventory } from "../runtime/ports.js";
import type { TicketInventory } from "../tickets/ports.js";
import type { ProcessDriver } from "./process-driver.js";

export class LocalInventory implements Inventory, GatewaySource {
  readonly name = "inventory";
  readonly #config: LocalConfig;
  readonly #driver: ProcessDriver;
  readonly #logger: Logger;
  #target: Pick<TicketInventory, "setApps" | "setPods"> | undefined;
  readonly stop: () => Promise<void>;

  constructor(config: LocalConfig, driver: ProcessDriver, logger: Logger) {
    this.#config = config;
    this.#driver = driver;
    this.#logger = logger;
    this.stop = once(() => driver.stop());
  }

  feed(target: Pick<TicketInventory, "setApps" | "setPods">): void {
    this.#target = target;
    this.#driver.feed(target);
  }

  /** The apps go in first (no pods yet), then the driver starts the guard and each app's initial pods. */
  async start(): Promise<void> {
    if (this.#target === undefined) throw new Error("LocalInventory started before feed()");
    this.#target.setApps(this.#config.apps);
    await this.#driver.start();
  }

  readinessReasons(): readonly string[] {
    return [];
  }

  reload(): Promise<void> {
    this.#logger.info("local mode reads its file only at start; restart ticketplane dev to apply edits", { file: this.#config.filePath });
    return Promise.resolve();
  }

  current(): GatewayConfig {
    return this.#config.gateway;
  }

  subscribe(_listener: () => void): () => void {
    return () => undefined;
  }
}
