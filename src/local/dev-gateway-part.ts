/**
 * The dev gateway as local mode's last part: built at start, when the
 * runtime's servers listen, with the ADS address they bound (Check and the
 * access log it then finds as Envoy does, from the listener it receives).
 */
import type { Registry } from "prom-client";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { RuntimeHooks } from "../runtime/ports.js";
import { createDevGateway, type DevGateway } from "./dev-gateway/index.js";

export interface DevGatewayPartOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly hooks: RuntimeHooks;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Called once the gateway listens, with the address it bound. */
  readonly onListening?: (address: string) => void;
}

export class DevGatewayPart implements Runnable {
  readonly name = "dev-gateway";
  readonly #o: DevGatewayPartOptions;
  #gateway: DevGateway | undefined;
  readonly stop: () => Promise<void>;

  constructor(options: DevGatewayPartOptions) {
    this.#o = options;
    this.stop = once(() => this.#gateway?.stop() ?? Promise.resolve());
  }

  /** `host:port` the gateway bound; undefined before it listens. */
  address(): string | undefined {
    const address = this.#gateway?.address();
    return address === undefined || address === "" ? undefined : address;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { hooks, listen, clock, logger, registry } = this.#o;
    const gateway = createDevGateway({ listen, ads: hooks.addresses().xds, clock, logger, registry });
    this.#gateway = gateway;
    await gateway.start(signal);
    this.#o.onListening?.(gateway.address());
  }
}
