/**
 * `GET /api/config` in standalone mode: the config in force, the state of
 * the file on disk, the keys (ids and source, never a secret) and the state
 * file. Settings that only a restart applies are shown as they are in force
 * — the values the process started with — and, under `restartRequired`,
 * with the value on disk that the next start will use.
 */
import { formatHostPort } from "../config/address.js";
import { appKey, formatSpecError } from "../config/app-spec.js";
import { CHECK_DEFAULTS, type LocalConfig } from "../config/config-file.js";
import type { RuntimeStatus } from "../runtime/ports.js";
import type { LedgerStatus } from "../runtime/ledger-keeper.js";
import type { ConfigState } from "./config-state.js";

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The restart-only settings of a config, by field name. */
export function restartOnlySettings(c: LocalConfig): Record<string, string | undefined> {
  return {
    "listen.authz": formatHostPort(c.listen.authz),
    "listen.xds": formatHostPort(c.listen.xds),
    "listen.accessLog": formatHostPort(c.listen.accessLog),
    "listen.admin": formatHostPort(c.listen.admin),
    "state.file": c.state.file,
    "keys.file": c.keys?.file,
    "clientAddress.trustedHops": String(c.clientAddress.trustedHops),
    "check.unmatched": (c.check ?? CHECK_DEFAULTS).unmatched,
  };
}

export function configView(state: ConfigState, status: RuntimeStatus): unknown {
  const c = state.config;
  const start = restartOnlySettings(state.startConfig);
  const next = restartOnlySettings(c);
  const disk = state.disk;
  const ledger = status.ledger as LedgerStatus | undefined;
  return {
    source: state.file,
    loadedAt: iso(state.loadedAt),
    disk: {
      status: disk.kind,
      differs: disk.kind !== "in-force",
      checkedAt: iso(disk.checkedAt),
      ...(disk.kind === "invalid" ? { errors: disk.errors.map((e) => ({ path: e.path, value: e.value, rule: e.rule, message: formatSpecError(e) })) } : {}),
      ...(disk.kind === "unreadable" ? { error: disk.error } : {}),
    },
    restartRequired: state.restartRequired.map((field) => ({ field, inForce: start[field], afterRestart: next[field] })),
    inForce: {
      listen: { authz: start["listen.authz"], xds: start["listen.xds"], accessLog: start["listen.accessLog"], admin: start["listen.admin"] },
      gateway: c.gateway,
      keys: status.keys,
      state: { file: start["state.file"] },
      apps: c.apps.map((spec) => ({ ...spec, pods: c.pods[appKey(spec.namespace, spec.name)] ?? [] })),
    },
    stateFile: { file: start["state.file"], ...(ledger === undefined ? {} : { ...ledger, lastSavedAt: iso(ledger.lastSavedAt) }) },
  };
}
