/**
 * The key ring as the token code uses it: every key verifies, only the
 * active one signs. HMAC key objects are built once per key id so that
 * verification does not re-import the secret on every call.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { KeyRing } from "./types.js";

/** Key ids travel inside tokens, so they are short and URL-safe. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** HMAC-SHA256 keys shorter than this (the hash size) are too weak to accept. The one definition: key files and generated keys use it too. */
export const MIN_SECRET_BYTES = 32;

/** Every problem with a key ring, as readable sentences (empty when the ring is usable). */
export function checkKeyRing(ring: KeyRing): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const [i, key] of ring.keys.entries()) {
    if (!KEY_ID_PATTERN.test(key.id)) errors.push(`keys[${i}].id: ${JSON.stringify(key.id)} must match ${String(KEY_ID_PATTERN)}`);
    if (seen.has(key.id)) errors.push(`keys[${i}].id: ${JSON.stringify(key.id)} is listed twice`);
    seen.add(key.id);
    if (key.secret.byteLength < MIN_SECRET_BYTES) errors.push(`keys[${i}].secret: ${key.secret.byteLength} bytes, at least ${MIN_SECRET_BYTES} required`);
  }
  if (!seen.has(ring.active)) errors.push(`active: ${JSON.stringify(ring.active)} is not a key id in the ring`);
  return errors;
}

/** An immutable, validated key ring with cached HMAC keys. */
export class SigningKeys {
  readonly active: string;
  readonly #keys = new Map<string, KeyObject>();

  /** Throws TicketplaneError(INVALID_CONFIG) when the ring is unusable (a configuration bug, found at start-up). */
  constructor(ring: KeyRing) {
    const errors = checkKeyRing(ring);
    if (errors.length > 0) {
      throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `invalid ticket key ring: ${errors.join("; ")}`, { field: "keys" });
    }
    this.active = ring.active;
    for (const key of ring.keys) this.#keys.set(key.id, createSecretKey(key.secret));
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** base64url HMAC-SHA256 of `data` under key `kid`, or undefined for an unknown key id. */
  mac(kid: string, data: string): string | undefined {
    const key = this.#keys.get(kid);
    if (key === undefined) return undefined;
    return createHmac("sha256", key).update(data).digest("base64url");
  }
}
