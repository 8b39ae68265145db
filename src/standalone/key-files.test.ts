import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { silentLogger } from "../common/logger.js";
import type { ParseResult } from "../config/app-spec.js";
import type { KeyRing } from "../tickets/types.js";
import { FileKeyProvider } from "./key-files.js";

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
const parseKeyFile = (text: string): ParseResult<KeyRing> => (text === "good" ? { ok: true, value: ring } : { ok: false, errors: [{ path: "keys[0].secret", value: "<redacted>", rule: "must be base64 of at least 32 bytes" }] });
const provider = (generatedKeyFile: string, keysFile?: string): FileKeyProvider => new FileKeyProvider({ generatedKeyFile, parseKeyFile, logger: silentLogger, ...(keysFile === undefined ? {} : { keysFile }) });

describe("FileKeyProvider", () => {
  it("generates one 32-byte key with mode 0600 and reuses it on the next start", async () => {
    const file = join(await tempDir(), "tp.key.json");
    const first = await provider(file).load();
    assert.ok(first.ok);
    assert.equal(first.source["created"], true);
    assert.equal(first.ring.keys[0]?.secret.length, 32);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const second = await provider(file).load();
    assert.ok(second.ok);
    assert.equal(second.source["created"], undefined);
    assert.deepEqual(second.ring, first.ring);
  });

  it("refuses a generated key file that is not ours instead of silently replacing it", async () => {
    const file = join(await tempDir(), "tp.key.json");
    await writeFile(file, "{nope");
    const r = await provider(file).load();
    assert.ok(!r.ok);
    assert.match(r.errors[0]?.rule ?? "", /not a key ticketplane generated/);
  });

  it("reads a configured keys file through the parser, and returns its errors", async () => {
    const dir = await tempDir();
    const keysFile = join(dir, "keys.yaml");
    await writeFile(keysFile, "good");
    const ok = await provider(join(dir, "unused"), keysFile).load();
    assert.ok(ok.ok);
    assert.deepEqual(ok.source, { kind: "file", file: keysFile });
    assert.equal(ok.ring.active, "k2");
    await writeFile(keysFile, "bad");
    const bad = await provider(join(dir, "unused"), keysFile).load();
    assert.ok(!bad.ok);
    assert.equal(bad.errors[0]?.path, "keys[0].secret");
  });

  it("returns, never throws, a keys file that is missing or cannot be read", async () => {
    const dir = await tempDir();
    const missing = await provider(join(dir, "unused"), join(dir, "missing.yaml")).load();
    assert.ok(!missing.ok);
    assert.equal(missing.errors[0]?.path, "keys.file");
    await mkdir(join(dir, "a-directory.yaml"));
    const unreadable = await provider(join(dir, "unused"), join(dir, "a-directory.yaml")).load();
    assert.ok(!unreadable.ok);
    assert.match(unreadable.errors[0]?.rule ?? "", /EISDIR/);
  });

  it("keeps the generated key verifying (not signing) after moving to a keys file, with a note", async () => {
    const dir = await tempDir();
    const generated = join(dir, "tp.key.json");
    const before = await provider(generated).load();
    assert.ok(before.ok);
    const genId = before.ring.active;
    const keysFile = join(dir, "keys.yaml");
    await writeFile(keysFile, "good");
    const after = await provider(generated, keysFile).load();
    assert.ok(after.ok);
    assert.equal(after.ring.active, "k2", "the keys file's key signs");
    assert.deepEqual(after.ring.keys.map((k) => k.id), ["k1", "k2", genId]);
    assert.equal(after.source["alsoVerifying"], genId);
    assert.match(after.notes?.[0] ?? "", /still verifies the tickets it signed before keys\.file was configured/);
    await rm(generated);
    const later = await provider(generated, keysFile).load();
    assert.ok(later.ok);
    assert.deepEqual(later.ring.keys.map((k) => k.id), ["k1", "k2"], "deleting the generated key file ends its verification");
  });
});
