import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../../test/support/prng.js";
import { contentVersion, entryDigest, SetDigest, setVersion } from "./version.js";

describe("set version (SetDigest)", () => {
  const entries = Array.from({ length: 30 }, (_, i) => ({ name: `ns/a/p${i}`, version: contentVersion(`v${i}`) }));

  it("depends on the set of name=version pairs only: any order, any history of adds and removes", () => {
    const rand = prng(3);
    const want = setVersion(entries);
    for (let round = 0; round < 20; round++) {
      const shuffled = [...entries].sort(() => rand() - 0.5);
      assert.equal(setVersion(shuffled), want);
      // Built up with detours: another version of an entry added, and removed again later.
      const d = new SetDigest();
      const pending: Uint32Array[] = [];
      for (const e of shuffled) {
        if (rand() < 0.4) {
          const extra = entryDigest({ name: e.name, version: "other" });
          d.add(extra);
          pending.push(extra);
        }
        d.add(entryDigest(e));
        const extra = pending.pop();
        if (extra && rand() < 0.5) d.remove(extra);
        else if (extra) pending.push(extra);
      }
      for (const extra of pending) d.remove(extra);
      assert.equal(d.version, want, `round ${round}`);
    }
  });

  it("changes with any one version, name, or the count", () => {
    const base = setVersion(entries);
    assert.notEqual(setVersion(entries.slice(1)), base);
    assert.notEqual(setVersion([...entries, { name: "ns/a/x", version: "v" }]), base);
    assert.notEqual(setVersion(entries.map((e, i) => (i === 7 ? { ...e, version: "changed" } : e))), base);
    assert.notEqual(setVersion(entries.map((e, i) => (i === 7 ? { ...e, name: "ns/a/renamed" } : e))), base);
    assert.notEqual(setVersion([]), setVersion([{ name: "a", version: "b" }]));
  });

  it("an add then a remove of the same entry leaves the version as it was; a copy is independent", () => {
    const d = SetDigest.of(entries);
    const before = d.version;
    const copy = d.copy();
    d.add(entryDigest({ name: "ns/a/new", version: "1" }));
    assert.notEqual(d.version, before);
    assert.equal(copy.version, before);
    d.remove(entryDigest({ name: "ns/a/new", version: "1" }));
    assert.equal(d.version, before);
  });

  it("is as long on the wire as a resource's version", () => {
    assert.equal(setVersion(entries).length, contentVersion("x").length);
  });
});
