/**
 * HMAC-SHA256 (RFC 2104) as two one-shot hashes over pads derived from the
 * key once: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)). `crypto.createHmac` sets up
 * an OpenSSL MAC context per call (its native `init` looks the digest up
 * and re-derives the pads from the key): in the Check server's CPU profile
 * that set-up cost more than the rest of signing a ticket, while in a tight
 * loop it looks cheap. `crypto.hash` is Node's one-shot digest with its
 * algorithm fetched once. The bytes are exactly createHmac's (a test
 * compares them over many keys and messages).
 *
 * The scratch buffer is shared: every call finishes before it returns.
 */
import { hash } from "node:crypto";

const BLOCK = 64;
const DIGEST = 32;

/** ipad ‖ message, grown as messages need. */
let inner = Buffer.alloc(BLOCK + 256);

export class HmacSha256 {
  readonly #ipad: Buffer;
  /** opad ‖ inner digest: the outer hash's whole input. */
  readonly #outer = Buffer.alloc(BLOCK + DIGEST);

  constructor(secret: Uint8Array) {
    // A key longer than a block is hashed first; a shorter one is padded with zeros.
    const key = secret.length > BLOCK ? hash("sha256", secret, "buffer") : secret;
    this.#ipad = Buffer.alloc(BLOCK);
    for (let i = 0; i < BLOCK; i++) {
      const k = key[i] ?? 0;
      this.#ipad[i] = 0x36 ^ k;
      this.#outer[i] = 0x5c ^ k;
    }
  }

  /** base64url HMAC-SHA256 of `data` (UTF-8). */
  mac(data: string): string {
    const length = Buffer.byteLength(data, "utf8");
    if (inner.length < BLOCK + length) inner = Buffer.alloc(2 * (BLOCK + length));
    this.#ipad.copy(inner, 0);
    inner.write(data, BLOCK, "utf8");
    hash("sha256", inner.subarray(0, BLOCK + length), "buffer").copy(this.#outer, BLOCK);
    return hash("sha256", this.#outer, "base64url");
  }
}
