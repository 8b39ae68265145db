/**
 * The signed envelope shared by ticket and queue tokens:
 * `<prefix>.<kid>.<base64url payload>.<base64url HMAC-SHA256>`, where the MAC
 * covers everything before the last dot. Opening never throws: any garbage is
 * `malformed`. The MAC is compared in constant time on its base64url text,
 * which (unlike comparing decoded bytes) also rejects non-canonical encodings.
 */
import { timingSafeEqual } from "node:crypto";
import type { SigningKeys } from "./signing-keys.js";

/** Tokens longer than this are refused before any work is done. */
export const MAX_TOKEN_LENGTH = 2048;
/** base64url length of a 32-byte MAC without padding. */
const MAC_CHARS = 43;

export type EnvelopeRejection = "malformed" | "unknown_key" | "forged";
export type Opened = { readonly ok: true; readonly payload: Buffer } | { readonly ok: false; readonly reason: EnvelopeRejection };

const MALFORMED: Opened = Object.freeze({ ok: false, reason: "malformed" });
const UNKNOWN_KEY: Opened = Object.freeze({ ok: false, reason: "unknown_key" });
const FORGED: Opened = Object.freeze({ ok: false, reason: "forged" });

/** A token kind: its prefix (e.g. "t1") and the exact shape it must have. */
export class Envelope {
  readonly prefix: string;
  readonly #shape: RegExp;

  constructor(prefix: string) {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) throw new Error(`bad envelope prefix ${prefix}`);
    this.prefix = prefix;
    // Character classes exclude '.', so matching is linear in the input.
    this.#shape = new RegExp(`^${prefix}\\.([A-Za-z0-9_-]{1,32})\\.([A-Za-z0-9_-]{2,${MAX_TOKEN_LENGTH}})\\.[A-Za-z0-9_-]{${MAC_CHARS}}$`);
  }

  /** Signs `payload` with the active key. */
  seal(keys: SigningKeys, payload: Buffer): string {
    const body = `${this.prefix}.${keys.active}.${payload.toString("base64url")}`;
    return `${body}.${keys.mac(keys.active, body) ?? ""}`;
  }

  /** Checks shape, key id and MAC, then returns the decoded payload. */
  open(keys: SigningKeys, token: unknown): Opened {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) return MALFORMED;
    const m = this.#shape.exec(token);
    if (m === null) return MALFORMED;
    const kid = m[1];
    const cut = token.length - MAC_CHARS - 1;
    const expected = keys.mac(kid, token.slice(0, cut));
    if (expected === undefined) return UNKNOWN_KEY;
    // The shape check guarantees ASCII, so latin1 is byte-for-byte.
    if (!timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(token.slice(cut + 1), "latin1"))) return FORGED;
    return { ok: true, payload: Buffer.from(m[2], "base64url") };
  }
}
