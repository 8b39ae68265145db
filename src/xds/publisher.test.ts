import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { silentLogger } from "../common/logger.js";
import { gatewayResources, podCluster } from "./cache/resources.fixture.js";
import { SnapshotCache } from "./cache/snapshot-cache.js";
import type { BuiltResource, GatewayModel } from "./resources/model.js";
import { TYPE_URLS } from "./resources/type-urls.js";
import { createPublisher } from "./publisher.js";
import { prng } from "../../test/support/prng.js";
import { Snapshot } from "./cache/snapshot.js";
import { buildGatewayResources } from "./resources/build.js";
import { createIncrementalGatewayBuilder, type GatewayBuild } from "./resources/gateway-builder.js";
import { app, pod, sampleModel } from "./resources/model.fixture.js";
import { PUSH_ORDER } from "./resources/type-urls.js";

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
  it("publishes a change after a quiet window on the next turn, and coalesces the schedule() calls within the window after a publish into one build per group at its end", async () => {
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
    publisher.schedule();
    assert.equal(builds, 0, "not inside the caller's turn");
    clock.advance(0);
    assert.equal(builds, 2, "a single change is not held for the window");
    for (let i = 0; i < 5; i++) {
      pods = [...pods, `p${i + 2}`];
      publisher.schedule();
      clock.advance(1);
    }
    const idle = publisher.idle();
    assert.equal(builds, 2, "nothing built inside the window after a publish");
    clock.advance(4);
    assert.equal(builds, 2, "still inside the window");
    clock.advance(1);
    await idle;
    assert.equal(builds, 4, "one publish per group at the window's end");
    assert.equal(cache.getSnapshot("g1")?.resources(TYPE_URLS.cluster).size, 6);
    assert.equal(cache.getSnapshot("g2")?.resources(TYPE_URLS.cluster).size, 1);
    clock.advance(100);
    publisher.schedule();
    clock.advance(0);
    assert.equal(builds, 6, "quiet again: the next change goes at once");
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

  it("derives each snapshot from the builder's change, equal to a full build, also after a build that failed or was refused", () => {
    const cache = new SnapshotCache();
    const rand = prng(11);
    const incremental = createIncrementalGatewayBuilder();
    let current = sampleModel();
    let fault: "none" | "throw" | "inconsistent" = "none";
    let whole = 0;
    const publisher = createPublisher({
      models: () => [current],
      build: (m): GatewayBuild => {
        if (fault === "throw") throw new Error("boom");
        const out = incremental(m);
        // Counts the builds whose whole resource list was asked for: a snapshot not derived from the change.
        if (fault === "none") return { change: out.change, resources: () => (whole++, out.resources()) };
        // A builder bug: an EDS cluster without endpoints, in the change and in the whole.
        const orphan = podCluster("apps/shiny/orphan");
        return { resources: () => [...out.resources(), orphan], change: out.change ? { upserts: [...out.change.upserts, orphan], removals: out.change.removals } : undefined };
      },
      cache,
      logger: silentLogger,
      clock: new FakeClock(),
    });
    let refused = 0;
    for (let step = 0; step < 150; step++) {
      const pods = Array.from({ length: 12 }, (_, i) => i).filter(() => rand() < 0.6).map((i) => pod(`p${i}`, `10.0.0.${rand() < 0.8 ? i + 1 : i + 100}`));
      current = sampleModel({ apps: [app({ name: "shiny", pods }), ...(rand() < 0.5 ? [app({ name: "lab", pathPrefix: "/lab/", pods: pods.slice(0, 2) })] : [])] });
      const r = rand();
      fault = r < 0.05 ? "throw" : r < 0.1 ? "inconsistent" : "none";
      const published = publisher.publishNow();
      if (fault !== "none") {
        assert.deepEqual(published, [], `step ${step}: a ${fault} build is not published`);
        refused++;
        continue;
      }
      const got = cache.getSnapshot("default");
      const want = Snapshot.build(buildGatewayResources(current));
      for (const t of PUSH_ORDER) {
        const contents = (s: Snapshot | undefined): string[] => [...(s?.resources(t).values() ?? [])].map((x) => `${x.name}=${x.version}`).sort();
        assert.deepEqual(contents(got), contents(want), `step ${step}: ${t}`);
        assert.equal(got?.typeVersion(t), want.typeVersion(t), `step ${step}: version of ${t}`);
      }
    }
    assert.ok(refused > 5);
    // The first build, and the first one after each refused build, start from the whole list; every other one from its change.
    assert.ok(whole >= 1 && whole <= refused + 1, `${whole} whole builds for ${refused} refused`);
  });
});
