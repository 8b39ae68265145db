import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../../test/support/prng.js";
import { OverlayMap } from "./overlay-map.js";

/** Everything a reader sees of a map: size, each entry by get/has, and the entries iterated (sorted: the order is the base's). */
function view(m: ReadonlyMap<string, number>, names: readonly string[]): unknown {
  return {
    size: m.size,
    got: names.map((n) => [n, m.get(n), m.has(n)]),
    entries: [...m].sort(([a], [b]) => (a < b ? -1 : 1)),
    keys: [...m.keys()].sort(),
    values: [...m.values()].sort((a, b) => a - b),
  };
}

describe("OverlayMap", () => {
  it("reads, over any chain of derivations, exactly as a Map edited the same way, and never changes the map it was derived from", () => {
    const names = Array.from({ length: 300 }, (_, i) => `n${i}`);
    for (let seed = 1; seed <= 30; seed++) {
      const rand = prng(seed);
      const pick = (): string => names[Math.floor(rand() * names.length)] ?? "n0";
      let model = new Map<string, number>(names.slice(0, 200).map((n, i) => [n, i]));
      let derived: ReadonlyMap<string, number> = new Map(model);
      let value = 1_000;
      for (let step = 0; step < 80; step++) {
        const before = view(derived, names);
        const edits: [string, number | undefined][] = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => {
          const r = rand();
          // Sometimes set a name back to its base value: that is no difference to keep.
          return [pick(), r < 0.45 ? undefined : r < 0.55 ? (model.get(pick()) ?? value++) : value++];
        });
        const next = new Map(model);
        for (const [n, v] of edits) if (v === undefined) next.delete(n);
        else next.set(n, v);
        const from = derived;
        derived = OverlayMap.derive(from, (m) => {
          for (const [n, v] of edits) if (v === undefined) m.delete(n);
          else m.set(n, v);
        });
        assert.deepEqual(view(derived, names), view(next, names), `seed ${seed} step ${step}`);
        assert.deepEqual(view(from, names), before, `seed ${seed} step ${step}: the map derived from is unchanged`);
        model = next;
      }
    }
  });

  it("keeps the base and a few differences, and becomes a plain Map once the differences pass about the square root of the size", () => {
    const base = new Map(Array.from({ length: 10_000 }, (_, i) => [`n${i}`, i]));
    let m: ReadonlyMap<string, number> = base;
    let changes = 0;
    while (!(m instanceof Map) || changes === 0) {
      m = OverlayMap.derive<number>(m, (e) => e.set(`new${changes}`, changes));
      changes++;
      if (changes < 100) assert.ok(m instanceof OverlayMap, `after ${changes} changes: still over the base`);
    }
    assert.equal(changes, 101, "compacted once the overlay passed 100 entries (√10,000)");
    assert.equal(m.size, 10_101);
    assert.equal(m.get("new100"), 100);
  });

  it("names, for two maps of one chain up to a compaction apart, every name where they differ; for unrelated maps, nothing", () => {
    const rand = prng(3);
    const chain: ReadonlyMap<string, number>[] = [new Map(Array.from({ length: 400 }, (_, i) => [`n${i}`, i]))];
    for (let step = 0; step < 120; step++) {
      const last = chain[chain.length - 1] ?? new Map<string, number>();
      chain.push(OverlayMap.derive<number>(last, (e) => (rand() < 0.3 ? e.delete(`n${Math.floor(rand() * 420)}`) : e.set(`n${Math.floor(rand() * 420)}`, 1_000 + step))));
    }
    let answered = 0;
    for (let i = 0; i < chain.length; i++) {
      for (let j = i; j < Math.min(chain.length, i + 25); j++) {
        const a = chain[i] ?? new Map<string, number>();
        const b = chain[j] ?? new Map<string, number>();
        const keys = OverlayMap.differingKeys(a, b);
        if (keys === undefined) continue;
        answered++;
        const named = new Set(keys);
        for (const name of new Set([...a.keys(), ...b.keys()])) if (a.get(name) !== b.get(name)) assert.ok(named.has(name), `${i}→${j}: ${name} differs`);
      }
    }
    assert.ok(answered > 2_000, `answered ${answered} pairs`);
    assert.equal(OverlayMap.differingKeys(new Map([["a", 1]]), new Map([["a", 1]])), undefined);
  });

  it("answers the base itself when the edits leave no difference", () => {
    const base = new Map([["a", 1], ["b", 2]]);
    const changed = OverlayMap.derive(base, (e) => e.set("a", 9));
    assert.equal(OverlayMap.derive(changed, (e) => e.set("a", 1)), base);
    assert.equal(OverlayMap.derive(base, (e) => e.delete("missing")), base);
  });
});
