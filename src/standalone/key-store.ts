/**
 * Where the ticket signing keys come from in standalone mode.
 *
 * - With `keys.file` configured, the ring is read from that file (the config
 *   module's key-file format) and re-read on reload; a bad edit keeps the
 *   ring in force.
 * - Without it, one random 32-byte key is generated on first start and kept
 *   (mode 0600) in a file next to the state file, so a restart keeps every
 *   ticket valid. Rotating such a key means configuring a keys file.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";
import type { ParseResult, SpecError } from "../config/app-spec.js";
import { MIN_SECRET_BYTES } from "../tickets/signing-keys.js";
import type { KeyRing } from "../tickets/types.js";
import { writeFileAtomic } from "./atomic-write.js";

export const GENERATED_KEY_FORMAT = "ticketplane-generated-key";

export type KeySource = { readonly kind: "file"; readonly file: string } | { readonly kind: "generated"; readonly file: string };

export interface LoadedKeys {
  readonly ring: KeyRing;
  readonly source: KeySource;
  /** True when the generated key was created by this call. */
  readonly created?: boolean;
}

export type KeyLoad = { readonly ok: true; readonly value: LoadedKeys } | { readonly ok: false; readonly file: string; readonly errors: readonly SpecError[] };

export interface KeyStoreOptions {
  readonly keysFile?: string;
  /** Where a generated key lives when no keys file is configured. */
  readonly generatedKeyFile: string;
  readonly parseKeyFile: (text: string) => ParseResult<KeyRing>;
  readonly logger: Logger;
}

/** Reads (or creates) the key ring. Bad key-file content is a returned value; I/O failures throw TP_IO. */
export async function loadKeys(options: KeyStoreOptions): Promise<KeyLoad> {
  if (options.keysFile !== undefined) {
    const file = options.keysFile;
    const text = await readText(file);
    if (text === undefined) return { ok: false, file, errors: [{ path: "keys.file", value: file, rule: "the keys file must exist and be readable" }] };
    const parsed = options.parseKeyFile(text);
    if (!parsed.ok) return { ok: false, file, errors: parsed.errors };
    return { ok: true, value: { ring: parsed.value, source: { kind: "file", file } } };
  }
  return { ok: true, value: await generatedKey(options.generatedKeyFile, options.logger) };
}

async function generatedKey(file: string, logger: Logger): Promise<LoadedKeys> {
  const source: KeySource = { kind: "generated", file };
  const text = await readText(file);
  if (text !== undefined) {
    const ring = parseGenerated(text);
    if (ring === undefined) throw new TicketplaneError(ERROR_CODES.STATE_CORRUPT, `generated key file ${file} is not ours; remove it (existing tickets become invalid) or configure keys.file`, { file });
    return { ring, source };
  }
  const id = `gen-${randomBytes(4).toString("hex")}`;
  const secret = randomBytes(MIN_SECRET_BYTES);
  await writeFileAtomic(file, JSON.stringify({ format: GENERATED_KEY_FORMAT, id, secret: secret.toString("base64url") }) + "\n", 0o600);
  logger.info("generated a ticket signing key (no keys.file configured)", { file, id });
  return { ring: { active: id, keys: [{ id, secret: new Uint8Array(secret) }] }, source, created: true };
}

function parseGenerated(text: string): KeyRing | undefined {
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
  return { active: id, keys: [{ id, secret: new Uint8Array(bytes) }] };
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new TicketplaneError(ERROR_CODES.IO, `cannot read ${file}`, { file }, { cause: err });
  }
}
