import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { signQueueToken, verifyQueueToken } from "./queue-token.js";
import { SigningKeys } from "./signing-keys.js";
import { keyRing } from "./tickets.fixture.js";
import { signTicketToken } from "./ticket-token.js";

const keys = new SigningKeys(keyRing("k1"));
const claims = { app: "ns/app", id: "entry-1", issuedAt: 1_000 };
const token = signQueueToken(keys, claims);

describe("queue tokens", () => {
  it("round-trips", () => {
    assert.match(token, /^q1\.k1\./);
    assert.deepEqual(verifyQueueToken(keys, token, "ns/app"), { ok: true, claims });
  });

  const cases: { name: string; token: unknown; app?: string; reason: string }[] = [
    { name: "garbage", token: "q1.k1.x.y", reason: "malformed" },
    { name: "a ticket token", token: signTicketToken(keys, { app: "ns/app", pod: "p", slot: 0, id: "i", issuedAt: 0, expiresAt: 1 }), reason: "malformed" },
    { name: "unknown key", token: token.replace("q1.k1.", "q1.k2."), reason: "unknown_key" },
    { name: "forged id", token: signQueueToken(new SigningKeys({ active: "k1", keys: [{ id: "k1", secret: Buffer.alloc(32, 9) }] }), claims), reason: "forged" },
    { name: "other app", token, app: "ns/b", reason: "wrong_app" },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} as ${c.reason}`, () => {
      const check = verifyQueueToken(keys, c.token, c.app ?? "ns/app");
      assert.equal(check.ok ? "ok" : check.reason, c.reason);
    });
  }
});
