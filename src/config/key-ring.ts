/**
 * The signing key ring and its rules, defined once: the keys file parser,
 * a generated key and the ticket core all check a ring against these.
 */

/** A signing key. Tokens carry the key id; every key in the ring verifies, only `active` signs. */
export interface SigningKey {
  readonly id: string;
  readonly secret: Uint8Array;
}

export interface KeyRing {
  readonly active: string;
  readonly keys: readonly SigningKey[];
}

/** Key ids travel inside every token, so they are short and URL-safe. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
export const KEY_ID_RULE = "must be URL-safe: 1–32 of A–Z a–z 0–9 _ -";
/** HMAC-SHA256 keys shorter than the hash (32 bytes) are too weak to accept. */
export const MIN_SECRET_BYTES = 32;

/** Every problem with a key ring, as readable sentences (empty when the ring is usable). Never shows a secret. */
export function checkKeyRing(ring: KeyRing): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const [i, key] of ring.keys.entries()) {
    if (!KEY_ID_PATTERN.test(key.id)) errors.push(`keys[${i}].id: ${JSON.stringify(key.id)} ${KEY_ID_RULE}`);
    if (seen.has(key.id)) errors.push(`keys[${i}].id: ${JSON.stringify(key.id)} is listed twice`);
    seen.add(key.id);
    if (key.secret.byteLength < MIN_SECRET_BYTES) errors.push(`keys[${i}].secret: ${key.secret.byteLength} bytes, at least ${MIN_SECRET_BYTES} required`);
  }
  if (!seen.has(ring.active)) errors.push(`active: ${JSON.stringify(ring.active)} is not a key id in the ring`);
  return errors;
}
