import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SigningKeys, checkKeyRing } from "./signing-keys.js";
import { keyRing } from "./tickets.fixture.js";
import { VERIFIED_TOKENS_KEPT, signTicketToken, verifiedTokensKept, verifyTicketToken, type TicketClaims } from "./ticket-token.js";
import { MAX_TOKEN_LENGTH } from "./token-envelope.js";

const NOW = Date.UTC(2026, 0, 1);
const claims: TicketClaims = { app: "ns/app", pod: "app-7d9f-x2", slot: 3, id: "abcDEF123_-x", issuedAt: NOW, expiresAt: NOW + 3600_000 };
const keys = new SigningKeys(keyRing("k1", "k0"));
const good = signTicketToken(keys, claims);

/** Replaces the character at `i` with a different base64url character. */
function flip(s: string, i: number): string {
  const c = s[i] === "A" ? "B" : "A";
  return s.slice(0, i) + c + s.slice(i + 1);
}
const parts = good.split(".");
const [, , payload = "", mac = ""] = parts;

describe("ticket tokens", () => {
  it("is compact and URL-safe", () => {
    assert.match(good, /^t1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.ok(good.length < 160, `${good.length} chars`);
  });

  it("round-trips its claims", () => {
    assert.deepEqual(verifyTicketToken(keys, good, "ns/app", NOW + 1), { ok: true, claims });
  });

  it("round-trips non-ASCII names", () => {
    const c = { ...claims, pod: "pöd-ü", app: "ns/äpp" };
    assert.deepEqual(verifyTicketToken(keys, signTicketToken(keys, c), "ns/äpp", NOW), { ok: true, claims: c });
  });

  const rejections: { name: string; token: unknown; app?: string; now?: number; reason: string }[] = [
    { name: "not a string", token: 42, reason: "malformed" },
    { name: "undefined", token: undefined, reason: "malformed" },
    { name: "empty", token: "", reason: "malformed" },
    { name: "garbage", token: "hello world", reason: "malformed" },
    { name: "wrong prefix", token: "q1" + good.slice(2), reason: "malformed" },
    { name: "queue token prefix", token: good.replace(/^t1/, "t2"), reason: "malformed" },
    { name: "missing mac", token: parts.slice(0, 3).join("."), reason: "malformed" },
    { name: "truncated mac", token: good.slice(0, -1), reason: "malformed" },
    { name: "truncated in payload", token: good.slice(0, 20), reason: "malformed" },
    { name: "extra segment", token: good + ".x", reason: "malformed" },
    { name: "padding in mac", token: good.slice(0, -1) + "=", reason: "malformed" },
    { name: "non-ASCII in mac", token: good.slice(0, -1) + "\u0141", reason: "malformed" },
    { name: "non-ASCII in payload", token: good.replace(payload, payload.slice(0, -1) + "é"), reason: "malformed" },
    { name: "huge", token: "t1.k1." + "A".repeat(10 * MAX_TOKEN_LENGTH) + "." + mac, reason: "malformed" },
    { name: "huge garbage", token: ".".repeat(1e6), reason: "malformed" },
    { name: "unknown key id", token: good.replace("t1.k1.", "t1.k9."), reason: "unknown_key" },
    { name: "kid swapped to another ring key", token: good.replace("t1.k1.", "t1.k0."), reason: "forged" },
    { name: "tampered payload", token: good.replace(payload, flip(payload, 5)), reason: "forged" },
    { name: "tampered mac (last char)", token: flip(good, good.length - 1), reason: "forged" },
    { name: "tampered mac (first char)", token: good.replace(mac, flip(mac, 0)), reason: "forged" },
    { name: "other app", token: good, app: "ns/other", reason: "wrong_app" },
    { name: "at expiry", token: good, now: claims.expiresAt, reason: "expired" },
    { name: "past expiry", token: good, now: claims.expiresAt + 1, reason: "expired" },
  ];
  for (const r of rejections) {
    it(`rejects ${r.name} as ${r.reason}`, () => {
      const check = verifyTicketToken(keys, r.token, r.app ?? "ns/app", r.now ?? NOW);
      assert.equal(check.ok, false);
      if (!check.ok) assert.equal(check.reason, r.reason);
    });
  }

  it("rejects a well-signed payload with a bad layout as malformed", () => {
    // Re-sign a truncated payload with the real key: MAC fine, layout not.
    const body = `t1.k1.${Buffer.from(payload, "base64url").subarray(0, 10).toString("base64url")}`;
    assert.deepEqual(verifyTicketToken(keys, `${body}.${keys.mac("k1", body)}`, "ns/app", NOW), { ok: false, reason: "malformed" });
    const body2 = `t1.k1.${Buffer.concat([Buffer.from(payload, "base64url"), Buffer.from([0])]).toString("base64url")}`;
    assert.deepEqual(verifyTicketToken(keys, `${body2}.${keys.mac("k1", body2)}`, "ns/app", NOW), { ok: false, reason: "malformed" });
  });

  it("gives the claims with expired and wrong_app (signature was good)", () => {
    const check = verifyTicketToken(keys, good, "ns/app", claims.expiresAt);
    assert.deepEqual(check, { ok: false, reason: "expired", claims });
  });

  it("survives random garbage without throwing", () => {
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 2000; i++) {
      const chars = Array.from({ length: Math.floor(rnd() * 200) }, () => String.fromCharCode(Math.floor(rnd() * 0x3000)));
      const t = rnd() < 0.5 ? chars.join("") : good.slice(0, Math.floor(rnd() * good.length)) + chars.join("");
      assert.equal(verifyTicketToken(keys, t, "ns/app", NOW).ok, false);
    }
  });

  describe("key rotation", () => {
    const oldOnly = new SigningKeys(keyRing("old"));
    const token = signTicketToken(oldOnly, claims);

    it("signs with the active key and verifies with any key in the ring", () => {
      const rotated = new SigningKeys(keyRing("new", "old"));
      assert.equal(verifyTicketToken(rotated, token, "ns/app", NOW).ok, true);
      assert.match(signTicketToken(rotated, claims), /^t1\.new\./);
    });

    it("stops accepting the old key once it leaves the ring", () => {
      const after = new SigningKeys(keyRing("new"));
      assert.deepEqual(verifyTicketToken(after, token, "ns/app", NOW), { ok: false, reason: "unknown_key" });
    });

    it("treats a token under a same-named key with another secret as forged", () => {
      const other = new SigningKeys({ active: "old", keys: [{ id: "old", secret: Buffer.alloc(32, 1) }] });
      assert.deepEqual(verifyTicketToken(other, token, "ns/app", NOW), { ok: false, reason: "forged" });
    });
  });

  describe("remembering verified tokens", () => {
    /** A key ring that counts the MACs it computes. */
    class CountingKeys extends SigningKeys {
      macs = 0;
      override mac(kid: string, data: string): string | undefined {
        this.macs += 1;
        return super.mac(kid, data);
      }
    }

    it("checks a token's MAC once per key ring, and its app and expiry on every call", () => {
      const ring = new CountingKeys(keyRing("k1"));
      const token = signTicketToken(ring, claims);
      ring.macs = 0;
      assert.deepEqual(verifyTicketToken(ring, token, "ns/app", NOW), { ok: true, claims });
      assert.deepEqual(verifyTicketToken(ring, token, "ns/app", NOW + 1), { ok: true, claims });
      assert.equal(ring.macs, 1);
      assert.deepEqual(verifyTicketToken(ring, token, "ns/other", NOW), { ok: false, reason: "wrong_app", claims });
      assert.deepEqual(verifyTicketToken(ring, token, "ns/app", claims.expiresAt), { ok: false, reason: "expired", claims });
      assert.equal(ring.macs, 1);
    });

    it("never lets a remembered token vouch for an altered one", () => {
      const ring = new SigningKeys(keyRing("k1"));
      const token = signTicketToken(ring, claims);
      assert.equal(verifyTicketToken(ring, token, "ns/app", NOW).ok, true);
      assert.deepEqual(verifyTicketToken(ring, flip(token, token.length - 5), "ns/app", NOW), { ok: false, reason: "forged" });
      assert.deepEqual(verifyTicketToken(ring, `${token}A`, "ns/app", NOW), { ok: false, reason: "malformed" });
    });

    it("starts afresh with a new key ring", () => {
      const before = new SigningKeys(keyRing("old"));
      const token = signTicketToken(before, claims);
      assert.equal(verifyTicketToken(before, token, "ns/app", NOW).ok, true);
      assert.deepEqual(verifyTicketToken(new SigningKeys(keyRing("new")), token, "ns/app", NOW), { ok: false, reason: "unknown_key" });
      const sameIdOtherSecret = new SigningKeys({ active: "old", keys: [{ id: "old", secret: Buffer.alloc(32, 1) }] });
      assert.deepEqual(verifyTicketToken(sameIdOtherSecret, token, "ns/app", NOW), { ok: false, reason: "forged" });
    });

    it("keeps a bounded number, the newest", () => {
      const ring = new CountingKeys(keyRing("k1"));
      const tokens = Array.from({ length: VERIFIED_TOKENS_KEPT + 10 }, (_, i) => signTicketToken(ring, { ...claims, id: `t${String(i)}` }));
      for (const t of tokens) assert.equal(verifyTicketToken(ring, t, "ns/app", NOW).ok, true);
      assert.equal(verifiedTokensKept(ring), VERIFIED_TOKENS_KEPT);
      ring.macs = 0;
      verifyTicketToken(ring, tokens.at(-1), "ns/app", NOW);
      assert.equal(ring.macs, 0, "the newest is kept");
      verifyTicketToken(ring, tokens[0], "ns/app", NOW);
      assert.equal(ring.macs, 1, "the oldest went first");
    });
  });

  describe("key ring checks", () => {
    const cases: { name: string; ring: Parameters<typeof checkKeyRing>[0]; error: RegExp }[] = [
      { name: "active not in ring", ring: { active: "x", keys: keyRing("k1").keys }, error: /active/ },
      { name: "bad id", ring: { active: "a.b", keys: [{ id: "a.b", secret: Buffer.alloc(32) }] }, error: /id/ },
      { name: "short secret", ring: { active: "k", keys: [{ id: "k", secret: Buffer.alloc(8) }] }, error: /secret/ },
      { name: "duplicate id", ring: { active: "k", keys: [...keyRing("k").keys, ...keyRing("k").keys] }, error: /twice/ },
    ];
    for (const c of cases) {
      it(`reports ${c.name}`, () => {
        assert.match(checkKeyRing(c.ring).join("\n"), c.error);
        assert.throws(() => new SigningKeys(c.ring), (e: unknown) => e instanceof Error && "code" in e && e.code === "TP_INVALID_CONFIG");
      });
    }
    it("accepts a good ring", () => assert.deepEqual(checkKeyRing(keyRing("a", "b")), []));
  });
});
