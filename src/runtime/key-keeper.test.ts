import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import type { KeyRing } from "../tickets/types.js";
import { SigningKeyKeeper } from "./key-keeper.js";
import type { KeyLoad, KeyProvider } from "./ports.js";

const ring = (active: string, ...ids: string[]): KeyRing => ({ active, keys: [active, ...ids].map((id) => ({ id, secret: Buffer.alloc(32, id) })) });

/** A provider that answers from a script: a load, or a throw. */
class ScriptedProvider implements KeyProvider {
  next: KeyLoad | Error = { ok: true, ring: ring("k1"), source: { kind: "test" } };
  load(): Promise<KeyLoad> {
    return this.next instanceof Error ? Promise.reject(this.next) : Promise.resolve(this.next);
  }
}

describe("SigningKeyKeeper", () => {
  it("refuses to start on unusable keys, naming every problem", async () => {
    const provider = new ScriptedProvider();
    provider.next = { ok: false, where: "/etc/tp/keys.yaml", errors: [{ path: "keys[0].secret", value: "<redacted, 8 bytes>", rule: "must decode to at least 32 bytes" }] };
    await assert.rejects(new SigningKeyKeeper(provider, new RecordingLogger()).load(), (err: Error & { code?: string }) => {
      assert.equal(err.code, "TP_INVALID_CONFIG");
      assert.match(err.message, /\/etc\/tp\/keys\.yaml.*keys\[0\]\.secret.*at least 32 bytes/);
      return true;
    });
  });

  it("a reload that fails in any way keeps the keys in force and says why; it never rejects", async () => {
    const provider = new ScriptedProvider();
    const logger = new RecordingLogger();
    const keeper = new SigningKeyKeeper(provider, logger);
    const holder = { rings: [] as KeyRing[], setKeys(r: KeyRing): void {
      if (r.active === "bad") throw new Error("invalid ticket key ring");
      this.rings.push(r);
    } };
    keeper.attach(holder);
    await keeper.load();
    for (const failure of [new Error("EISDIR: illegal operation on a directory"), { ok: false as const, where: "keys.yaml", errors: [{ path: "active", value: "k9", rule: "must name a key" }] }, { ok: true as const, ring: ring("bad"), source: { kind: "test" } }]) {
      provider.next = failure;
      await keeper.reload();
      assert.equal(keeper.status()?.active, "k1");
      assert.match(keeper.status()?.error ?? "", /the keys in force stay/);
    }
    assert.deepEqual(holder.rings, []);
    provider.next = { ok: true, ring: ring("k2", "k1"), source: { kind: "test" } };
    await keeper.reload();
    assert.deepEqual([keeper.status()?.active, keeper.status()?.ids, keeper.status()?.error], ["k2", ["k2", "k1"], undefined]);
    assert.equal(holder.rings.length, 1);
    assert.equal(logger.at("error").length, 3);
  });
});
