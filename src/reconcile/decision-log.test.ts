import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DecisionLog } from "./decision-log.js";

const d = (to: number) => ({ time: `2026-01-01T00:00:0${String(to)}.000Z`, deployment: "web", from: to - 1, to, reason: `r${String(to)}` });

describe("DecisionLog", () => {
  it("keeps the last decisions per app, newest last, and forgets an app", () => {
    const log = new DecisionLog(3);
    for (let i = 1; i <= 5; i++) log.record("ns/a", d(i));
    log.record("ns/b", d(9));
    assert.deepEqual(log.recent("ns/a").map((x) => x.to), [3, 4, 5]);
    assert.deepEqual(log.recent("ns/b").map((x) => x.reason), ["r9"]);
    (log.recent("ns/a") as unknown[]).length = 0;
    assert.equal(log.recent("ns/a").length, 3, "a copy: the caller cannot empty the log");
    log.forget("ns/a");
    assert.deepEqual(log.recent("ns/a"), []);
  });
});
