/**
 * SecretKeyProvider: Kubernetes mode's signing keys, from a Secret whose
 * data key (default `keys.yaml`) holds the keys file format
 * (src/config/key-file.ts: `active` and `keys: [{ id, secret }]`), parsed
 * by the same parser with the same rules.
 *
 * A missing Secret: every replica must sign and verify with the same keys,
 * so a key generated in one process's memory would not do. By default the
 * provider creates the Secret with one generated 32-byte key (as standalone
 * mode generates a key file), and says so in the log — the Secret's name
 * and the key id, never the key. Two replicas racing to create it both end
 * up with the one that won (AlreadyExists → re-read). When creating is
 * turned off, or RBAC forbids it, loading fails with the Secret's name and
 * the kubectl command that creates one. Only the first load creates: a
 * Secret deleted later is reported and the keys in force stay (a new key
 * would end every session).
 *
 * Rotation: SecretKeyWatcher re-reads the Secret's resourceVersion every
 * few seconds on the Clock and calls `onChange` (the runtime's key reload)
 * when it moved. A periodic read, not a watch, because a Secret changes
 * rarely and a read cannot silently stall the way a watch can.
 *
 * Nothing here logs or returns secret material: errors come from the key
 * file parser, which redacts every value under a `secret` path.
 */
import { randomBytes } from "node:crypto";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import type { Clock, Timer } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import { once, type Runnable } from "../common/runnable.js";
import type { SpecError } from "../config/app-spec.js";
import { parseKeyFile } from "../config/key-file.js";
import { MIN_SECRET_BYTES } from "../config/key-ring.js";
import type { KeyLoad, KeyProvider } from "../runtime/ports.js";
import { withDeadline, type CallOptions } from "./call-deadline.js";
import { describeKubeError, isAlreadyExists, isForbidden, isNotFound } from "./errors.js";

export interface SecretKeyProviderOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  /** The Secret's name (e.g. "ticketplane-keys"). */
  readonly name: string;
  /** The data key that holds the keys file (default "keys.yaml"). */
  readonly dataKey?: string;
  /** Create the Secret with a generated key when it is missing (default true). */
  readonly create?: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Deadline of one API call (default 10 s). */
  readonly callTimeoutMs?: number;
}

export class SecretKeyProvider implements KeyProvider {
  readonly #o: SecretKeyProviderOptions;
  readonly #dataKey: string;
  #loadedRevision: string | undefined;
  /** A ring was loaded once: from then on a missing Secret is an error, never a new key (that would end every session). */
  #hadRing = false;

  constructor(options: SecretKeyProviderOptions) {
    this.#o = options;
    this.#dataKey = options.dataKey ?? "keys.yaml";
  }

  /** `Secret ns/name key keys.yaml`: where the keys come from, for messages. */
  get where(): string {
    return `Secret ${this.#o.namespace}/${this.#o.name} key ${this.#dataKey}`;
  }

  /** The resourceVersion of the Secret the last load read (whatever its content). */
  get loadedRevision(): string | undefined {
    return this.#loadedRevision;
  }

  async load(): Promise<KeyLoad> {
    let secret: V1Secret;
    try {
      secret = await this.#call((o) => this.#o.core.readNamespacedSecret({ name: this.#o.name, namespace: this.#o.namespace }, o));
    } catch (err) {
      if (isNotFound(err)) return this.#missing();
      return this.#fail("secret", `must be readable (${describeKubeError(err)})`);
    }
    return this.#parse(secret, false);
  }

