import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPE_URLS } from "../resources/type-urls.js";
import { appGatewayResources, appRoutes, gatewayResources, listener, podCluster, podEndpoints, routes } from "./resources.fixture.js";
import { Snapshot } from "./snapshot.js";
import { diffType } from "./snapshot-diff.js";

describe("Snapshot", () => {
  it("versions a resource by its content: stable for equal bytes, changed for different bytes", () => {
    const a = Snapshot.build(gatewayResources(["ns/a/p1"]));
    const b = Snapshot.build(gatewayResources(["ns/a/p1"]));
    const c = Snapshot.build(gatewayResources(["ns/a/p1"], { "ns/a/p1": "10.9.9.9" }));
    const v = (s: Snapshot, t: typeof TYPE_URLS.endpoints | typeof TYPE_URLS.cluster): string | undefined => s.get(t, "ns/a/p1")?.version;
    assert.equal(v(a, TYPE_URLS.endpoints), v(b, TYPE_URLS.endpoints));
    assert.notEqual(v(a, TYPE_URLS.endpoints), v(c, TYPE_URLS.endpoints));
    assert.equal(v(a, TYPE_URLS.cluster), v(c, TYPE_URLS.cluster));
    assert.equal(a.typeVersion(TYPE_URLS.cluster), c.typeVersion(TYPE_URLS.cluster));
    assert.notEqual(a.typeVersion(TYPE_URLS.endpoints), c.typeVersion(TYPE_URLS.endpoints));
  });

  it("reuses the encoded resource (and its wire forms) of an unchanged resource from the previous snapshot", () => {
    const a = Snapshot.build(gatewayResources(["ns/a/p1"]));
    const entry = a.get(TYPE_URLS.cluster, "ns/a/p1")?.deltaEntry;
    const b = Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2"]), a);
    assert.equal(b.get(TYPE_URLS.cluster, "ns/a/p1"), a.get(TYPE_URLS.cluster, "ns/a/p1"));
    assert.equal(b.get(TYPE_URLS.cluster, "ns/a/p1")?.deltaEntry, entry);
  });

  it("checks consistency: every EDS cluster's endpoints and the listener's route table exist", () => {
    assert.deepEqual(Snapshot.build(gatewayResources(["ns/a/p1"])).consistent(), { ok: true });
    const missing = Snapshot.build([podCluster("ns/a/p1"), listener("other-routes"), routes(["ns/a/p1"])]).consistent();
    assert.equal(missing.ok, false);
    if (!missing.ok) {
      assert.equal(missing.errors.length, 2);
      assert.match(missing.errors.join("\n"), /ClusterLoadAssignment "ns\/a\/p1"/);
      assert.match(missing.errors.join("\n"), /RouteConfiguration "other-routes"/);
    }
  });

  it("reports a resource that does not decode as an inconsistency, not an exception", () => {
    const junk = { typeUrl: TYPE_URLS.cluster, name: "junk", encoded: new Uint8Array([0xff, 0xff, 0xff]), pods: [] };
    const result = Snapshot.build([junk]).consistent();
    assert.equal(result.ok, false);
  });

  it("refuses two resources with the same type and name (a builder bug)", () => {
    assert.throws(() => Snapshot.build([podEndpoints("x"), podEndpoints("x", "10.0.0.2")]), /duplicate/);
  });

  it("indexes which resources carry each pod", () => {
    const s = Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2"]));
    assert.deepEqual(s.carriersOf("ns/a/p2")?.get(TYPE_URLS.routes), ["ticketplane-routes"]);
    assert.deepEqual(s.carriersOf("ns/a/p2")?.get(TYPE_URLS.cluster), ["ns/a/p2"]);
  });

  it("indexes a route table that names no pod under every pod of the apps it routes, and no other pod", () => {
    const s = Snapshot.build([...appGatewayResources(["ns/a/p1", "ns/b/q1"]).filter((r) => r.typeUrl !== TYPE_URLS.routes), appRoutes(["ns/a/p1"])]);
    assert.deepEqual(s.carriersOf("ns/a/p1")?.get(TYPE_URLS.routes), ["ticketplane-routes"]);
    assert.equal(s.carriersOf("ns/b/q1")?.get(TYPE_URLS.routes), undefined, "app b has no route");
    const routesResource = s.get(TYPE_URLS.routes, "ticketplane-routes");
    assert.equal(routesResource?.carries("ns/a/p9"), true, "any pod of a routed app");
    assert.equal(routesResource?.carries("ns/b/q1"), false);
    assert.equal(routesResource?.carries("ns/a"), false, "a name that is no pod's");
    assert.equal(s.get(TYPE_URLS.cluster, "ns/b/q1")?.carries("ns/b/q1"), true);
  });

  it("does not reuse a previous resource whose routed apps differ, even with the same bytes", () => {
    const before = Snapshot.build([appRoutes(["ns/a/p1"])]);
    const same = Snapshot.build([appRoutes(["ns/a/p1"])], before);
    assert.equal(same.get(TYPE_URLS.routes, "ticketplane-routes"), before.get(TYPE_URLS.routes, "ticketplane-routes"));
    const relabelled = Snapshot.build([{ ...appRoutes(["ns/a/p1"]), apps: ["ns/a/", "ns/z/"] }], before);
    assert.notEqual(relabelled.get(TYPE_URLS.routes, "ticketplane-routes"), before.get(TYPE_URLS.routes, "ticketplane-routes"));
  });

  it("diffs one type between snapshots", () => {
    const a = Snapshot.build(gatewayResources(["ns/a/p1", "ns/a/p2"]));
    const b = Snapshot.build(gatewayResources(["ns/a/p2", "ns/a/p3"], { "ns/a/p2": "10.2.2.2" }), a);
    const eds = diffType(a, b, TYPE_URLS.endpoints);
    assert.deepEqual(eds.upserted.map((r) => r.name).sort(), ["ns/a/p2", "ns/a/p3"]);
    assert.deepEqual(eds.removed, ["ns/a/p1"]);
    assert.deepEqual(diffType(b, b, TYPE_URLS.listener), { upserted: [], removed: [] });
  });
});
