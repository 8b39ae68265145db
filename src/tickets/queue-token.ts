/**
 * Queue tokens (the queue cookie): `q1.<kid>.<payload>.<mac>`, so a client
 * cannot forge a place in line. Payload: u8 layout=1, u48 issuedAt ms,
 * str app, str queue entry id. They do not expire by themselves: the entry
 * they name is dropped from the queue when its client stops coming back.
 */
import type { AppKey } from "../config/app-spec.js";
import { PayloadReader, PayloadWriter } from "./payload-codec.js";
import type { SigningKeys } from "./signing-keys.js";
import { Envelope } from "./token-envelope.js";

export interface QueueClaims {
  readonly app: AppKey;
  readonly id: string;
  readonly issuedAt: number;
}

export type QueueTokenCheck =
  | { readonly ok: true; readonly claims: QueueClaims }
  | { readonly ok: false; readonly reason: "malformed" | "unknown_key" | "forged" | "wrong_app" };

const LAYOUT = 1;
const envelope = new Envelope("q1");

export function signQueueToken(keys: SigningKeys, c: QueueClaims): string {
  return envelope.seal(keys, new PayloadWriter().u8(LAYOUT).u48(c.issuedAt).str(c.app).str(c.id).toBuffer());
}

/** Verifies a presented queue token for `app`. Never throws. */
export function verifyQueueToken(keys: SigningKeys, token: unknown, app: AppKey): QueueTokenCheck {
  const opened = envelope.open(keys, token);
  if (!opened.ok) return opened;
  const r = new PayloadReader(opened.payload);
  const layout = r.u8();
  const issuedAt = r.u48();
  const claimApp = r.str();
  const id = r.str();
  if (!r.done() || layout !== LAYOUT || id === "") return { ok: false, reason: "malformed" };
  if (claimApp !== app) return { ok: false, reason: "wrong_app" };
  return { ok: true, claims: { app: claimApp, id, issuedAt } };
}
