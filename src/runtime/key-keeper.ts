/**
 * SigningKeyKeeper: the key ring in force, read through a KeyProvider.
 *
 * At start the ring must be usable (or the process does not start, with
 * every problem named and no secret shown). A reload (SIGHUP, a changed
 * Secret) that fails for any reason — bad content, an unreadable file, a
 * ring the ticket core refuses — keeps the ring in force and says why in
 * `status()`; it never rejects.
 */
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import { formatSpecError } from "../config/app-spec.js";
import type { KeyHolder } from "../tickets/ports.js";
import type { KeyRing } from "../tickets/types.js";
import type { KeyLoad, KeyProvider, KeySourceView } from "./ports.js";

/** What /api/config shows of the keys: ids and where they come from, never a secret. */
export interface KeyStatus {
  readonly source: KeySourceView;
  readonly active: string;
  readonly ids: readonly string[];
  readonly notes?: readonly string[];
  /** Why the last reload was refused (the keys in force stayed). */
  readonly error?: string;
}

export class SigningKeyKeeper {
  readonly #provider: KeyProvider;
  readonly #logger: Logger;
  #loaded: Extract<KeyLoad, { ok: true }> | undefined;
  #holder: KeyHolder | undefined;
  #error: string | undefined;

  constructor(provider: KeyProvider, logger: Logger) {
    this.#provider = provider;
    this.#logger = logger;
  }

  /** The first ring. Throws TicketplaneError(INVALID_CONFIG) naming every problem when it is unusable. */
  async load(): Promise<KeyRing> {
    const loaded = await this.#provider.load();
    if (!loaded.ok) {
      for (const e of loaded.errors) this.#logger.error("signing keys are invalid", { where: loaded.where, path: e.path, value: e.value, rule: e.rule });
      throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `signing keys from ${loaded.where} are invalid: ${loaded.errors.map(formatSpecError).join("; ")}`, { where: loaded.where });
    }
    this.#accept(loaded);
    return loaded.ring;
  }

  /** Where reloaded rings go (the ticket core). */
  attach(holder: KeyHolder): void {
    this.#holder = holder;
  }

  /** Re-reads the keys. Never rejects: on any failure the keys in force stay. */
  async reload(): Promise<void> {
    let next: KeyLoad;
    try {
      next = await this.#provider.load();
    } catch (err) {
      this.#refuse(`cannot read the keys: ${errorMessage(err)}`);
      return;
    }
    if (!next.ok) {
      this.#refuse(`keys from ${next.where} are invalid: ${next.errors.map(formatSpecError).join("; ")}`);
      return;
    }
    try {
      this.#holder?.setKeys(next.ring);
    } catch (err) {
      this.#refuse(`key ring rejected: ${errorMessage(err)}`);
      return;
    }
    this.#accept(next);
    this.#logger.info("signing keys reloaded", { active: next.ring.active, ids: next.ring.keys.map((k) => k.id) });
  }

  /** The ring in force (the peer API's credential derives from it). Throws before `load` resolved (a bug). */
  ring(): KeyRing {
    if (this.#loaded === undefined) throw new TicketplaneError(ERROR_CODES.INTERNAL, "signing keys read before they were loaded");
    return this.#loaded.ring;
  }

  status(): KeyStatus | undefined {
    const l = this.#loaded;
    if (l === undefined) return undefined;
    return {
      source: l.source,
      active: l.ring.active,
      ids: l.ring.keys.map((k) => k.id),
      ...(l.notes !== undefined && l.notes.length > 0 ? { notes: l.notes } : {}),
      ...(this.#error !== undefined ? { error: this.#error } : {}),
    };
  }

  #accept(loaded: Extract<KeyLoad, { ok: true }>): void {
    this.#loaded = loaded;
    this.#error = undefined;
    for (const note of loaded.notes ?? []) this.#logger.warn(note, { source: loaded.source });
  }

  #refuse(reason: string): void {
    this.#error = `${reason}; the keys in force stay`;
    this.#logger.error("signing keys not reloaded; the keys in force stay", { reason });
  }
}
