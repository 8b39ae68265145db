import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPE_URLS } from "../resources/type-urls.js";
import { gatewayResources } from "./resources.fixture.js";
import { Snapshot } from "./snapshot.js";
import { SnapshotCache } from "./snapshot-cache.js";
import type { DeltaCacheResponse } from "./watch.js";

const EDS = TYPE_URLS.endpoints;

describe("a watch resumed while the stream still cannot write", () => {
  it("keeps owing the names asked for while it was behind", () => {
    const cache = new SnapshotCache();
    cache.setSnapshot("g", Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2", "ns/a/p3"])));
    const known = new Map<string, string>();
    const subscribed = new Set(["ns/a/p1"]);
    let accept = true;
    const got: DeltaCacheResponse[] = [];
    const watch = cache.createDeltaWatch({ typeUrl: EDS }, { group: "g", subscription: () => ({ wildcard: false, subscribed, known }) }, (r) => {
      if (!accept) return false;
      got.push(r);
      for (const x of r.changed) known.set(x.name, x.version);
      return true;
    });
    assert.deepEqual(got.flatMap((r) => r.changed.map((x) => x.name)), ["ns/a/p1"]);

    accept = false;
    for (const name of ["ns/a/p2", "ns/a/p3"]) {
      subscribed.add(name);
      watch.subscribe([name]);
    }
    // Resumed, but the stream's writes filled up again (e.g. the last piece of another response just went).
    watch.resume();
    accept = true;
    watch.resume();
    assert.deepEqual(got.slice(1).flatMap((r) => r.changed.map((x) => x.name)).sort(), ["ns/a/p2", "ns/a/p3"]);
  });
});
