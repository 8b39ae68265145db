import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  const good: [unknown, number][] = [
    ["250ms", 250],
    ["10s", 10_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["1h30m15s250ms", 5_415_250],
    ["1.5h", 5_400_000],
    ["0", 0],
    ["0s", 0],
    ["10", 10_000],
    [" 10 ", 10_000],
    [10, 10_000],
    [0.25, 250],
    ["2.5", 2500],
  ];
  for (const [input, ms] of good) {
    it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => assert.deepEqual(parseDuration(input), { ok: true, ms }));
  }

  const bad: unknown[] = ["", "-5s", -1, "10 s", "5d", "abc", "1h-30m", "s", "ms10", null, true, [], {}, Number.NaN, Infinity, "1e3", "10S"];
  for (const input of bad) {
    it(`rejects ${String(JSON.stringify(input))}`, () => {
      const r = parseDuration(input);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.rule, /must be a duration/);
    });
  }

  it("says negatives are the problem", () => {
    const r = parseDuration("-5s");
    assert.ok(!r.ok && r.rule.endsWith("not negative"));
  });

  it("formats back", () => {
    assert.equal(formatDuration(5_415_250), "1h30m15s250ms");
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(250), "250ms");
  });
});
