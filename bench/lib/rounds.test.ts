import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alternate, figure, inconclusiveBecause, median, ratios, spread } from "./rounds.js";

describe("bench rounds", () => {
  it("takes the median and a spread that forgives one outlier on each side", () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(spread([1, 2, 3, 4, 100]), 1);
  });

  it("passes only when the goal is met by more than the noise", () => {
    assert.deepEqual(figure("x", [1.0, 1.05, 1.1, 1.0, 1.02], { op: "<=", limit: 1.2 }).pass, true);
    const noisy = figure("x", [0.6, 0.9, 1.15, 1.4, 1.5], { op: "<=", limit: 1.2 });
    assert.deepEqual([noisy.pass, noisy.inconclusive], [false, true]);
    assert.equal(figure("x", [1.5, 1.6, 1.55, 1.5, 1.6], { op: "<=", limit: 1.2 }).pass, false);
    assert.equal(figure("x", [Number.POSITIVE_INFINITY], { op: "<=", limit: 1 }).value, null);
  });

  it("a figure measured where the goal was not tested never passes, and says why", () => {
    const f = inconclusiveBecause(figure("x", [1.0, 1.0, 1.0, 1.0, 1.0], { op: "<=", limit: 1.2 }), "only 40 % delivered");
    assert.deepEqual([f.pass, f.inconclusive, f.why, f.value], [false, true, "only 40 % delivered", 1]);
  });

  it("alternates which side runs first", async () => {
    const order: string[] = [];
    const s = await alternate(5, () => (order.push("a"), 1), () => (order.push("b"), 2));
    assert.deepEqual(order.join(""), "abbaabbaab");
    assert.deepEqual(ratios(s), [2, 2, 2, 2, 2]);
  });
});
