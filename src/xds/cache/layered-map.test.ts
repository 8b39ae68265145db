import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../../test/support/prng.js";
import { LayeredMap } from "./layered-map.js";
import { OverlayMap } from "./overlay-map.js";

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

  it("follows a chain of snapshot maps laid over one another (OverlayMap), compactions included, without a pass over the fleet, and keeps its contents through every rebase", (t) => {
    // It rebases every few dozen changes; the fleet's map compacts every √size (89 at 8,000): it never lags two compactions.
    const rand = prng(7);
    let snapshot: ReadonlyMap<string, { v: string }> = base(8_000);
    const m = versions();
    m.resetTo(snapshot);
    const ref = new Map([...snapshot].map(([k, b]) => [k, b.v]));
    let tag = 0;
    let passes = 0;
    let compactions = 0;
    const iterations = t.mock.method(OverlayMap.prototype, "entries");
    for (let step = 0; step < 300; step++) {
      // The snapshot changes a few resources; the stream takes the change (mostly), or keeps an older version, or drops a name.
      const changed = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => `r${Math.floor(rand() * 8_100)}`);
      const value = { v: `t${++tag}` };
      snapshot = OverlayMap.derive(snapshot, (e) => {
        for (const name of changed) if (rand() < 0.2) e.delete(name);
        else e.set(name, value);
      });
      for (const name of changed) {
        const b = snapshot.get(name);
        const r = rand();
        if (r < 0.1) continue;
        if (r < 0.15 || b === undefined) {
          m.delete(name);
          ref.delete(name);
        } else {
          m.set(name, b.v);
          ref.set(name, b.v);
        }
      }
      if (!(snapshot instanceof OverlayMap)) compactions++;
      const before = iterations.mock.callCount();
      m.rebase(snapshot);
      passes += iterations.mock.callCount() - before;
      assert.equal(m.size, ref.size, `step ${step}`);
      for (const name of changed) assert.equal(m.get(name), ref.get(name), `step ${step}: ${name}`);
    }
    assert.deepEqual(plain(m), plain(ref));
    assert.ok(compactions >= 3, `the chain went through compactions (${compactions})`);
    assert.equal(passes, 0, "no rebase iterated a snapshot map, across compactions too");
    assert.ok(m.isOver(snapshot) || m.privateEntries < 200, "kept over a snapshot map, not as a private copy");
  });

  it("clear empties it", () => {
    const m = versions();
    m.set("a", "1");
    m.clear();
    assert.equal(m.size, 0);
    assert.deepEqual([...m.keys()], []);
  });
});
