/**
 * The key ring as the token code uses it: every key verifies, only the
 * active one signs. HMAC key objects are built once per key id so that
 * verification does not re-import the secret on every call.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { checkKeyRing, type KeyRing } from "../config/key-ring.js";

export { KEY_ID_PATTERN, MIN_SECRET_BYTES, checkKeyRing } from "../config/key-ring.js";

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
