import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ScaleFreshness } from "./scale-freshness.js";

const K = "default/web";

describe("ScaleFreshness", () => {
  it("a Deployment never read live is not trusted; a live read that finds the cache at its resourceVersion makes it so", () => {
    const f = new ScaleFreshness();
    assert.equal(f.trusts(K, { replicas: 2, resourceVersion: "10" }), false);
    f.observedLive(K, { replicas: 2, resourceVersion: "10" }, { replicas: 2, resourceVersion: "10" });
    assert.equal(f.trusts(K, { replicas: 2, resourceVersion: "10" }), true);
    assert.equal(f.trusts(K, { replicas: 5, resourceVersion: "11" }), true, "later changes the cache shows are someone else's");
  });

  it("after our write: the cache's old replicas are not trusted, the written ones are, and its showing the write's resourceVersion ends the watch", () => {
    const f = new ScaleFreshness();
    f.wrote(K, { replicas: 3, resourceVersion: "w" });
    assert.equal(f.trusts(K, { replicas: 2, resourceVersion: "old" }), false, "the cache before our write");
    assert.equal(f.trusts(K, { replicas: 3, resourceVersion: "later" }), true, "a later change that kept our replicas (a status update)");
    assert.equal(f.trusts(K, { replicas: 4, resourceVersion: "later2" }), false, "different replicas: only a live read can say whose");
    assert.equal(f.trusts(K, { replicas: 3, resourceVersion: "w" }), true);
    assert.equal(f.trusts(K, { replicas: 4, resourceVersion: "x" }), true, "once the cache showed our write, it answers again");
  });

  it("resourceVersions are compared for equality only (a numerically larger one is no proof of freshness)", () => {
    const f = new ScaleFreshness();
    f.wrote(K, { replicas: 3, resourceVersion: "9" });
    assert.equal(f.trusts(K, { replicas: 2, resourceVersion: "10" }), false);
  });

  it("a failed write trusts nothing until a live read finds the cache at the live resourceVersion", () => {
    const f = new ScaleFreshness();
    f.forget(K);
    assert.equal(f.trusts(K, { replicas: 3, resourceVersion: "a" }), false);
    f.observedLive(K, { replicas: 4, resourceVersion: "b" }, { replicas: 3, resourceVersion: "a" });
    assert.equal(f.trusts(K, { replicas: 3, resourceVersion: "a" }), false, "the cache is still behind the live read");
    assert.equal(f.trusts(K, { replicas: 4, resourceVersion: "a2" }), true, "same replicas as the live read");
    f.observedLive(K, { replicas: 4, resourceVersion: "c" }, { replicas: 4, resourceVersion: "c" });
    assert.equal(f.trusts(K, { replicas: 1, resourceVersion: "d" }), true, "current: any later cached value is an outside change the cache shows");
  });

  it("a Deployment gone (live 404) that the cache still holds is not trusted; once the cache drops it, nothing is kept", () => {
    const f = new ScaleFreshness();
    f.observedLive(K, undefined, { replicas: 2, resourceVersion: "a" });
    assert.equal(f.trusts(K, { replicas: 2, resourceVersion: "a" }), false);
    f.observedLive(K, undefined, undefined);
    assert.equal(f.trusts(K, { replicas: 1, resourceVersion: "new" }), false, "a Deployment made again is read live first");
  });

  it("Deployments are tracked apart", () => {
    const f = new ScaleFreshness();
    f.observedLive("default/b", { replicas: 1, resourceVersion: "1" }, { replicas: 1, resourceVersion: "1" });
    f.forget("default/a");
    assert.equal(f.trusts("default/b", { replicas: 1, resourceVersion: "1" }), true);
    assert.equal(f.trusts("default/a", { replicas: 1, resourceVersion: "1" }), false);
  });
});
