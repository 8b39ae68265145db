/**
 * The config in force and the state of the file on disk.
 *
 * A valid edit becomes the config in force; an invalid or unreadable file
 * changes nothing in force and is remembered with every error, so `/readyz`
 * can answer 503 and `/api/config` can show why. Settings that only take
 * effect at start (listen addresses, state and keys files) are applied at the
 * next restart; the edit is still accepted and the fields are listed.
 */
import type { Clock } from "../common/clock.js";
import type { SpecError } from "../config/app-spec.js";
import type { LocalConfig } from "../config/config-file.js";
import { parseConfigFile } from "../config/config-file.js";
import type { FileRead } from "./file-watcher.js";

export type DiskState =
  /** The file on disk is the config in force. */
  | { readonly kind: "in-force"; readonly checkedAt: number }
  /** The file on disk does not validate; the last good config stays in force. */
  | { readonly kind: "invalid"; readonly checkedAt: number; readonly errors: readonly SpecError[] }
  /** The file cannot be read (missing, permissions); the last good config stays in force. */
  | { readonly kind: "unreadable"; readonly checkedAt: number; readonly error: string };

export type Offer =
  | { readonly kind: "accepted"; readonly config: LocalConfig; readonly restartRequired: readonly string[] }
  | { readonly kind: "refused"; readonly errors: readonly SpecError[] }
  | { readonly kind: "unreadable"; readonly error: string };

export class ConfigState {
  readonly file: string;
  readonly #clock: Clock;
  #config: LocalConfig;
  /** The config the process started with: restart-only settings are compared with it. */
  readonly #startConfig: LocalConfig;
  #loadedAt: number;
  #disk: DiskState;
  #restartRequired: readonly string[] = [];

  constructor(file: string, config: LocalConfig, clock: Clock) {
    this.file = file;
    this.#clock = clock;
    this.#config = config;
    this.#startConfig = config;
    this.#loadedAt = clock.now();
    this.#disk = { kind: "in-force", checkedAt: this.#loadedAt };
  }

  get config(): LocalConfig {
    return this.#config;
  }

  /** The config the process started with: restart-only settings in force are its. */
  get startConfig(): LocalConfig {
    return this.#startConfig;
  }

  get loadedAt(): number {
    return this.#loadedAt;
  }

  get disk(): DiskState {
    return this.#disk;
  }

  /** Fields changed on disk that only a restart applies. */
  get restartRequired(): readonly string[] {
    return this.#restartRequired;
  }

  /** Offers the file's new content. Only an `accepted` offer changes the config in force. */
  offer(read: FileRead): Offer {
    const now = this.#clock.now();
    if (!read.ok) {
      this.#disk = { kind: "unreadable", checkedAt: now, error: read.error };
      return { kind: "unreadable", error: read.error };
    }
    const parsed = parseConfigFile(read.text, this.file);
    if (!parsed.ok) {
      this.#disk = { kind: "invalid", checkedAt: now, errors: parsed.errors };
      return { kind: "refused", errors: parsed.errors };
    }
    this.#config = parsed.value;
    this.#loadedAt = now;
    this.#disk = { kind: "in-force", checkedAt: now };
    this.#restartRequired = restartOnlyChanges(this.#startConfig, parsed.value);
    return { kind: "accepted", config: parsed.value, restartRequired: this.#restartRequired };
  }

  /** Why the config makes the process not ready (empty when it is fine). */
  readinessReasons(): string[] {
    const d = this.#disk;
    if (d.kind === "invalid") return [`config file ${this.file} on disk is invalid (${d.errors.length} error${d.errors.length === 1 ? "" : "s"}); the last good config is in force`];
    if (d.kind === "unreadable") return [`config file ${this.file} cannot be read (${d.error}); the last good config is in force`];
    return [];
  }
}

function restartOnlyChanges(start: LocalConfig, next: LocalConfig): string[] {
  const changed: string[] = [];
  for (const key of ["authz", "xds", "accessLog", "admin"] as const) {
    const a = start.listen[key];
    const b = next.listen[key];
    if (a.host !== b.host || a.port !== b.port) changed.push(`listen.${key}`);
  }
  if (start.state.file !== next.state.file) changed.push("state.file");
  if (start.keys?.file !== next.keys?.file) changed.push("keys.file");
  if (start.clientAddress.trustedHops !== next.clientAddress.trustedHops) changed.push("clientAddress.trustedHops");
  if (start.check?.unmatched !== next.check?.unmatched) changed.push("check.unmatched");
  return changed;
}
