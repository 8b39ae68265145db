import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SpecError } from "./app-spec.js";
import { MIN_SECRET_BYTES as TICKETS_MIN_SECRET_BYTES, SigningKeys } from "../tickets/signing-keys.js";
import { MIN_SECRET_BYTES, parseKeyFile } from "./key-file.js";

const S32 = Buffer.alloc(32, 7).toString("base64");
const S48URL = Buffer.alloc(48, 0xfb).toString("base64url");

function errorsOf(text: string): readonly SpecError[] {
  const r = parseKeyFile(text);
  assert.ok(!r.ok, "expected errors");
  return r.errors;
}

describe("parseKeyFile", () => {
  it("reads the active key id and every key's decoded secret", () => {
    const r = parseKeyFile(`active: k2\nkeys:\n  - { id: k1, secret: "${S32}" }\n  - { id: k2, secret: "${S48URL}" }\n`);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.active, "k2");
    assert.deepEqual(r.value.keys.map((k) => [k.id, k.secret.length]), [["k1", 32], ["k2", 48]]);
    assert.ok(r.value.keys[0]?.secret instanceof Uint8Array);
    assert.equal(r.value.keys[0]?.secret[0], 7);
    assert.equal(r.value.keys[1]?.secret[0], 0xfb);
  });

  const bad: [string, string, SpecError[]][] = [
    ["active must name a key", `active: k9\nkeys: [{ id: k1, secret: "${S32}" }]`, [{ path: "active", value: "k9", rule: 'must name a key in keys ("k1")' }]],
    ["active required", `keys: [{ id: k1, secret: "${S32}" }]`, [{ path: "active", value: undefined, rule: "is required" }]],
    ["keys non-empty", "active: k1\nkeys: []", [{ path: "keys", value: [], rule: "must be a non-empty list of { id, secret }" }, { path: "active", value: "k1", rule: "must name a key in keys (none)" }]],
    ["ids unique", `active: k1\nkeys:\n  - { id: k1, secret: "${S32}" }\n  - { id: k1, secret: "${S32}" }`, [{ path: "keys[1].id", value: "k1", rule: "must be unique (also keys[0])" }]],
    ["ids URL-safe", `active: k1\nkeys:\n  - { id: k1, secret: "${S32}" }\n  - { id: "k/2", secret: "${S32}" }`, [{ path: "keys[1].id", value: "k/2", rule: "must be URL-safe: 1–32 of A–Z a–z 0–9 _ -" }]],
    ["secret ≥ 32 bytes, value not echoed", `active: k1\nkeys: [{ id: k1, secret: "${Buffer.alloc(31).toString("base64")}" }]`, [{ path: "keys[0].secret", value: "<redacted, 44 bytes>", rule: "must decode to at least 32 bytes (decodes to 31)" }]],
    ["secret base64", "active: k1\nkeys: [{ id: k1, secret: 'not base64 at all!' }]", [{ path: "keys[0].secret", value: "<redacted, 18 bytes>", rule: "must be base64 (or base64url)" }]],
    ["secret required", "active: k1\nkeys: [{ id: k1 }]", [{ path: "keys[0].secret", value: undefined, rule: "is required" }]],
    ["unknown field", `active: k1\nkeys: [{ id: k1, secret: "${S32}", alg: hs256 }]`, [{ path: "keys[0].alg", value: "<redacted, 5 bytes>", rule: "unknown field" }]],
    ["a mapping", "- a", [{ path: "", value: ["a"], rule: "must be a mapping { active, keys }, not a list" }]],
  ];
  for (const [title, text, expected] of bad) it(title, () => assert.deepEqual(errorsOf(text), expected));

  it("reports YAML syntax errors with a line", () => {
    assert.match(errorsOf("active: [k1\n")[0]?.path ?? "", /^line \d+, column \d+$/);
  });

  it("never echoes a secret in any error", () => {
    const secret = "c2VjcmV0LXNob3J0";
    for (const e of errorsOf(`active: k1\nkeys: [{ id: k1, secret: "${secret}" }]`)) assert.ok(!JSON.stringify(e).includes(secret));
  });

  it("uses the one secret minimum, 32 bytes, that the signing keys enforce too", () => {
    assert.equal(MIN_SECRET_BYTES, 32);
    assert.equal(MIN_SECRET_BYTES, TICKETS_MIN_SECRET_BYTES);
    for (const bytes of [16, 31]) {
      assert.throws(() => new SigningKeys({ active: "k", keys: [{ id: "k", secret: new Uint8Array(bytes) }] }), /at least 32 required/, `${bytes} bytes`);
      assert.ok(!parseKeyFile(`active: k\nkeys: [{ id: k, secret: "${Buffer.alloc(bytes).toString("base64")}" }]`).ok, `${bytes} bytes`);
    }
    assert.ok(new SigningKeys({ active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] }).has("k"));
  });
});
