import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../../test/support/prng.js";
import { LayeredSet } from "./layered-set.js";

const snapshotMap = (names: readonly string[]): Map<string, object> => new Map(names.map((n) => [n, {}]));
const names = (n: number, prefix = "c"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("LayeredSet", () => {
  it("behaves as a Set through add, delete and rebase, whatever the base", () => {
    const random = prng(7);
    const set = new LayeredSet();
    const ref = new Set<string>();
    const bases = [snapshotMap(names(200)), snapshotMap(names(50)), snapshotMap(names(300, "d")), new Map<string, object>(), undefined];
    for (let step = 0; step < 2_000; step++) {
      const name = random() < 0.8 ? `c${Math.floor(random() * 250)}` : `d${Math.floor(random() * 20)}`;
      const add = random() < 0.6;
      assert.equal(add ? set.add(name) : set.delete(name), add ? !ref.has(name) : ref.has(name), `${add ? "add" : "delete"} ${name}`);
      if (add) ref.add(name);
      else ref.delete(name);
      if (step % 97 === 0) set.rebase(bases[Math.floor(random() * bases.length)]);
      assert.equal(set.size, ref.size);
    }
    assert.deepEqual([...set].sort(), [...ref].sort());
    for (const n of [...names(250), ...names(20, "d")]) assert.equal(set.has(n), ref.has(n), n);
  });

  it("a set equal to a snapshot's names is kept over that map with no private entry", () => {
    const base = snapshotMap(names(8_000));
    const set = new LayeredSet();
    for (const n of names(8_000)) set.add(n);
    assert.equal(set.privateEntries, 8_000);
    set.rebase(base);
    assert.equal(set.isOver(base), true);
    assert.equal(set.privateEntries, 0);
    assert.equal(set.size, 8_000);
    // A new name and an unsubscribed one: two private entries, not a copy.
    set.add("new");
    set.delete("c3");
    assert.equal(set.privateEntries, 2);
    assert.equal(set.has("new"), true);
    assert.equal(set.has("c3"), false);
    assert.equal(set.size, 8_000);
  });

  it("a set that differs from the base in most names keeps its own entries", () => {
    const set = new LayeredSet();
    for (const n of names(100, "x")) set.add(n);
    const base = snapshotMap(names(100));
    set.rebase(base);
    assert.equal(set.isOver(base), false);
    assert.equal(set.size, 100);
    assert.deepEqual([...set].sort(), names(100, "x").sort());
  });
});
