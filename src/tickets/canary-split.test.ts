import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CanarySplit } from "./canary-split.js";

function picks(weight: number, n: number): boolean[] {
  const s = new CanarySplit();
  return Array.from({ length: n }, () => s.next(weight));
}

describe("CanarySplit", () => {
  for (const w of [0, 1, 10, 25, 33, 50, 90, 100]) {
    it(`gives exactly ${w} of every 100 picks to the canary at weight ${w}`, () => {
      const p = picks(w, 1000);
      for (let i = 0; i < 1000; i += 100) assert.equal(p.slice(i, i + 100).filter(Boolean).length, w);
    });
  }

  it("spreads canary picks evenly rather than in a burst", () => {
    const p = picks(25, 8);
    // Exactly one canary in each run of four.
    for (let i = 0; i < 8; i += 4) assert.equal(p.slice(i, i + 4).filter(Boolean).length, 1);
  });

  it("clamps weights outside 0–100", () => {
    assert.equal(picks(150, 10).filter(Boolean).length, 10);
    assert.equal(picks(-5, 10).filter(Boolean).length, 0);
  });
});
