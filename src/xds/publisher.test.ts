import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { silentLogger } from "../common/logger.js";
import { gatewayResources, podCluster } from "./cache/resources.fixture.js";
import { SnapshotCache } from "./cache/snapshot-cache.js";
import type { BuiltResource, GatewayModel } from "./resources/model.js";
import { TYPE_URLS } from "./resources/type-urls.js";
import { createPublisher } from "./publisher.js";

function model(group: string, pods: string[]): GatewayModel {
  return {
    group,
    listener: { address: "0.0.0.0", port: 8080 },
    accessLog: { cluster: { host: "127.0.0.1", port: 9002 }, flushIntervalMs: 1000 },
    apps: [{ namespace: "ns", name: "a", pathPrefix: "/a/", podPath: "/", mode: "serve", pods: pods.map((name) => ({ name, host: "10.0.0.1", port: 80, })) }],
  };
}
const build = (m: GatewayModel): BuiltResource[] => gatewayResources(m.apps.flatMap((a) => a.pods.map((p) => `${a.namespace}/${a.name}/${p.name}`)));

describe("publisher", () => {
  it("coalesces schedule() calls within the debounce window into one build per group", async () => {
    const clock = new FakeClock();
    const cache = new SnapshotCache();
    let pods = ["p1"];
    let builds = 0;
    const publisher = createPublisher({
      models: () => [model("g1", pods), model("g2", ["q1"])],
      build: (m) => {
        builds++;
        return build(m);
      },
      cache,
      logger: silentLogger,
      clock,
      debounceMs: 10,
    });
    for (let i = 0; i < 5; i++) {
      pods = [...pods, `p${i + 2}`];
      publisher.schedule();
      clock.advance(1);
    }
    const idle = publisher.idle();
    assert.equal(builds, 0, "nothing built inside the window");
    clock.advance(5);
    await idle;
    assert.equal(builds, 2);
    assert.equal(cache.getSnapshot("g1")?.resources(TYPE_URLS.cluster).size, 6);
    assert.equal(cache.getSnapshot("g2")?.resources(TYPE_URLS.cluster).size, 1);
    publisher.stop();
  });

  it("keeps the last good snapshot of a group whose build is inconsistent or throws, and still publishes the others", () => {
    const cache = new SnapshotCache();
    let broken = false;
    const publisher = createPublisher({
      models: () => [model("g1", ["p1"]), model("g2", ["q1"])],
      build: (m) => {
        if (broken && m.group === "g1") return [podCluster("ns/a/p1")]; // cluster without endpoints
        if (broken && m.group === "g2") throw new Error("boom");
        return build(m);
      },
      cache,
      logger: silentLogger,
      clock: new FakeClock(),
    });
    assert.deepEqual(publisher.publishNow(), ["g1", "g2"]);
    const g1 = cache.getSnapshot("g1");
    broken = true;
    assert.deepEqual(publisher.publishNow(), []);
    assert.equal(cache.getSnapshot("g1"), g1);
  });
});
