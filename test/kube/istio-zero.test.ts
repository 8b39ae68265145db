/**
 * Scale from zero under Istio, with Check at the ingress gateway in front of
 * the VirtualService: the world of ./zero-world.ts (reconciler, resolver,
 * test API server, a real app process), plus Check on a real gRPC port
 * asked by a client built from Envoy's own protos, as the ingress gateway's
 * ext_authz filter asks it, with each app's mode from VirtualServiceModes
 * (the informer every replica runs). A second VirtualServiceModes plays a
 * follower replica: it must read the same modes at every step.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { AuthzServer } from "../../src/authz/authz-server.js";
import { apiClients } from "../../src/kube/kube-api.fixture.js";
import { VirtualServiceModes } from "../../src/kube/virtual-service-modes.js";
import { podClusterName } from "../../src/routing/names.js";
import { checkRaw as check, headerPairs as pairs } from "../e2e/check-client.js";
import { authorizationClient } from "../support/envoy-protos.js";
import { useKubeApi } from "../support/kube-api/harness.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { APP, GATEWAY, RESOLVER_SERVICE, world, type ZeroWorld } from "./zero-world.js";

const kube = useKubeApi();

/** Check on a real port over the world's ticket core, its app modes from the VirtualServices; and a follower's view of the same. */
async function ingress(w: ZeroWorld) {
  const { kubeConfig } = apiClients(kube.server);
  const modesOf = () => new VirtualServiceModes({ kubeConfig, namespaces: [], resolverHost: RESOLVER_SERVICE.host, specOf: (app) => w.actors.inventory.app(app)?.spec, clock: w.clock, logger: new RecordingLogger() });
  const modes = modesOf();
  const follower = modesOf();
  await modes.start(new AbortController().signal);
  await follower.start(new AbortController().signal);
  const authz = new AuthzServer({ tickets: w.core, logger: new RecordingLogger(), listen: { authz: "127.0.0.1:0" }, routeMode: (app) => modes.mode(app), clock: w.clock, registry: new Registry() });
  await authz.start();
  const client = authorizationClient(authz.addresses.authz);
  return {
    client,
    /** The mode both replicas read, or "disagree". */
    mode: (): string => (modes.mode(APP) === follower.mode(APP) ? modes.mode(APP) : "disagree"),
    async stop() {
      client.close();
      await authz.stop();
      await modes.stop();
      await follower.stop();
    },
  };
}

describe("scale from zero behind Check at an Istio ingress gateway", () => {
  it("Check lets a request of an app at zero through untouched to the resolver, which wakes the app and issues the ticket; once the route is back, Check validates that ticket", async () => {
    const w = await world(kube);
    const gw = await ingress(w);
    try {
      w.markReady();
      const first = await w.app("web-1");
      await w.until("the pod in the ticket core", () => w.core.pods(APP).some((p) => p.ready));
      assert.equal(gw.mode(), "serve");
      await w.until("replicas 0", async () => (await w.replicas()) === 0);
      await first.stop();
      await w.until("the pod gone", () => w.core.pods(APP).length === 0);
      await w.until("both replicas read Proxy from the VirtualService", () => gw.mode() === "proxy");

      // The ingress gateway asks Check first: allowed untouched (a forged cluster header removed), nothing issued, nobody queued.
      const atZero = await check(gw.client, "/web/hello", { "x-ticketplane-cluster": "default/web/forged", accept: "text/html" });
      assert.equal(atZero.status?.code ?? 0, 0, "allowed");
      assert.ok(atZero.ok_response !== undefined, "an OkHttpResponse");
      assert.equal(atZero.denied_response, undefined, "not the waiting room");
      assert.deepEqual(pairs(atZero.ok_response?.headers), [], "no cluster header: the VirtualService's route (the resolver) stays");
      assert.ok(atZero.ok_response?.headers_to_remove?.includes("x-ticketplane-cluster"), "the client's cluster header is removed");
      assert.deepEqual(pairs(atZero.ok_response?.response_headers_to_add), [], "no ticket issued by Check");
      assert.deepEqual([w.core.figures(APP)?.used, w.core.figures(APP)?.queued], [0, 0], "no ticket and nobody queued");

      // Then the VirtualService sends it to the resolver, which holds it and wakes the app: 0 → 1.
      const answer = w.send("/web/hello");
      await w.until("replicas 1", async () => (await w.replicas()) === 1);
      await w.until("the new pod", () => w.podsOf().length === 1);
      w.markReady();
      await w.app("web-2");
      const a = await w.settled("the held request's answer", answer);
      assert.equal(a.status, 200);
      const pod = w.core.pods(APP)[0]?.name ?? "";
      assert.equal(a.body, `web-2 GET /hello pod=${pod}`);
      const cookie = /^(ticketplane=t1\.[^;]+)/.exec(a.cookie[0] ?? "")?.[1];
      assert.ok(cookie !== undefined, `a ticket cookie from the resolver: ${JSON.stringify(a.cookie)}`);

      // The reconciler flips the route back; only then does Check go back to validating, on every replica.
      await w.until("the route back at the app", async () => JSON.stringify(await w.vsRoute()) === JSON.stringify(GATEWAY));
      await w.until("both replicas read Serve", () => gw.mode() === "serve");
      const back = await check(gw.client, "/web/next", { cookie });
      assert.equal(back.status?.code ?? 0, 0);
      assert.deepEqual(
        pairs(back.ok_response?.headers).filter(([k]) => k === "x-ticketplane-cluster"),
        [["x-ticketplane-cluster", podClusterName("default", "web", pod)]],
        "the resolver's ticket routes to its pod",
      );
      assert.deepEqual(pairs(back.ok_response?.response_headers_to_add), [], "the ticket held: no new one");
      assert.equal(w.core.figures(APP)?.used, 1, "one ticket: the user's");

      // Without a ticket, Check is Check again: a new user is issued one (no longer let through untouched).
      const newcomer = await check(gw.client, "/web/", {});
      assert.ok(pairs(newcomer.ok_response?.response_headers_to_add).some(([k, v]) => k === "set-cookie" && v.startsWith("ticketplane=t1.")));
    } finally {
      await gw.stop();
      await w.stop();
    }
  });
});
