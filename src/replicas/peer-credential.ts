/**
 * The shared credential of the internal peer API, derived from the signing
 * key ring every replica already reads (the key Secret): per key,
 * HMAC-SHA256(secret, "ticketplane peer api v1"), sent as
 * `authorization: Bearer <key id>.<mac>`. A caller signs with the active
 * key; a callee accepts any key of its ring, so a rotation (a key added,
 * then made active, then removed) never locks replicas out of each other.
 * Compared in constant time. The bearer is static per key: the mesh's mTLS
 * keeps it off the wire in clear; it proves the caller reads the Secret.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { KeyRing } from "../config/key-ring.js";

export const PEER_AUTH_HEADER = "authorization";
const CONTEXT = "ticketplane peer api v1";
const SCHEME = "Bearer ";

/** A key's MAC never changes: computed once per secret (an HMAC from raw key bytes costs about 16 µs, on every peer call otherwise). */
const macs = new WeakMap<Uint8Array, Buffer>();

function macOf(secret: Uint8Array): Buffer {
  let mac = macs.get(secret);
  if (mac === undefined) macs.set(secret, (mac = createHmac("sha256", secret).update(CONTEXT).digest()));
  return mac;
}

/** The `authorization` value a caller sends: its ring's active key. */
export function peerBearer(ring: KeyRing): string {
  const key = ring.keys.find((k) => k.id === ring.active);
  // checkKeyRing guarantees the active key is in the ring; an empty bearer is refused by every peer.
  if (key === undefined) return "";
  return `${SCHEME}${key.id}.${macOf(key.secret).toString("base64url")}`;
}

/** Why a presented `authorization` value is refused, or undefined when it matches a key of `ring`. */
export function checkPeerBearer(ring: KeyRing, presented: unknown): "missing" | "malformed" | "unknown_key" | "mismatch" | undefined {
  if (typeof presented !== "string" || presented === "") return "missing";
  if (!presented.startsWith(SCHEME)) return "malformed";
  const value = presented.slice(SCHEME.length);
  const dot = value.indexOf(".");
  if (dot <= 0) return "malformed";
  const key = ring.keys.find((k) => k.id === value.slice(0, dot));
  if (key === undefined) return "unknown_key";
  const given = Buffer.from(value.slice(dot + 1), "base64url");
  const expected = macOf(key.secret);
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : "mismatch";
}
