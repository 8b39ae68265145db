import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDrainMark, parseDeletionCost, parseDrainMark } from "./pod-annotations.js";

describe("pod annotations", () => {
  it("a drain mark round-trips", () => {
    const mark = { since: Date.UTC(2026, 0, 1, 12), by: "reconciler" as const };
    assert.equal(formatDrainMark(mark), "2026-01-01T12:00:00.000Z reconciler");
    assert.deepEqual(parseDrainMark(formatDrainMark(mark)), mark);
  });
  it("a hand-written drain value still drains, as a preStop mark of unknown time", () => {
    assert.deepEqual(parseDrainMark("yes"), { since: 0, by: "prestop" });
    assert.equal(parseDrainMark(undefined), undefined);
  });
  it("deletion costs are int32 decimal strings", () => {
    assert.deepEqual(["-1000", "0", " 7 ", "2147483648", "1.5", "x", undefined].map(parseDeletionCost), [-1000, 0, 7, undefined, undefined, undefined, undefined]);
  });
});
