import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RequestRate } from "./request-rate.js";

const T0 = Date.UTC(2026, 0, 1);

describe("RequestRate", () => {
  it("averages over the window: 600 requests in the last minute are 10 per second", () => {
    const r = new RequestRate(60_000);
    for (let s = 0; s < 60; s++) r.record("ns/a", T0 + s * 1000, 10);
    assert.equal(r.perSecond("ns/a", T0 + 59_000), 10);
  });
  it("what left the window no longer counts; other apps are apart", () => {
    const r = new RequestRate(10_000);
    r.record("ns/a", T0, 100);
    r.record("ns/b", T0, 5);
    assert.equal(r.perSecond("ns/a", T0 + 9_999), 10);
    assert.equal(r.perSecond("ns/a", T0 + 10_000), 0);
    assert.equal(r.perSecond("ns/b", T0), 0.5);
    assert.equal(r.perSecond("ns/none", T0), 0);
  });
  it("a bucket reused after the window starts from zero", () => {
    const r = new RequestRate(2_000);
    r.record("ns/a", T0, 7);
    r.record("ns/a", T0 + 2_000, 1);
    assert.equal(r.perSecond("ns/a", T0 + 2_000), 0.5);
    r.retainOnly(new Set());
    assert.equal(r.perSecond("ns/a", T0 + 2_000), 0);
  });
  it("keeps only the apps in force", () => {
    const r = new RequestRate(2_000);
    r.record("ns/a", T0, 2);
    r.record("ns/b", T0, 4);
    r.retainOnly(new Set(["ns/b"]));
    assert.equal(r.perSecond("ns/a", T0), 0);
    assert.equal(r.perSecond("ns/b", T0), 2);
  });
});
