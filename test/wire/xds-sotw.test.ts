/**
 * Our ADS server (state of the world) against an independent client:
 * gRPC's XdsClient from @grpc/grpc-js-xds, which validates every resource as
 * gRPC does and ACKs or NACKs it. The server is driven by the real publisher
 * and cache with real buildGatewayResources output.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TYPE_URLS } from "../../src/xds/resources/index.js";
import type { StreamStatus, TypeStatus } from "../../src/xds/index.js";
import { closeAll, startPeers, XdsPeer, type XdsValues } from "../support/xds-client.js";
import { eventually } from "../support/wait-for.js";
import { app, key, model, pod, podsRoute, ROUTES, startXdsStack, type XdsStack } from "./xds-harness.js";

function routeNames(routes: XdsValues["routes"]): string[] {
  return routes.virtual_hosts.flatMap((vh) => vh.routes.map((r) => r.name));
}

function hasRoute(name: string): (routes: XdsValues["routes"]) => boolean {
  return (routes) => routeNames(routes).includes(name);
}

function typeStatus(stack: XdsStack, nodeId: string, typeUrl: string): TypeStatus | undefined {
  const stream = stack.ads.status().streams.find((s: StreamStatus) => s.nodeId === nodeId);
  return stream?.types.find((t) => t.typeUrl === typeUrl);
}

/**
 * Blocked: buildClusterLoadAssignment (src/xds/resources/cluster-load-assignment.ts)
 * leaves `endpoints[].locality` unset; Envoy tolerates that, gRPC does not
 * ("endpoints[0].locality unset"), so grpc-js-xds NACKs every pod's
 * ClusterLoadAssignment. `locality: {}` fixes it; these tests then pass.
 */

const twoPods = (): ReturnType<typeof model> => model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2")])]);

