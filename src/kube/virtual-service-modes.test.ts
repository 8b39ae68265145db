import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Watch } from "@kubernetes/client-node";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { KINDS, type KObject } from "../../test/support/kube-api/kinds.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { eventually } from "../../test/support/wait-for.js";
import type { AppKey, AppSpec } from "../config/app-spec.js";
import { apiClients } from "./kube-api.fixture.js";
import { SERVE_ROUTE_ANNOTATION } from "./virtual-service.js";
import { stripVirtualService, VirtualServiceModes } from "./virtual-service-modes.js";

const RESOLVER = "ticketplane.ticketplane-system.svc.cluster.local";
const VSS = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";
const GATEWAY = [{ destination: { host: "ticket-gateway.ticketplane-system.svc.cluster.local", port: { number: 8080 } } }];
const AT_RESOLVER = [{ destination: { host: RESOLVER, port: { number: 8081 } } }];

const kube = useKubeApi();

function virtualService(name: string, routes: Record<string, unknown>, annotations?: Record<string, string>): KObject {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
    spec: { hosts: ["*"], http: Object.entries(routes).map(([n, route]) => ({ name: n, route })) },
  };
}

const SAVED = { [SERVE_ROUTE_ANNOTATION]: JSON.stringify(GATEWAY) };

function modesFor(specs: Record<AppKey, AppSpec>): VirtualServiceModes {
  const { kubeConfig } = apiClients(kube.server);
  return new VirtualServiceModes({ kubeConfig, watch: new Watch(kubeConfig), namespaces: [], resolverHost: RESOLVER, specOf: (app) => specs[app], clock: new FakeClock(), logger: new RecordingLogger() });
}

describe("VirtualServiceModes (every replica's view of the apps' routes)", () => {
  it("reads Proxy where the app's route points at the resolver, follows the flips as the watch sees them, and tells its subscribers", async () => {
    await kube.api.post(VSS, virtualService("web", { docs: [{ destination: { host: "docs" } }], "ticketplane-web": GATEWAY }));
    await kube.api.post(VSS, virtualService("shared", { "ticketplane-lab": AT_RESOLVER }, SAVED));
    const modes = modesFor({ "default/web": makeSpec({ namespace: "default", name: "web" }), "default/lab": makeSpec({ namespace: "default", name: "lab", resolverVirtualService: "shared" }) });
    let told = 0;
    modes.subscribe(() => told++);
    await modes.start(new AbortController().signal);
    try {
      assert.equal(modes.mode("default/web"), "serve");
      assert.equal(modes.mode("default/lab"), "proxy", "the VirtualService the app names (resolver.virtualService)");
      assert.equal(modes.mode("default/nobody"), "serve", "an app the inventory does not know serves");
      // The owner's flip, as KubeRouteSwitch writes it: the route's destinations and the saved ones.
      const before = told;
      await kube.api.patch(`${VSS}/web`, { metadata: { annotations: SAVED }, spec: { http: [{ name: "docs", route: [{ destination: { host: "docs" } }] }, { name: "ticketplane-web", route: AT_RESOLVER }] } }, "application/merge-patch+json");
      await eventually(() => modes.mode("default/web") === "proxy" || undefined, { what: "web in Proxy" });
      assert.ok(told > before, "subscribers hear of the change");
      // And back: Serve only once the stored route points at the app again.
      await kube.api.patch(`${VSS}/web`, { spec: { http: [{ name: "docs", route: [{ destination: { host: "docs" } }] }, { name: "ticketplane-web", route: GATEWAY }] } }, "application/merge-patch+json");
      await eventually(() => modes.mode("default/web") === "serve" || undefined, { what: "web back in Serve" });
      await kube.api.delete(`${VSS}/shared`);
      await eventually(() => modes.mode("default/lab") === "serve" || undefined, { what: "lab serves once its VirtualService is gone" });
      assert.deepEqual(modes.readinessReasons(), []);
    } finally {
      await modes.stop();
    }
  });

  it("a cluster without Istio's CRD: every app serves, and the start does not fail", async () => {
    await kube.restartWith({ kinds: KINDS.filter((k) => k.kind !== "VirtualService") });
    const modes = modesFor({ "default/web": makeSpec({ namespace: "default", name: "web" }) });
    await modes.start(new AbortController().signal);
    try {
      assert.equal(modes.mode("default/web"), "serve");
    } finally {
      await modes.stop();
    }
  });
});

describe("stripVirtualService", () => {
  it("keeps the mode of each ticketplane route (the first of a name), and leaves malformed ones and other routes out", () => {
    const vs = virtualService("web", { docs: AT_RESOLVER, "ticketplane-a": AT_RESOLVER, "ticketplane-b": [], "ticketplane-c": [{ destination: {} }], "ticketplane-d": GATEWAY }, SAVED);
    (vs.spec as { http: unknown[] }).http.push({ name: "ticketplane-d", route: AT_RESOLVER }, "junk", { name: 7 });
    const stripped = stripVirtualService(vs, RESOLVER);
    assert.deepEqual({ ...stripped?.modes }, { "ticketplane-a": "Proxy", "ticketplane-d": "Serve" });
  });

  it("at the resolver with no saved route to go back to is malformed: it serves", () => {
    assert.deepEqual({ ...stripVirtualService(virtualService("web", { "ticketplane-a": AT_RESOLVER }), RESOLVER)?.modes }, {});
  });

  it("skips what is not an object with a name; a missing spec has no routes", () => {
    assert.equal(stripVirtualService(null, RESOLVER), undefined);
    assert.equal(stripVirtualService({ metadata: {} }, RESOLVER), undefined);
    assert.deepEqual({ ...stripVirtualService({ metadata: { name: "x" } }, RESOLVER)?.modes }, {});
  });
});
