import assert from "node:assert/strict";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { silentLogger } from "../common/logger.js";
import type { ParseResult } from "../config/app-spec.js";
import type { KeyRing } from "../tickets/types.js";
import { loadKeys } from "./key-store.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "tp-keys-"));
  dirs.push(d);
  return d;
}

const ring: KeyRing = { active: "k2", keys: [{ id: "k1", secret: new Uint8Array(32) }, { id: "k2", secret: new Uint8Array(32).fill(1) }] };
const parser = (text: string): ParseResult<KeyRing> => (text === "good" ? { ok: true, value: ring } : { ok: false, errors: [{ path: "keys[0].secret", value: text, rule: "must be base64 of at least 32 bytes" }] });

describe("loadKeys", () => {
  it("generates one 32-byte key with mode 0600 and reuses it on the next start", async () => {
    const dir = await tempDir();
    const file = join(dir, "tp.key.json");
    const first = await loadKeys({ generatedKeyFile: file, parseKeyFile: parser, logger: silentLogger });
    assert.ok(first.ok);
    assert.equal(first.value.created, true);
    assert.equal(first.value.ring.keys[0]?.secret.length, 32);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const second = await loadKeys({ generatedKeyFile: file, parseKeyFile: parser, logger: silentLogger });
    assert.ok(second.ok);
    assert.equal(second.value.created, undefined);
    assert.deepEqual(second.value.ring, first.value.ring);
  });

  it("refuses a generated key file that is not ours instead of silently replacing it", async () => {
    const dir = await tempDir();
    const file = join(dir, "tp.key.json");
    await writeFile(file, "{nope");
    await assert.rejects(loadKeys({ generatedKeyFile: file, parseKeyFile: parser, logger: silentLogger }), { code: "TP_STATE_CORRUPT" });
  });

  it("reads a configured keys file through the parser, and returns its errors", async () => {
    const dir = await tempDir();
    const keysFile = join(dir, "keys.yaml");
    await writeFile(keysFile, "good");
    const ok = await loadKeys({ keysFile, generatedKeyFile: join(dir, "unused"), parseKeyFile: parser, logger: silentLogger });
    assert.ok(ok.ok);
    assert.deepEqual(ok.value.source, { kind: "file", file: keysFile });
    assert.equal(ok.value.ring.active, "k2");
    await writeFile(keysFile, "bad");
    const bad = await loadKeys({ keysFile, generatedKeyFile: join(dir, "unused"), parseKeyFile: parser, logger: silentLogger });
    assert.equal(bad.ok, false);
    assert.equal(bad.ok ? "" : bad.errors[0]?.path, "keys[0].secret");
  });

  it("reports a missing keys file as a config error", async () => {
    const dir = await tempDir();
    const r = await loadKeys({ keysFile: join(dir, "missing.yaml"), generatedKeyFile: join(dir, "unused"), parseKeyFile: parser, logger: silentLogger });
    assert.equal(r.ok, false);
    assert.equal(r.ok ? "" : r.errors[0]?.path, "keys.file");
  });
});
