/**
 * The xDS side as standalone mode uses it: a Runnable ADS server bound to
 * `listen.xds`, a publisher fed by `models()`, and the readiness signal that
 * marks pods routable in the desk.
 *
 * INTERIM: src/xds/server has not landed yet; this binds the port with no
 * ADS service so the rest of the runtime can run. Replaced by the real server.
 */
import * as grpc from "@grpc/grpc-js";
import type { Registry } from "prom-client";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { Runnable } from "../common/runnable.js";
import { formatHostPort } from "../config/address.js";
import type { HostPort } from "../config/address.js";
import type { TicketDesk } from "../tickets/types.js";
import type { GatewayModel } from "../xds/resources/model.js";

export interface XdsPartOptions {
  readonly listen: HostPort;
  readonly desk: TicketDesk;
  readonly logger: Logger;
  readonly registry: Registry;
  /** The gateways' desired state, recomputed on each publish. */
  readonly models: () => GatewayModel[];
}

export interface XdsPart extends Runnable {
  /** The bound address (valid after start). */
  address(): string;
  /** Recompute models and push what changed (debounced). */
  schedule(): void;
  /** `GET /api/xds`. */
  status(): unknown;
}

export function createXdsPart(options: XdsPartOptions): XdsPart {
  let server: grpc.Server | undefined;
  let address = "";
  return {
    name: "xds",
    async start() {
      const s = new grpc.Server();
      server = s;
      const port = await new Promise<number>((resolve, reject) =>
        s.bindAsync(formatHostPort(options.listen), grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot bind xds ${formatHostPort(options.listen)}`, {}, { cause: err })))),
      );
      address = formatHostPort({ host: options.listen.host, port });
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s !== undefined) await new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
    },
    address: () => address,
    schedule: () => undefined,
    status: () => ({ interim: true, models: options.models() }),
  };
}
