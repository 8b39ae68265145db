import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EMPTY_HISTORY, limitScale, recordScale, type LimitInput, type ScaleHistory } from "./scale-limits.js";

const S = 1000;
const base: LimitInput = {
  now: 100 * S,
  current: 2,
  recommended: 2,
  scaleUp: { pods: 4, periodMs: 15 * S, stabilizationMs: 0 },
  scaleDown: { pods: 1, periodMs: 15 * S, stabilizationMs: 30 * S },
  increaseCooldownMs: 0,
  decreaseCooldownMs: 0,
  history: EMPTY_HISTORY,
};
const recs = (...r: [number, number][]): ScaleHistory => ({ recommendations: r.map(([at, desired]) => ({ at: at * S, desired })), changes: [] });

describe("limitScale", () => {
  // [name, input overrides, desired, limitedBy starts with, retryAt (s) or undefined]
  const cases: [string, Partial<LimitInput>, number, string, number | undefined][] = [
    ["no change asked: none made", {}, 2, "", undefined],
    ["a raise within the rate goes at once", { recommended: 5 }, 5, "", undefined],
    ["a raise beyond scaleUp.pods is cut to the rate; the rest once this raise leaves the period", { recommended: 9 }, 6, "scaleUp.pods", 115],
    ["pods added in the period count against the rate", { recommended: 6, history: { recommendations: [], changes: [{ at: 95 * S, from: 0, to: 2 }] } }, 4, "scaleUp.pods", 110],
    ["additions older than the period do not count", { recommended: 6, history: { recommendations: [], changes: [{ at: 80 * S, from: 0, to: 2 }] } }, 6, "", undefined],
    ["a lowering waits for the scale-down window: a higher recommendation in it holds", { current: 4, recommended: 2, history: recs([80, 4]) }, 4, "scaleDown.stabilizationWindow", 110],
    ["a lowering goes only to the highest recommendation of the window", { current: 5, recommended: 1, history: recs([75, 5], [80, 3]) }, 5, "scaleDown.stabilizationWindow", 105],
    ["…which may be below current", { current: 5, recommended: 1, history: recs([75, 4], [80, 3]) }, 4, "scaleDown.stabilizationWindow", 105],
    ["recommendations older than the window do not hold a lowering", { current: 3, recommended: 2, history: recs([60, 3]) }, 2, "", undefined],
    ["scaleDown.pods: one per period", { current: 4, recommended: 1, scaleDown: { ...base.scaleDown, stabilizationMs: 0 } }, 3, "scaleDown.pods", 115],
    ["a removal in the period uses the rate up", { current: 3, recommended: 2, scaleDown: { ...base.scaleDown, stabilizationMs: 0 }, history: { recommendations: [], changes: [{ at: 90 * S, from: 4, to: 3 }] } }, 3, "scaleDown.pods", 105],
    ["a scale-up window takes the lowest recent recommendation", { recommended: 6, scaleUp: { ...base.scaleUp, stabilizationMs: 20 * S }, history: recs([90, 3]) }, 3, "scaleUp.stabilizationWindow", 110],
    ["increaseCooldown: no raise soon after a raise", { recommended: 4, increaseCooldownMs: 60 * S, history: { recommendations: [], changes: [{ at: 70 * S, from: 1, to: 2 }] } }, 2, "scaling.increaseCooldown", 130],
    ["increaseCooldown over: the raise goes", { recommended: 4, increaseCooldownMs: 60 * S, history: { recommendations: [], changes: [{ at: 30 * S, from: 1, to: 2 }] } }, 4, "", undefined],
    ["decreaseCooldown: no lowering soon after a lowering", { current: 3, recommended: 2, scaleDown: { ...base.scaleDown, stabilizationMs: 0, periodMs: 1 * S }, decreaseCooldownMs: 120 * S, history: { recommendations: [], changes: [{ at: 50 * S, from: 4, to: 3 }] } }, 3, "scaling.decreaseCooldown", 170],
    ["a raise is not held by a recent lowering's cooldown", { recommended: 3, decreaseCooldownMs: 120 * S, history: { recommendations: [], changes: [{ at: 99 * S, from: 3, to: 2 }] } }, 3, "", undefined],
  ];
  for (const [name, o, desired, by, retry] of cases) {
    it(name, () => {
      const r = limitScale({ ...base, ...o });
      assert.equal(r.desired, desired);
      assert.ok(r.limitedBy.startsWith(by) && (by !== "" || r.limitedBy === ""), `limitedBy ${r.limitedBy}`);
      assert.equal(r.retryAt === undefined ? undefined : r.retryAt / S, retry);
    });
  }

  it("keeps this recommendation in the history and drops what no window needs", () => {
    const r = limitScale({ ...base, recommended: 3, history: { recommendations: [{ at: 10 * S, desired: 9 }, { at: 90 * S, desired: 2 }], changes: [{ at: 1 * S, from: 0, to: 1 }] } });
    assert.deepEqual(r.history, { recommendations: [{ at: 90 * S, desired: 2 }, { at: 100 * S, desired: 3 }], changes: [] });
  });

  it("recordScale adds a change, and nothing when replicas did not move", () => {
    assert.deepEqual(recordScale(EMPTY_HISTORY, 5, 1, 3).changes, [{ at: 5, from: 1, to: 3 }]);
    assert.equal(recordScale(EMPTY_HISTORY, 5, 3, 3), EMPTY_HISTORY);
  });

  it("a steady dip shorter than the scale-down window removes nothing; a lasting one removes one pod per period", () => {
    let history = EMPTY_HISTORY;
    let current = 4;
    const trace: number[] = [];
    for (let t = 0; t <= 120; t += 5) {
      const recommended = t >= 10 && t < 25 ? 1 : t >= 40 ? 1 : 4;
      const r = limitScale({ ...base, now: t * S, current, recommended, history });
      history = recordScale(r.history, t * S, current, r.desired);
      current = r.desired;
      trace.push(current);
    }
    // The dip at 10–25 s is inside the 30 s window; from 40 s on, lowering starts once the last 4 (at 35 s) leaves the window (65 s), one per 15 s.
    assert.deepEqual(trace, [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1]);
  });
});
