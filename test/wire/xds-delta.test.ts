/**
 * Delta ADS (DeltaAggregatedResources) against a client built from Envoy's
 * own .proto files (grpc-js-xds speaks only state of the world): a gateway
 * that reconnects with `initial_resource_versions` is sent only what changed
 * while it was away, and removals arrive as `removed_resources`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPE_URLS } from "../../src/xds/resources/index.js";
import { DeltaGateway } from "./delta-gateway.js";
import { eventually } from "../support/wait-for.js";
import { app, key, model, pod, ROUTES, startXdsStack } from "./xds-harness.js";

const p = (n: number, ip = `10.0.0.${n}`): ReturnType<typeof pod> => pod(`p${n}`, ip);

describe("xDS delta with an Envoy-proto client", () => {
  it("a reconnecting gateway with initial_resource_versions gets only what changed", async () => {
    const stack = await startXdsStack(model([app("shiny", [p(1), p(2), p(3)])]));
    const names = [1, 2, 3].map((n) => key("shiny", `p${n}`));
    const first = new DeltaGateway(stack.address, "gw-delta");
    let cds: Record<string, string>;
    let eds: Record<string, string>;
    let rds: Record<string, string>;
    try {
      first.subscribe(TYPE_URLS.cluster, []);
      first.subscribe(TYPE_URLS.endpoints, names);
      first.subscribe(TYPE_URLS.routes, [ROUTES]);
      await first.waitFor(
        () => names.every((n) => n in first.known(TYPE_URLS.endpoints)) && ROUTES in first.known(TYPE_URLS.routes) && names.every((n) => n in first.known(TYPE_URLS.cluster)),
        "initial sync",
      );
      cds = first.known(TYPE_URLS.cluster);
      eds = first.known(TYPE_URLS.endpoints);
      rds = first.known(TYPE_URLS.routes);
    } finally {
      await first.close();
    }

    // While it is away: p2 moves to a new address, p3 goes away.
    stack.setModel(model([app("shiny", [p(1), p(2, "10.0.9.2")])]));

    const second = new DeltaGateway(stack.address, "gw-delta");
    try {
      second.subscribe(TYPE_URLS.cluster, [], cds);
      second.subscribe(TYPE_URLS.endpoints, names, eds);
      second.subscribe(TYPE_URLS.routes, [ROUTES], rds);
      await second.waitFor(() => second.responses.some((r) => r.type_url === TYPE_URLS.endpoints), "the endpoints update");
      await second.waitFor(() => second.responses.some((r) => r.type_url === TYPE_URLS.cluster), "the cluster removal");

      const sent = (typeUrl: string): string[] => second.responses.filter((r) => r.type_url === typeUrl).flatMap((r) => (r.resources ?? []).map((x) => x.name));
      const removed = (typeUrl: string): string[] => second.responses.filter((r) => r.type_url === typeUrl).flatMap((r) => r.removed_resources ?? []);
      assert.deepEqual(sent(TYPE_URLS.endpoints), [key("shiny", "p2")], "only the moved pod's endpoints are re-sent");
      assert.deepEqual(sent(TYPE_URLS.cluster), [], "unchanged clusters are not re-sent");
      assert.deepEqual(removed(TYPE_URLS.cluster), [key("shiny", "p3")]);
      assert.deepEqual(sent(TYPE_URLS.routes), [], "the route table names no pod: it did not change");
    } finally {
      await second.close();
      await stack.close();
    }
  });

  it("a single-pod change sends only that pod's resources on a live delta stream: never the route table", async () => {
    const stack = await startXdsStack(model([app("shiny", [p(1), p(2)]), app("lab", [pod("l1", "10.0.1.1")])]));
    const gw = new DeltaGateway(stack.address, "gw-live");
    const names = [key("shiny", "p1"), key("shiny", "p2"), key("lab", "l1")];
    try {
      gw.subscribe(TYPE_URLS.cluster, []);
      gw.subscribe(TYPE_URLS.endpoints, names);
      gw.subscribe(TYPE_URLS.routes, [ROUTES]);
      await gw.waitFor(() => names.every((n) => n in gw.known(TYPE_URLS.endpoints)) && ROUTES in gw.known(TYPE_URLS.routes), "initial sync");
      const before = gw.responses.length;
      stack.setModel(model([app("shiny", [p(1), p(2, "10.0.9.2")]), app("lab", [pod("l1", "10.0.1.1")])]));
      await gw.waitFor(() => gw.responses.length > before, "the change");
      const after = gw.responses.slice(before);
      assert.deepEqual(
        after.map((r) => [r.type_url, (r.resources ?? []).map((x) => x.name), r.removed_resources ?? []]),
        [[TYPE_URLS.endpoints, [key("shiny", "p2")], []]],
      );

      // A pod removed: only its endpoints and cluster go, endpoints first (break in reverse).
      const mark = gw.responses.length;
      stack.setModel(model([app("shiny", [p(1)]), app("lab", [pod("l1", "10.0.1.1")])]));
      await gw.waitFor(() => gw.responses.slice(mark).some((r) => r.type_url === TYPE_URLS.cluster), "the cluster removal");
      const removal = gw.responses.slice(mark).map((r) => [r.type_url, (r.resources ?? []).map((x) => x.name), r.removed_resources ?? []]);
      assert.deepEqual(removal, [
        [TYPE_URLS.endpoints, [], [key("shiny", "p2")]],
        [TYPE_URLS.cluster, [], [key("shiny", "p2")]],
      ]);

      // A pod added: only its cluster and endpoints, cluster first (make before use).
      const added = gw.responses.length;
      stack.setModel(model([app("shiny", [p(1), p(3)]), app("lab", [pod("l1", "10.0.1.1")])]));
      await gw.waitFor(() => gw.responses.slice(added).some((r) => r.type_url === TYPE_URLS.cluster), "the new cluster");
      gw.subscribe(TYPE_URLS.endpoints, [key("shiny", "p3")]);
      await gw.waitFor(() => key("shiny", "p3") in gw.known(TYPE_URLS.endpoints), "the new endpoints");
      const addition = gw.responses.slice(added).map((r) => [r.type_url, (r.resources ?? []).map((x) => x.name), r.removed_resources ?? []]);
      assert.deepEqual(addition, [
        [TYPE_URLS.cluster, [key("shiny", "p3")], []],
        [TYPE_URLS.endpoints, [key("shiny", "p3")], []],
      ]);
    } finally {
      await gw.close();
      await stack.close();
    }
  });

  it("make before use: a new app's pod stays unroutable while the gateway has not ACKed the route table that routes it, and becomes routable once it has", async () => {
    const stack = await startXdsStack(model([app("shiny", [p(1)])]));
    const gw = new DeltaGateway(stack.address, "gw-routes");
    const shiny = key("shiny", "p1");
    const lab = key("lab", "l1");
    try {
      gw.subscribe(TYPE_URLS.cluster, []);
      gw.subscribe(TYPE_URLS.endpoints, [shiny]);
      gw.subscribe(TYPE_URLS.routes, [ROUTES]);
      await gw.waitFor(() => shiny in gw.known(TYPE_URLS.endpoints) && ROUTES in gw.known(TYPE_URLS.routes), "initial sync");
      await eventually(() => stack.ads.isRoutable("default", shiny), { what: "shiny/p1 routable" });

      // The gateway takes clusters and endpoints at once but is slow to apply the new route table.
      gw.hold(TYPE_URLS.routes);
      const mark = gw.responses.length;
      stack.setModel(model([app("shiny", [p(1)]), app("lab", [pod("l1", "10.0.1.1")])]));
      await gw.waitFor(() => lab in gw.known(TYPE_URLS.cluster), "the new app's cluster");
      gw.subscribe(TYPE_URLS.endpoints, [lab]);
      await gw.waitFor(() => lab in gw.known(TYPE_URLS.endpoints) && gw.responses.slice(mark).some((r) => r.type_url === TYPE_URLS.routes), "its endpoints and the new route table");
      const group = (): { versions: Readonly<Record<string, string>> } | undefined => stack.ads.status().groups.find((g) => g.group === "default");
      const type = (typeUrl: string): { ackedVersion?: string | undefined; ackedResources: number } | undefined =>
        stack.ads.status().streams.find((s) => s.nodeId === "gw-routes")?.types.find((t) => t.typeUrl === typeUrl);
      // The server has recorded the ACKs of the new cluster list and of both pods' endpoints.
      await eventually(() => type(TYPE_URLS.cluster)?.ackedVersion === group()?.versions[TYPE_URLS.cluster] && type(TYPE_URLS.endpoints)?.ackedResources === 2, {
        what: "CDS and EDS ACKed on the server",
      });
      assert.equal(stack.ads.isRoutable("default", lab), false, "no ticket may send a user to lab: the gateway has no route for it yet");
      assert.equal(stack.ads.isRoutable("default", shiny), true, "shiny's pod is not held back");

      gw.release(TYPE_URLS.routes);
      await eventually(() => stack.ads.isRoutable("default", lab), { what: "lab/l1 routable after the route table's ACK" });
    } finally {
      await gw.close();
      await stack.close();
    }
  });
});
