import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { appClusterPrefix, appClusterPrefixOfPod, fallbackRouteName, podClusterName, podClusterNameOf, podsRouteName, RESOURCE_NAMES } from "./names.js";

describe("resource names", () => {
  it("names a pod's cluster namespace/app/pod, the same from the parts or from the app's key", () => {
    assert.equal(podClusterName("ns", "shiny", "p-1"), "ns/shiny/p-1");
    assert.equal(podClusterNameOf("ns/shiny", "p-1"), "ns/shiny/p-1");
  });

  it("gives an app's clusters a prefix no other app's pod cluster and no shared cluster has", () => {
    const prefix = appClusterPrefix("ns/shiny");
    assert.ok(podClusterName("ns", "shiny", "p").startsWith(prefix));
    // An app whose name extends this one's ("shiny-admin"), or a pod whose name does, stays outside.
    assert.ok(!podClusterName("ns", "shiny-admin", "p").startsWith(prefix));
    assert.ok(!podClusterName("ns-b", "shiny", "p").startsWith(prefix));
    for (const shared of Object.values(RESOURCE_NAMES)) assert.ok(!shared.includes("/"), shared);
  });

  it("finds a pod key's app cluster prefix, and none for a shared cluster", () => {
    assert.equal(appClusterPrefixOfPod(podClusterName("ns", "shiny", "p-1")), appClusterPrefix("ns/shiny"));
    assert.equal(appClusterPrefixOfPod(RESOURCE_NAMES.authzCluster), undefined);
  });

  it("names an app's two routes apart from each other and from any cluster", () => {
    assert.equal(podsRouteName("ns", "shiny"), "ns/shiny:pods");
    assert.equal(fallbackRouteName("ns", "shiny"), "ns/shiny:fallback");
  });
});
