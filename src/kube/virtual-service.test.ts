/**
 * KubeRouteSwitch against the test API server (real HTTP, resourceVersions,
 * JSON patch with its 409 and 422), through client-node.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import type { KObject } from "../../test/support/kube-api/kinds.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { apiClients } from "./kube-api.fixture.js";
import { kubeApis } from "./resources.js";
import { KubeRouteSwitch, SERVE_ROUTE_ANNOTATION } from "./virtual-service.js";

const VSS = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";
const RESOLVER = { host: "ticketplane-resolver.ticketplane-system.svc.cluster.local", port: 9006 };
const SPEC = makeSpec({ namespace: "default", name: "web" });
const APP = "default/web";
const GATEWAY_DEST = [{ destination: { host: "ticket-gateway.ticketplane-system.svc.cluster.local", port: { number: 8080 } }, weight: 100 }];

/** A VirtualService people also edit: another route before ours, hosts, gateways, a label. */
function virtualService(ours: unknown = { name: "ticketplane-web", match: [{ uri: { prefix: "/web/" } }], route: GATEWAY_DEST, timeout: "0s" }): KObject {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "web", namespace: "default", labels: { team: "lab" } },
    spec: { hosts: ["lab.example.com"], gateways: ["istio-system/ingress"], http: [{ name: "docs", match: [{ uri: { prefix: "/docs/" } }], route: [{ destination: { host: "docs" } }] }, ours] },
  };
}

const kube = useKubeApi();

function routeSwitch(): KubeRouteSwitch {
  const { kubeConfig } = apiClients(kube.server);
  return new KubeRouteSwitch({ custom: kubeApis(kubeConfig).custom, call: { clock: new FakeClock(), timeoutMs: 10_000 }, resolver: RESOLVER });
}

async function create(vs: KObject): Promise<void> {
  const r = await kube.api.post(VSS, vs);
  assert.ok(r.status < 300, JSON.stringify(r.body));
}

async function current(): Promise<KObject> {
  return (await kube.api.get(`${VSS}/web`)).body;
}

describe("KubeRouteSwitch", () => {
  it("flips only its own route to the resolver and back, keeping every other route and field", async () => {
    await create(virtualService());
    const rs = routeSwitch();
    const before = await current();
    const r1 = await rs.read(APP, SPEC);
    assert.ok(r1.kind === "found" && r1.mode === "Serve");
    await rs.write(APP, SPEC, "Proxy", r1.resourceVersion);
    const r2 = await rs.read(APP, SPEC);
    assert.ok(r2.kind === "found" && r2.mode === "Proxy", "read back: Proxy");
    const proxied = await current();
    const http = (proxied.spec as { http: { name: string; route: unknown; match: unknown; timeout?: string }[] }).http;
    assert.deepEqual(http[1]?.route, [{ destination: { host: RESOLVER.host, port: { number: RESOLVER.port } } }]);
    assert.deepEqual(http[0], (before.spec as { http: unknown[] }).http[0], "the other route is untouched");
    assert.equal(http[1]?.timeout, "0s");
    assert.deepEqual(proxied.metadata?.labels, { team: "lab" });
    assert.deepEqual(JSON.parse(String(proxied.metadata?.annotations?.[SERVE_ROUTE_ANNOTATION])), GATEWAY_DEST);
    await rs.write(APP, SPEC, "Serve", r2.kind === "found" ? r2.resourceVersion : "");
    const back = await current();
    assert.deepEqual(back.spec, before.spec, "back to exactly what it was");
    assert.equal(back.metadata?.annotations?.[SERVE_ROUTE_ANNOTATION], undefined);
  });

  it("is idempotent: writing the mode it already has changes nothing", async () => {
    await create(virtualService());
    const rs = routeSwitch();
    const r = await rs.read(APP, SPEC);
    const rv = r.kind === "found" ? r.resourceVersion : "";
    await rs.write(APP, SPEC, "Serve", rv);
    assert.equal((await current()).metadata?.resourceVersion, rv);
  });

  it("a change since the read is a TP_CONFLICT, never overwritten", async () => {
    await create(virtualService());
    const rs = routeSwitch();
    const r = await rs.read(APP, SPEC);
    await kube.api.patch(`${VSS}/web`, { metadata: { labels: { team: "other" } } }, "application/merge-patch+json");
    await assert.rejects(rs.write(APP, SPEC, "Proxy", r.kind === "found" ? r.resourceVersion : ""), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.CONFLICT);
    const again = await rs.read(APP, SPEC);
    assert.ok(again.kind === "found" && again.mode === "Serve");
  });

  it("a 409 from the API server between read and write is a TP_CONFLICT", async () => {
    await create(virtualService());
    const rs = routeSwitch();
    const r = await rs.read(APP, SPEC);
    const rv = r.kind === "found" ? r.resourceVersion : "";
    // Someone writes after our write's own read: the patch's resourceVersion precondition fails.
    kube.server.onRequest((req) => {
      if (req.method === "PATCH") kube.server.store.patch(kube.server.store.kinds.find((k) => k.plural === "virtualservices")!, "default", "web", "merge", { metadata: { labels: { x: "y" } } });
    });
    await assert.rejects(rs.write(APP, SPEC, "Proxy", rv), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.CONFLICT);
  });

  it("a 500 rejects with TP_UNAVAILABLE (the work queue retries)", async () => {
    await create(virtualService());
    const rs = routeSwitch();
    const r = await rs.read(APP, SPEC);
    kube.server.failNext(1, { status: 500, method: "PATCH" });
    await assert.rejects(rs.write(APP, SPEC, "Proxy", r.kind === "found" ? r.resourceVersion : ""), (e: unknown) => e instanceof TicketplaneError && e.code === ERROR_CODES.UNAVAILABLE);
  });

  it("missing and malformed VirtualServices are readings that name what is wrong", async () => {
    const rs = routeSwitch();
    assert.deepEqual(await rs.read(APP, SPEC), { kind: "missing", message: "VirtualService default/web does not exist" });
    await create(virtualService({ name: "someone-else", route: GATEWAY_DEST }));
    const noRoute = await rs.read(APP, SPEC);
    assert.equal(noRoute.kind, "missing");
    assert.match(noRoute.kind === "missing" ? noRoute.message : "", /no http route named ticketplane-web/);
    await kube.api.delete(`${VSS}/web`);
    await create(virtualService({ name: "ticketplane-web", route: [] }));
    const empty = await rs.read(APP, SPEC);
    assert.deepEqual(empty, { kind: "malformed", message: "VirtualService default/web: spec.http[1].route must list at least one destination" });
    await kube.api.delete(`${VSS}/web`);
    await create(virtualService({ name: "ticketplane-web", route: [{ destination: { host: RESOLVER.host } }] }));
    const stranded = await rs.read(APP, SPEC);
    assert.equal(stranded.kind, "malformed", "at the resolver with nothing saved to point back to");
  });

  it("uses resolver.virtualService when the app names one", async () => {
    await create({ ...virtualService(), metadata: { name: "lab-routes", namespace: "default" } });
    const r = await routeSwitch().read(APP, makeSpec({ namespace: "default", name: "web", resolverVirtualService: "lab-routes" }));
    assert.equal(r.kind, "found");
  });
});