describe("xDS SotW with grpc-js-xds", () => {
  it("initial fetch: the pod's cluster and the app's route arrive and are ACKed, and gRPC accepts a cluster_header route", async () => {
    const stack = await startXdsStack(twoPods());
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-initial" });
    try {
      peer.watch("cluster", key("shiny", "p1"));
      peer.watch("routes", ROUTES);
      const cluster = await peer.untilValue("cluster", key("shiny", "p1"), () => true);
      assert.equal(cluster.type, "EDS");
      const routes = await peer.untilValue("routes", ROUTES, () => true);
      assert.deepEqual(routeNames(routes), [podsRoute("shiny"), "ns/shiny:fallback"], "no route names a pod");
      const route = routes.virtual_hosts.flatMap((vh) => vh.routes).find((r) => r.name === podsRoute("shiny"));
      assert.equal(route?.route?.cluster_specifier, "cluster_header");
      assert.equal(route?.route?.cluster_header, "x-ticketplane-cluster");
      assert.equal(route?.match?.prefix, "/shiny/");
      assert.deepEqual(
        route?.match?.headers.map((h) => [h.name, h.string_match?.prefix]),
        [["x-ticketplane-cluster", "ns/shiny/"]],
      );
      assert.equal(peer.status("routes", ROUTES)?.clientStatus, "ACKED");
      // The server saw the ACK of the version it sent.
      const rds = await eventually(() => {
        const t = typeStatus(stack, "gw-initial", TYPE_URLS.routes);
        return t?.ackedVersion !== undefined && t;
      }, { what: "server records the RDS ACK", timeoutMs: 5_000 });
      assert.equal(rds.ackedVersion, peer.status("routes", ROUTES)?.version);
      assert.equal(rds.lastNack, undefined);
    } finally {
      await peer.close();
      await stack.close();
    }
  });

  it("initial fetch: the pod's endpoints arrive and are ACKed", async () => {
    const stack = await startXdsStack(twoPods());
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-eds" });
    try {
      peer.watch("endpoints", key("shiny", "p2"));
      const cla = await peer.untilValue("endpoints", key("shiny", "p2"), () => true, 3_000);
      assert.equal(cla.endpoints[0]?.lb_endpoints[0]?.endpoint?.address?.socket_address?.address, "10.0.0.2");
    } finally {
      await peer.close();
      await stack.close();
    }
  });

  it("a pod added shows up, a pod drained keeps its cluster, a pod removed disappears, and the route table never changes", async () => {
    const stack = await startXdsStack(twoPods());
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-churn" });
    try {
      peer.watch("routes", ROUTES);
      peer.watchAll("cluster", [key("shiny", "p1"), key("shiny", "p3")]);
      await peer.untilValue("routes", ROUTES, hasRoute(podsRoute("shiny")));
      await peer.untilValue("cluster", key("shiny", "p1"), () => true);
      const routesVersion = peer.status("routes", ROUTES)?.version;

      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2"), pod("p3", "10.0.0.3")])]));
      await peer.untilValue("cluster", key("shiny", "p3"), (c) => c.name === key("shiny", "p3"));

      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2"), pod("p3", "10.0.0.3")])]));
      // Draining changes only the endpoints' health: the cluster stays for existing tickets.
      assert.equal(peer.status("cluster", key("shiny", "p1"))?.clientStatus, "ACKED");

      stack.setModel(model([app("shiny", [pod("p2", "10.0.0.2"), pod("p3", "10.0.0.3")])]));
      await peer.until("cluster", key("shiny", "p1"), (e) => e.type === "does-not-exist");
      await stack.publisher.idle();
      assert.equal(peer.status("routes", ROUTES)?.version, routesVersion, "pods came and went; the route table stayed");
      assert.equal(peer.history("routes", ROUTES).length, 1, "the route table was sent once");
    } finally {
      await peer.close();
      await stack.close();
    }
  });

  it("a pod that stops being healthy keeps its cluster and HEALTHY endpoints, so its existing tickets still reach it", async () => {
    const stack = await startXdsStack(twoPods());
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-drain" });
    try {
      peer.watch("endpoints", key("shiny", "p1"));
      peer.watchAll("cluster", [key("shiny", "p1"), key("shiny", "p3")]);
      await peer.untilValue("endpoints", key("shiny", "p1"), () => true, 3_000);
      // p1 turns unhealthy; p3 is added in the same edit so we can see the edit has been pushed.
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2"), pod("p3", "10.0.0.3")])]));
      await peer.untilValue("cluster", key("shiny", "p3"), () => true, 3_000);
      assert.equal(peer.status("cluster", key("shiny", "p1"))?.clientStatus, "ACKED", "p1 keeps its cluster");
      // Envoy excludes EDS-DRAINING hosts from load balancing, so health stays HEALTHY.
      assert.equal(peer.current("endpoints", key("shiny", "p1"))?.endpoints[0]?.lb_endpoints[0]?.health_status, "HEALTHY");
    } finally {
      await peer.close();
      await stack.close();
    }
  });

  it("a NACK is recorded, the last good config stays, the bad version is not re-sent, and a fixed version is ACKed", async () => {
    const stack = await startXdsStack(twoPods());
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-nack" });
    try {
      peer.watch("routes", ROUTES);
      const good = await peer.untilValue("routes", ROUTES, hasRoute(podsRoute("shiny")));
      const goodVersion = peer.status("routes", ROUTES)?.version;
      // Wait for the server to read the ACK: one that arrives after a newer response is stale and ignored.
      await eventually(() => typeStatus(stack, "gw-nack", TYPE_URLS.routes)?.ackedVersion === goodVersion, { what: "server records the first ACK", timeoutMs: 5_000 });

      // Serve mode: the fallback becomes a 503 direct_response, which gRPC clients reject.
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2")], "serve")]));
      const nack = await peer.until("routes", ROUTES, (e) => e.type === "error");
      assert.match(nack.type === "error" ? nack.details : "", /unsupported action/);
      const recorded = await eventually(() => typeStatus(stack, "gw-nack", TYPE_URLS.routes)?.lastNack, { what: "server records the NACK", timeoutMs: 5_000 });
      assert.equal(recorded.version, peer.status("routes", ROUTES)?.failedVersion);
      assert.match(recorded.message, /unsupported action/);
      assert.equal(typeStatus(stack, "gw-nack", TYPE_URLS.routes)?.ackedVersion, goodVersion, "the server keeps the last ACKed version");
      assert.deepEqual(peer.current("routes", ROUTES), good, "the client keeps the last good config");

      // No loop: an unrelated publish (same routes) must not re-send the rejected version.
      const sentNonce = typeStatus(stack, "gw-nack", TYPE_URLS.routes)?.lastSentNonce;
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2")], "serve")]));
      await stack.publisher.idle();
      assert.equal(typeStatus(stack, "gw-nack", TYPE_URLS.routes)?.lastSentNonce, sentNonce);
      assert.equal(peer.history("routes", ROUTES).filter((e) => e.type === "error").length, 1);

      // Recovery: a fixed model (proxy mode again, and one more app) yields a new version, which the client takes.
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2")]), app("lab", [])]));
      await peer.untilValue("routes", ROUTES, hasRoute(podsRoute("lab")));
      const fixed = await eventually(() => {
        const t = typeStatus(stack, "gw-nack", TYPE_URLS.routes);
        return t?.ackedVersion !== goodVersion && t;
      }, { what: "server records the ACK of the fixed version", timeoutMs: 5_000 });
      assert.equal(fixed.ackedVersion, peer.status("routes", ROUTES)?.version);
    } finally {
      await peer.close();
      await stack.close();
    }
  });

  it("a gateway that reconnects gets the current config on its new stream, and the old stream is gone", async () => {
    const stack = await startXdsStack(twoPods());
    const first = XdsPeer.start({ address: stack.address, nodeId: "gw-reconnect" });
    try {
      first.watch("routes", ROUTES);
      await first.untilValue("routes", ROUTES, hasRoute(podsRoute("shiny")));
    } finally {
      await first.close();
    }
    await eventually(() => stack.ads.status().streams.length === 0, { what: "old stream unregistered", timeoutMs: 5_000 });
    stack.setModel(model([app("lab", [pod("l1", "10.0.0.5")])]));
    const second = XdsPeer.start({ address: stack.address, nodeId: "gw-reconnect" });
    try {
      second.watch("routes", ROUTES);
      const routes = await second.untilValue("routes", ROUTES, hasRoute(podsRoute("lab")));
      assert.equal(hasRoute(podsRoute("shiny"))(routes), false);
      assert.equal(stack.ads.status().streams.filter((s) => s.nodeId === "gw-reconnect").length, 1);
    } finally {
      await second.close();
      await stack.close();
    }
  });

  it("50 clients at once all get the initial config and a change, and leave no stream behind", async () => {
    const stack = await startXdsStack(twoPods());
    const peers = startPeers(50, { address: stack.address, nodeIdPrefix: "gw-many" });
    try {
      for (const p of peers) p.watch("routes", ROUTES);
      await Promise.all(peers.map((p) => p.untilValue("routes", ROUTES, hasRoute(podsRoute("shiny")), 15_000)));
      assert.equal(stack.ads.status().streams.length, 50);
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2")]), app("lab", [pod("l1", "10.0.0.6")])]));
      await Promise.all(peers.map((p) => p.untilValue("routes", ROUTES, hasRoute(podsRoute("lab")), 15_000)));
    } finally {
      await closeAll(peers);
    }
    try {
      await eventually(() => stack.ads.status().streams.length === 0, { what: "every stream unregistered", timeoutMs: 5_000 });
      assert.equal(stack.cache.watchCount(), 0, "no cache watch left behind");
    } finally {
      await stack.close();
    }
  });

  it("make before use: a new pod is routable only after the client has ACKed its cluster and endpoints; the route table does not change", async () => {
    const stack = await startXdsStack(model([app("shiny", [pod("p1", "10.0.0.1")])]));
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-mbu" });
    const p2 = key("shiny", "p2");
    const seenAtRoutable: string[][] = [];
    const unsubscribe = stack.ads.onRoutable((group, podKey, routable) => {
      if (group !== "default" || podKey !== p2 || !routable) return;
      seenAtRoutable.push([peer.status("cluster", p2)?.clientStatus ?? "-", peer.status("endpoints", p2)?.clientStatus ?? "-", String(peer.status("routes", ROUTES)?.version)]);
    });
    try {
      peer.watch("routes", ROUTES);
      peer.watchAll("cluster", [key("shiny", "p1"), p2]);
      peer.watchAll("endpoints", [key("shiny", "p1"), p2]);
      await peer.untilValue("routes", ROUTES, hasRoute(podsRoute("shiny")));
      await peer.untilValue("endpoints", key("shiny", "p1"), () => true);
      const routesVersion = String(peer.status("routes", ROUTES)?.version);
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1"), pod("p2", "10.0.0.2")])]));
      assert.equal(stack.ads.isRoutable("default", p2), false, "not routable before any ACK");
      await eventually(() => stack.ads.isRoutable("default", p2), { what: "p2 routable", timeoutMs: 3_000 });
      // Client-side state is updated before its ACK leaves, so at the moment the server declares the pod routable the client holds both.
      assert.deepEqual(seenAtRoutable[0], ["ACKED", "ACKED", routesVersion]);
    } finally {
      unsubscribe();
      await peer.close();
      await stack.close();
    }
  });

  it("make before use: a new app's pod stays unroutable while gRPC NACKs the route table that routes it, and becomes routable once it accepts one", async () => {
    const stack = await startXdsStack(model([app("shiny", [pod("p1", "10.0.0.1")])]));
    const peer = XdsPeer.start({ address: stack.address, nodeId: "gw-new-app" });
    const lab = key("lab", "l1");
    try {
      peer.watch("routes", ROUTES);
      peer.watchAll("cluster", [key("shiny", "p1"), lab]);
      peer.watchAll("endpoints", [key("shiny", "p1"), lab]);
      await peer.untilValue("routes", ROUTES, hasRoute(podsRoute("shiny")));
      await eventually(() => stack.ads.isRoutable("default", key("shiny", "p1")), { what: "shiny/p1 routable" });

      // A serve-mode app's fallback is a direct_response, which gRPC refuses: it NACKs the whole
      // route table (keeping the old one), while it takes lab's cluster and endpoints.
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1")]), app("lab", [pod("l1", "10.0.1.1")], "serve")]));
      await peer.untilValue("endpoints", lab, () => true);
      await eventually(() => peer.status("routes", ROUTES)?.clientStatus === "NACKED", { what: "gRPC NACKs the route table" });
      await eventually(
        () => {
          const cds = typeStatus(stack, "gw-new-app", TYPE_URLS.cluster);
          const eds = typeStatus(stack, "gw-new-app", TYPE_URLS.endpoints);
          const rds = typeStatus(stack, "gw-new-app", TYPE_URLS.routes);
          // gRPC names the clusters it wants: what it has ACKed is both of them.
          return cds?.ackedResources === 2 && cds.ackedVersion === cds.lastSentVersion && eds?.ackedResources === 2 && rds?.lastNack !== undefined;
        },
        { what: "the server has the ACKs of lab's cluster and endpoints and the NACK of the route table" },
      );
      assert.equal(peer.status("cluster", lab)?.clientStatus, "ACKED");
      assert.equal(peer.status("endpoints", lab)?.clientStatus, "ACKED");
      assert.equal(stack.ads.isRoutable("default", lab), false, "the gateway has no route to lab: no ticket may send a user there");

      // The app's fallback goes to the resolver instead: a route table gRPC accepts.
      stack.setModel(model([app("shiny", [pod("p1", "10.0.0.1")]), app("lab", [pod("l1", "10.0.1.1")], "proxy")]));
      await peer.untilValue("routes", ROUTES, hasRoute(podsRoute("lab")));
      await eventually(() => stack.ads.isRoutable("default", lab), { what: "lab/l1 routable once the route table is ACKed" });
    } finally {
      await peer.close();
      await stack.close();
    }
  });
});
