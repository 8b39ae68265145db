import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import type { DeltaSubscription } from "./delta.js";
import { gatewayResources } from "./resources.fixture.js";
import { Snapshot } from "./snapshot.js";
import { SnapshotCache } from "./snapshot-cache.js";
import type { DeltaCacheResponse } from "./watch.js";

/** A minimal delta stream that applies what it is sent. */
function deltaStream(group: string): { view: { group: string; subscription(t: TypeUrl): DeltaSubscription }; got: DeltaCacheResponse[]; respond: (r: DeltaCacheResponse) => boolean } {
  const known = new Map<string, string>();
  const got: DeltaCacheResponse[] = [];
  return {
    view: { group, subscription: () => ({ wildcard: true, subscribed: new Set(), known }) },
    got,
    respond: (r) => {
      got.push(r);
      for (const x of r.changed) known.set(x.name, x.version);
      for (const n of r.removed) known.delete(n);
      return true;
    },
  };
}

describe("SnapshotCache", () => {
  it("keeps one snapshot per node group and notifies only that group's watches", () => {
    const cache = new SnapshotCache();
    const a = deltaStream("a");
    const b = deltaStream("b");
    const cancelA = cache.createDeltaWatch({ typeUrl: TYPE_URLS.cluster }, a.view, a.respond);
    const cancelB = cache.createDeltaWatch({ typeUrl: TYPE_URLS.cluster }, b.view, b.respond);
    cache.setSnapshot("a", Snapshot.build(gatewayResources(["ns/x/p1"])));
    assert.equal(a.got.length, 1);
    assert.equal(b.got.length, 0);
    cache.setSnapshot("b", Snapshot.build(gatewayResources(["ns/y/q1", "ns/y/q2"])));
    assert.equal(a.got.length, 1);
    assert.equal(b.got[0]?.changed.length, 2);
    assert.equal(cache.getSnapshot("a")?.resources(TYPE_URLS.cluster).size, 1);
    cancelA.cancel();
    cancelB.cancel();
    assert.equal(cache.watchCount(), 0);
  });

  it("a watch opened on an existing snapshot answers at once; an unchanged snapshot sends nothing", () => {
    const cache = new SnapshotCache();
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/x/p1"])));
    const s = deltaStream("g");
    const cancel = cache.createDeltaWatch({ typeUrl: TYPE_URLS.cluster }, s.view, s.respond);
    assert.equal(s.got.length, 1);
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/x/p1"]), cache.getSnapshot("g")));
    assert.equal(s.got.length, 1);
    cancel.cancel();
  });

  it("sends cluster removals after the route update that stops using them", () => {
    const cache = new SnapshotCache();
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/x/p1", "ns/x/p2"])));
    const order: string[] = [];
    const cancels = [TYPE_URLS.cluster, TYPE_URLS.routes].map((typeUrl) => {
      const s = deltaStream("g");
      return cache.createDeltaWatch({ typeUrl }, s.view, (r) => {
        const taken = s.respond(r);
        order.push(`${r.typeUrl.split(".").pop()}:${r.removed.join(",")}`);
        return taken;
      });
    });
    order.length = 0;
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/x/p2", "ns/x/p3"]), cache.getSnapshot("g")));
    assert.deepEqual(order, ["Cluster:", "RouteConfiguration:", "Cluster:ns/x/p1"]);
    for (const c of cancels) c.cancel();
  });
});

describe("SnapshotCache.canonicalName", () => {
  it("returns the snapshot's own string for a known resource, else the name given", () => {
    const cache = new SnapshotCache();
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/a/p1"])));
    const own = cache.getSnapshot("g")?.get(TYPE_URLS.endpoints, "ns/a/p1")?.name;
    const decoded = ["ns/a/", "p1"].join("");
    assert.equal(cache.canonicalName("g", TYPE_URLS.endpoints, decoded), own);
    assert.equal(cache.canonicalName("g", TYPE_URLS.endpoints, "nope"), "nope");
    assert.equal(cache.canonicalName("other", TYPE_URLS.endpoints, decoded), decoded);
  });
});
