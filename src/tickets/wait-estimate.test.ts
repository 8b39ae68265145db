import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReleaseHistory } from "./wait-estimate.js";

describe("ReleaseHistory: the wait estimate from recent releases", () => {
  it("gives no estimate before it has seen enough releases", () => {
    const h = new ReleaseHistory();
    assert.equal(h.estimateWaitMs(1, 10_000), undefined);
    h.record(1_000);
    assert.equal(h.estimateWaitMs(1, 10_000), undefined, "one release is not a rate");
  });

  it("estimates position / rate, rounded up to a second", () => {
    const h = new ReleaseHistory();
    // 4 releases in the 20 s before now: one every 5 s.
    for (const t of [5_000, 10_000, 15_000, 20_000]) h.record(t);
    assert.equal(h.ratePerMs(20_000 + 0), 4 / 15_000);
    assert.equal(h.estimateWaitMs(1, 20_000), 4_000, "15 s / 4 = 3.75 s → 4 s");
    assert.equal(h.estimateWaitMs(3, 20_000), 12_000);
    // Later position, longer wait.
    assert.ok((h.estimateWaitMs(10, 20_000) ?? 0) > (h.estimateWaitMs(3, 20_000) ?? 0));
  });

  it("grows when releases stop, and forgets releases older than the window", () => {
    const h = new ReleaseHistory({ windowMs: 60_000 });
    h.record(0);
    h.record(1_000);
    const soon = h.estimateWaitMs(1, 2_000) ?? 0;
    const later = h.estimateWaitMs(1, 30_000) ?? 0;
    assert.ok(later > soon, `${later} > ${soon}`);
    assert.equal(h.estimateWaitMs(1, 60_500), undefined, "the first release fell out of the window: one left");
    assert.equal(h.recent(60_500), 1);
  });

  it("keeps only the last `capacity` releases", () => {
    const h = new ReleaseHistory({ capacity: 3 });
    for (const t of [0, 100, 200, 300, 400]) h.record(t);
    assert.equal(h.recent(400), 3);
    assert.equal(h.ratePerMs(500), 3 / 300);
  });

  it("keeps out-of-order times in order and ignores future ones", () => {
    const h = new ReleaseHistory();
    h.record(2_000);
    h.record(1_000);
    h.record(9_000);
    assert.equal(h.recent(5_000), 2);
    assert.equal(h.ratePerMs(5_000), 2 / 4_000);
  });

  it("answers undefined for a position that is not a place in line", () => {
    const h = new ReleaseHistory();
    h.record(0);
    h.record(1_000);
    assert.equal(h.estimateWaitMs(0, 2_000), undefined);
    assert.equal(h.estimateWaitMs(Number.NaN, 2_000), undefined);
  });
});
