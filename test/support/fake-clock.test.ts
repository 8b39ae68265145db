import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "./fake-clock.js";

describe("FakeClock", () => {
  it("fires timers in due order, each at its own time", () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setInterval(() => seen.push(`i@${clock.now()}`), 15);
    clock.advance(31);
    assert.deepEqual(seen, ["a@10", "i@15", "b@20", "i@30"]);
    assert.equal(clock.now(), 31);
  });

  it("does not fire cancelled timers, and timers scheduled while firing run when due", () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const t = clock.setTimeout(() => seen.push(1), 5);
    t.cancel();
    t.cancel();
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 5), 5);
    clock.advance(9);
    assert.deepEqual(seen, []);
    clock.advance(1);
    assert.deepEqual(seen, [10]);
    assert.equal(clock.pendingTimers, 0);
  });

  it("advanceAsync lets promise work started by a timer finish", async () => {
    const clock = new FakeClock(0);
    let done = false;
    clock.setTimeout(() => void Promise.resolve().then(() => (done = true)), 5);
    await clock.advanceAsync(5);
    assert.equal(done, true);
  });
});
