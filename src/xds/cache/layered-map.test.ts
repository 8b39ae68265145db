import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LayeredMap } from "./layered-map.js";

const versions = (): LayeredMap<string, { v: string }> =>
  new LayeredMap<string, { v: string }>(
    (b) => b.v,
    (v, b) => v === b.v,
  );
const base = (n: number, tag = "1"): Map<string, { v: string }> => new Map(Array.from({ length: n }, (_, i) => [`r${i}`, { v: tag }]));
const plain = (m: ReadonlyMap<string, string>): [string, string][] => [...m].sort(([a], [b]) => a.localeCompare(b));

describe("LayeredMap", () => {
  it("behaves as a map through set, delete and rebase, whatever the base", () => {
    const m = versions();
    const ref = new Map<string, string>();
    const s1 = base(100);
    for (let i = 0; i < 100; i++) {
      m.set(`r${i}`, "1");
      ref.set(`r${i}`, "1");
    }
    m.rebase(s1);
    assert.deepEqual(plain(m), plain(ref));
    assert.equal(m.size, 100);
    // Diverge: a NACK-like different version, a removal, a name the base lacks.
    const edits: [string, string | undefined][] = [["r1", "2"], ["r2", undefined], ["x", "9"], ["r3", "1"]];
    for (const [k, v] of edits) {
      if (v === undefined) {
        m.delete(k);
        ref.delete(k);
      } else {
        m.set(k, v);
        ref.set(k, v);
      }
    }
    assert.deepEqual(plain(m), plain(ref));
    assert.equal(m.size, ref.size);
    assert.equal(m.get("r2"), undefined);
    assert.equal(m.has("r2"), false);
    assert.equal(m.get("x"), "9");
    // Rebasing onto another snapshot map never changes the contents.
    for (const next of [base(100, "2"), base(10), new Map<string, { v: string }>(), undefined]) {
      for (let i = 0; i < 40; i++) {
        m.set(`y${i}`, "3");
        ref.set(`y${i}`, "3");
      }
      m.rebase(next);
      assert.deepEqual(plain(m), plain(ref));
      assert.equal(m.size, ref.size);
    }
  });

  it("clear empties it", () => {
    const m = versions();
    m.set("a", "1");
    m.clear();
    assert.equal(m.size, 0);
    assert.deepEqual([...m.keys()], []);
  });
});
