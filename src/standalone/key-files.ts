/**
 * FileKeyProvider: where standalone mode's signing keys come from.
 *
 * - With `keys.file` configured, the ring is read from that file (the
 *   config module's key-file format) on every load; a bad edit is a
 *   returned value, so a reload keeps the ring in force.
 * - Without it, one random 32-byte key is generated on first start and kept
 *   (mode 0600) in a file next to the state file, so a restart keeps every
 *   ticket valid.
 * - Moving from the generated key to a keys file must not end every
 *   session: while the generated key file is still there, its key keeps
 *   verifying (never signing) next to the keys file's ring, with a note
 *   saying when it can be removed.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { errorMessage } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { ParseResult } from "../config/app-spec.js";
import { MIN_SECRET_BYTES, type KeyRing, type SigningKey } from "../config/key-ring.js";
import type { KeyLoad, KeyProvider } from "../runtime/ports.js";
import { writeFileAtomic } from "./atomic-write.js";

export const GENERATED_KEY_FORMAT = "ticketplane-generated-key";

export interface FileKeyProviderOptions {
  readonly keysFile?: string;
  /** Where a generated key lives (next to the state file). */
  readonly generatedKeyFile: string;
  readonly parseKeyFile: (text: string) => ParseResult<KeyRing>;
  readonly logger: Logger;
}

type Read = { readonly ok: true; readonly text: string | undefined } | { readonly ok: false; readonly error: string };

export class FileKeyProvider implements KeyProvider {
  readonly #o: FileKeyProviderOptions;

  constructor(options: FileKeyProviderOptions) {
    this.#o = options;
  }

  load(): Promise<KeyLoad> {
    return this.#o.keysFile === undefined ? this.#generated() : this.#fromFile(this.#o.keysFile);
  }

  async #fromFile(file: string): Promise<KeyLoad> {
    const read = await readText(file);
    if (!read.ok) return { ok: false, where: file, errors: [{ path: "keys.file", value: file, rule: `must be a readable keys file (${read.error})` }] };
    if (read.text === undefined) return { ok: false, where: file, errors: [{ path: "keys.file", value: file, rule: "must name an existing keys file" }] };
    const parsed = this.#o.parseKeyFile(read.text);
    if (!parsed.ok) return { ok: false, where: file, errors: parsed.errors };
    const carried = await this.#carriedOver(parsed.value);
    if (carried === undefined) return { ok: true, ring: parsed.value, source: { kind: "file", file } };
    return {
      ok: true,
      ring: { active: parsed.value.active, keys: [...parsed.value.keys, carried] },
      source: { kind: "file", file, alsoVerifying: carried.id },
      notes: [
        `the generated key "${carried.id}" (${this.#o.generatedKeyFile}) still verifies the tickets it signed before keys.file was configured; ` +
          `delete that file once the longest ticket lifetime (ticket.maxLifetime) has passed`,
      ],
    };
  }

  /** The generated key, when its file is still there and its id is not taken by the keys file. */
  async #carriedOver(ring: KeyRing): Promise<SigningKey | undefined> {
    const read = await readText(this.#o.generatedKeyFile);
    if (!read.ok || read.text === undefined) return undefined;
    const generated = parseGenerated(read.text);
    if (generated === undefined || ring.keys.some((k) => k.id === generated.id)) return undefined;
    return generated;
  }

  async #generated(): Promise<KeyLoad> {
    const file = this.#o.generatedKeyFile;
    const source = { kind: "generated", file };
    const read = await readText(file);
    if (!read.ok) return { ok: false, where: file, errors: [{ path: "generated key", value: file, rule: `must be readable (${read.error})` }] };
    if (read.text !== undefined) {
      const key = parseGenerated(read.text);
      if (key === undefined) {
        return { ok: false, where: file, errors: [{ path: "generated key", value: file, rule: "is not a key ticketplane generated; remove it (existing tickets become invalid) or configure keys.file" }] };
      }
      return { ok: true, ring: { active: key.id, keys: [key] }, source };
    }
    const id = `gen-${randomBytes(4).toString("hex")}`;
    const secret = randomBytes(MIN_SECRET_BYTES);
    try {
      await writeFileAtomic(file, JSON.stringify({ format: GENERATED_KEY_FORMAT, id, secret: secret.toString("base64url") }) + "\n", 0o600);
    } catch (err) {
      return { ok: false, where: file, errors: [{ path: "generated key", value: file, rule: `must be writable (${errorMessage(err)})` }] };
    }
    this.#o.logger.info("generated a ticket signing key (no keys.file configured)", { file, id });
    return { ok: true, ring: { active: id, keys: [{ id, secret: new Uint8Array(secret) }] }, source: { ...source, created: true } };
  }
}

function parseGenerated(text: string): SigningKey | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const { format, id, secret } = raw as Record<string, unknown>;
  if (format !== GENERATED_KEY_FORMAT || typeof id !== "string" || typeof secret !== "string") return undefined;
  const bytes = Buffer.from(secret, "base64url");
  if (bytes.length < MIN_SECRET_BYTES) return undefined;
  return { id, secret: new Uint8Array(bytes) };
}

/** The file's text, undefined when it does not exist, or why it cannot be read. Never throws. */
async function readText(file: string): Promise<Read> {
  try {
    return { ok: true, text: await readFile(file, "utf8") };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, text: undefined };
    return { ok: false, error: errorMessage(err) };
  }
}
