/**
 * Ticket tokens (the ticket cookie): `t1.<kid>.<payload>.<mac>`.
 * Payload layout (binary, then base64url): u8 layout=1, u48 issuedAt ms,
 * u48 expiresAt ms, u16 slot, str app, str pod, str ticket id.
 * Tokens are self-describing so a new owner can rebuild a ledger from them.
 */
import type { AppKey } from "../config/app-spec.js";
import { PayloadReader, PayloadWriter } from "./payload-codec.js";
import type { SigningKeys } from "./signing-keys.js";
import { Envelope } from "./token-envelope.js";

export interface TicketClaims {
  readonly app: AppKey;
  readonly pod: string;
  readonly slot: number;
  readonly id: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export type TicketTokenRejection = "malformed" | "unknown_key" | "forged" | "expired" | "wrong_app";

/**
 * Result of verification. For `expired` and `wrong_app` the signature was
 * good, so the claims are given too (e.g. to release the expired ticket).
 */
export type TicketTokenCheck =
  | { readonly ok: true; readonly claims: TicketClaims }
  | { readonly ok: false; readonly reason: TicketTokenRejection; readonly claims?: TicketClaims };

const LAYOUT = 1;
const envelope = new Envelope("t1");

export function signTicketToken(keys: SigningKeys, c: TicketClaims): string {
  const payload = new PayloadWriter().u8(LAYOUT).u48(c.issuedAt).u48(c.expiresAt).u16(c.slot).str(c.app).str(c.pod).str(c.id).toBuffer();
  return envelope.seal(keys, payload);
}

/** How many verified tokens each key ring remembers (about 300 B each). */
export const VERIFIED_TOKENS_KEPT = 8_192;

/**
 * Claims of tokens whose shape, MAC and payload checked out, per key ring.
 * A browser presents the same cookie on every request of a session, and the
 * HMAC is most of what verifying costs (Envoy's jwt_authn caches verified
 * JWTs for the same reason). Only a token that verified is kept, keyed by
 * its exact text, so a forged or altered token always meets the MAC. Keyed
 * by the SigningKeys object: a new ring (rotation, a key removed) starts
 * empty. App and expiry are checked on every call. Bounded: when full, the
 * oldest entry goes.
 */
type Verified = Extract<TicketTokenCheck, { ok: true }>;
const verified = new WeakMap<SigningKeys, Map<string, Verified>>();

/**
 * Verifies a presented ticket token for `app` at time `now`. Never throws.
 * Order: shape → key id → MAC (constant time) → payload → app → expiry.
 */
export function verifyTicketToken(keys: SigningKeys, token: unknown, app: AppKey, now: number): TicketTokenCheck {
  const opened = typeof token === "string" ? (verified.get(keys)?.get(token) ?? openClaims(keys, token)) : openClaims(keys, token);
  if (!opened.ok) return opened;
  const claims = opened.claims;
  if (claims.app !== app) return { ok: false, reason: "wrong_app", claims };
  if (now >= claims.expiresAt) return { ok: false, reason: "expired", claims };
  return opened;
}

/** Shape, MAC and payload; a token that passes is remembered for its ring. */
function openClaims(keys: SigningKeys, token: unknown): TicketTokenCheck {
  const opened = envelope.open(keys, token);
  if (!opened.ok) return opened;
  const r = new PayloadReader(opened.payload);
  const layout = r.u8();
  const issuedAt = r.u48();
  const expiresAt = r.u48();
  const slot = r.u16();
  const claimApp = r.str();
  const pod = r.str();
  const id = r.str();
  if (!r.done() || layout !== LAYOUT || id === "" || pod === "") return { ok: false, reason: "malformed" };
  const check = Object.freeze({ ok: true as const, claims: Object.freeze({ app: claimApp, pod, slot, id, issuedAt, expiresAt }) });
  remember(keys, token as string, check);
  return check;
}

function remember(keys: SigningKeys, token: string, check: Verified): void {
  let kept = verified.get(keys);
  if (kept === undefined) verified.set(keys, (kept = new Map<string, Verified>()));
  if (kept.size >= VERIFIED_TOKENS_KEPT) kept.delete(kept.keys().next().value as string);
  kept.set(token, check);
}

/** How many verified tokens `keys` remembers (for tests and status). */
export function verifiedTokensKept(keys: SigningKeys): number {
  return verified.get(keys)?.size ?? 0;
}
