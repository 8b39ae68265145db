/**
 * The key ring as the token code uses it: every key verifies, only the
 * active one signs. Each key's HMAC pads are derived once (hmac-sha256.ts),
 * so neither signing nor verifying touches the secret again.
 */
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { checkKeyRing, type KeyRing } from "../config/key-ring.js";
import { HmacSha256 } from "./hmac-sha256.js";

export { KEY_ID_PATTERN, MIN_SECRET_BYTES, checkKeyRing } from "../config/key-ring.js";

/** An immutable, validated key ring with cached HMAC keys. */
export class SigningKeys {
  readonly active: string;
  readonly #keys = new Map<string, HmacSha256>();

  /** Throws TicketplaneError(INVALID_CONFIG) when the ring is unusable (a configuration bug, found at start-up). */
  constructor(ring: KeyRing) {
    const errors = checkKeyRing(ring);
    if (errors.length > 0) {
      throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `invalid ticket key ring: ${errors.join("; ")}`, { field: "keys" });
    }
    this.active = ring.active;
    for (const key of ring.keys) this.#keys.set(key.id, new HmacSha256(key.secret));
  }

  has(kid: string): boolean {
    return this.#keys.has(kid);
  }

  /** base64url HMAC-SHA256 of `data` under key `kid`, or undefined for an unknown key id. */
  mac(kid: string, data: string): string | undefined {
    const key = this.#keys.get(kid);
    if (key === undefined) return undefined;
    return key.mac(data);
  }
}