  /** The Secret's resourceVersion now (undefined: there is none). Rejects when it cannot be read. */
  async revision(): Promise<string | undefined> {
    try {
      const s = await this.#call((o) => this.#o.core.readNamespacedSecret({ name: this.#o.name, namespace: this.#o.namespace }, o));
      return s.metadata?.resourceVersion;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  #parse(secret: V1Secret, created: boolean): KeyLoad {
    this.#loadedRevision = secret.metadata?.resourceVersion;
    const encoded = secret.data?.[this.#dataKey];
    if (encoded === undefined) {
      const present = Object.keys(secret.data ?? {});
      return this.#fail(this.#dataKey, `must be a data key of the Secret holding the keys file (it has ${present.length === 0 ? "no data keys" : present.join(", ")})`);
    }
    const parsed = parseKeyFile(Buffer.from(encoded, "base64").toString("utf8"));
    if (!parsed.ok) return { ok: false, where: this.where, errors: parsed.errors };
    this.#hadRing = true;
    const source = { kind: "secret", secret: `${this.#o.namespace}/${this.#o.name}`, key: this.#dataKey, resourceVersion: secret.metadata?.resourceVersion, ...(created ? { created: true } : {}) };
    return { ok: true, ring: parsed.value, source };
  }

  async #missing(): Promise<KeyLoad> {
    const { namespace, name } = this.#o;
    const command = `kubectl -n ${namespace} create secret generic ${name} --from-file=${this.#dataKey}=<keys file>`;
    if (this.#o.create === false) return this.#fail("secret", `must exist (creating it is turned off): ${command}`);
    if (this.#hadRing) return this.#fail("secret", `was deleted; the keys in force stay (a new key would end every session): restore it or ${command}`);
    const id = `gen-${randomBytes(4).toString("hex")}`;
    const text = `# Generated by ticketplane: the keys file format (active, keys). Rotate by adding a key and making it active.\nactive: ${id}\nkeys:\n  - id: ${id}\n    secret: ${randomBytes(MIN_SECRET_BYTES).toString("base64")}\n`;
    const body: V1Secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "ticketplane" } },
      data: { [this.#dataKey]: Buffer.from(text).toString("base64") },
    };
    try {
      const created = await this.#call((o) => this.#o.core.createNamespacedSecret({ namespace, body }, o));
      this.#o.logger.info("no signing key Secret existed: created it with a generated key", { secret: `${namespace}/${name}`, key: this.#dataKey, id });
      return this.#parse(created, true);
    } catch (err) {
      if (isAlreadyExists(err)) return this.load();
      if (isForbidden(err)) return this.#fail("secret", `must exist, and ticketplane may not create it (${describeKubeError(err)}): ${command}`);
      return this.#fail("secret", `is missing and could not be created (${describeKubeError(err)})`);
    }
  }

  #fail(path: string, rule: string): KeyLoad {
    const errors: SpecError[] = [{ path, value: `${this.#o.namespace}/${this.#o.name}`, rule }];
    return { ok: false, where: this.where, errors };
  }

  #call<T>(call: (options: CallOptions) => Promise<T>): Promise<T> {
    return withDeadline(this.#o.clock, this.#o.callTimeoutMs ?? 10_000, call);
  }
}

export interface SecretKeyWatcherOptions {
  readonly provider: Pick<SecretKeyProvider, "revision" | "loadedRevision" | "where">;
  /** Re-reads the keys (the runtime's SigningKeyKeeper.reload). Should not reject; a rejection is logged. */
  readonly onChange: () => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the Secret is checked (default 10 s). */
  readonly everyMs?: number;
}

/** Checks the Secret every `everyMs` and reloads the keys when its resourceVersion moved. Runs on every replica. */
export class SecretKeyWatcher implements Runnable {
  readonly name = "key-watch";
  readonly stop: () => Promise<void>;
  readonly #o: SecretKeyWatcherOptions;
  #timer: Timer | undefined;
  #check: Promise<void> | undefined;
  #failing = false;
  #stopped = false;

  constructor(options: SecretKeyWatcherOptions) {
    this.#o = options;
    this.stop = once(async () => {
      this.#stopped = true;
      this.#timer?.cancel();
      await this.#check;
    });
  }

  start(): Promise<void> {
    if (!this.#stopped) this.#timer ??= this.#o.clock.setInterval(() => void this.checkNow(), this.#o.everyMs ?? 10_000);
    return Promise.resolve();
  }

  /** One check now (the timer's, or a caller's); never rejects, never overlaps another. */
  checkNow(): Promise<void> {
    this.#check ??= this.#checkOnce().finally(() => (this.#check = undefined));
    return this.#check;
  }

  async #checkOnce(): Promise<void> {
    const { provider, logger } = this.#o;
    let now: string | undefined;
    try {
      now = await provider.revision();
    } catch (err) {
      if (!this.#failing) logger.warn("cannot read the signing key Secret; the keys in force stay", { where: provider.where, error: describeKubeError(err) });
      this.#failing = true;
      return;
    }
    if (this.#failing) logger.info("the signing key Secret is readable again", { where: provider.where });
    this.#failing = false;
    if (this.#stopped || now === provider.loadedRevision) return;
    logger.info("the signing key Secret changed; reloading the keys", { where: provider.where, resourceVersion: now });
    try {
      await this.#o.onChange();
    } catch (err) {
      logger.error("reloading the signing keys failed; the keys in force stay", { where: provider.where, error: describeKubeError(err) });
    }
  }
}
