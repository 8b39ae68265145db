/**
 * The JSON the admin API shows for standalone mode. Never includes a ticket
 * token or a signing secret.
 */
import { formatHostPort } from "../config/address.js";
import { appKey, formatSpecError } from "../config/app-spec.js";
import type { TicketDesk } from "../tickets/types.js";
import type { ConfigState } from "./config-state.js";
import type { KeySource } from "./key-store.js";
import type { StateStatus } from "./state-store.js";

export interface ConfigViewInputs {
  readonly config: ConfigState;
  readonly keys: () => { readonly source: KeySource; readonly active: string; readonly ids: readonly string[]; readonly error?: string };
  readonly state: () => StateStatus;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function configView(inputs: ConfigViewInputs): unknown {
  const { config } = inputs;
  const c = config.config;
  const disk = config.disk;
  const state = inputs.state();
  return {
    source: config.file,
    loadedAt: iso(config.loadedAt),
    disk: {
      status: disk.kind,
      differs: disk.kind !== "in-force",
      checkedAt: iso(disk.checkedAt),
      ...(disk.kind === "invalid" ? { errors: disk.errors.map((e) => ({ path: e.path, value: e.value, rule: e.rule, message: formatSpecError(e) })) } : {}),
      ...(disk.kind === "unreadable" ? { error: disk.error } : {}),
    },
    restartRequired: config.restartRequired,
    inForce: {
      listen: { authz: formatHostPort(c.listen.authz), xds: formatHostPort(c.listen.xds), accessLog: formatHostPort(c.listen.accessLog), admin: formatHostPort(c.listen.admin) },
      gateway: c.gateway,
      keys: inputs.keys(),
      state: { file: c.state.file },
      apps: c.apps,
    },
    stateFile: { ...state, lastSavedAt: iso(state.lastSavedAt) },
  };
}

export function appsView(desk: TicketDesk): unknown {
  return {
    apps: desk.apps().map((spec) => {
      const key = appKey(spec.namespace, spec.name);
      const figures = desk.figures(key);
      return {
        app: key,
        pathPrefix: spec.pathPrefix,
        ...(spec.host !== undefined ? { host: spec.host } : {}),
        figures,
        queueLength: figures?.queued ?? 0,
        pods: desk.pods(key).map((p) => ({
          name: p.name,
          address: formatHostPort({ host: p.host, port: p.port }),
          ready: p.ready,
          draining: p.draining,
          routable: p.routable,
          serving: p.ready && !p.draining && p.routable,
          slots: p.slots,
          used: p.used,
        })),
      };
    }),
  };
}
