import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { prng } from "../../test/support/prng.js";
import { HmacSha256 } from "./hmac-sha256.js";

describe("HmacSha256", () => {
  it("writes createHmac's MAC for keys shorter than, as long as and longer than a block, over messages of every size", () => {
    const r = prng(11);
    const byte = (): number => Math.floor(r() * 256);
    for (const keyLength of [1, 32, 63, 64, 65, 100, 200]) {
      const secret = Uint8Array.from({ length: keyLength }, byte);
      const ours = new HmacSha256(secret);
      // Long then short messages: the shared scratch buffer is reused, and only the message's own bytes may count.
      for (const length of [0, 1, 55, 56, 64, 119, 120, 2048, 5000, 3, 170]) {
        const message = Array.from({ length }, () => String.fromCharCode(r() < 0.9 ? 0x20 + Math.floor(r() * 95) : 0xa0 + Math.floor(r() * 0x2000))).join("");
        assert.equal(ours.mac(message), createHmac("sha256", secret).update(message, "utf8").digest("base64url"), `key ${String(keyLength)} B, message ${String(length)} chars`);
      }
    }
  });

  it("keeps each key's MAC apart when keys take turns", () => {
    const message = "t1.k1.payload";
    const a = new HmacSha256(new Uint8Array(32).fill(1));
    const b = new HmacSha256(new Uint8Array(32).fill(2));
    for (let i = 0; i < 3; i++) {
      assert.equal(a.mac(message), createHmac("sha256", new Uint8Array(32).fill(1)).update(message).digest("base64url"));
      assert.equal(b.mac(message), createHmac("sha256", new Uint8Array(32).fill(2)).update(message).digest("base64url"));
    }
  });
});
