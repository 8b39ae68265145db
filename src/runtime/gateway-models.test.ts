import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { TicketCore } from "../tickets/index.js";
import { buildGatewayMessages, gatewayResourcesErrors } from "../xds/resources/build.js";
import { buildGatewayModels } from "./gateway-models.js";

describe("buildGatewayModels", () => {
  const core = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
  core.setApps([makeSpec({ name: "shiny" }), makeSpec({ name: "lab", gateway: "edge" })]);
  core.setPods("ns/shiny", [
    { name: "a", host: "127.0.0.1", port: 8081, ready: true },
    { name: "b", host: "127.0.0.1", port: 8082, ready: false },
  ]);
  const gateway = { listenerAddress: "0.0.0.0", listenerPort: 8080, authzTimeoutMs: 250 };
  const models = buildGatewayModels({ views: core, gateway, upstreams: { authz: { host: "0.0.0.0", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } } });

  it("groups apps by gateway and keeps pods that are not ready, so their users keep their route", () => {
    assert.deepEqual(models.map((m) => m.group), ["default", "edge"]);
    const shiny = models[0]?.apps[0];
    assert.deepEqual(shiny?.pods.map((p) => p.name), ["a", "b"]);
    assert.equal(shiny?.mode, "serve");
  });

  it("hands each app's pods as the ticket core's own array, the same until a pod comes or goes (the builder keeps what it built from it)", () => {
    const again = buildGatewayModels({ views: core, gateway, upstreams: { authz: { host: "0.0.0.0", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } } });
    assert.equal(again[0]?.apps[0]?.pods, models[0]?.apps[0]?.pods);
    assert.deepEqual(again[0]?.apps[0]?.pods[0], { name: "a", host: "127.0.0.1", port: 8081 });
  });

  it("points ext_authz and access logs at dialable addresses (a wildcard bind becomes loopback)", () => {
    assert.deepEqual(models[0]?.extAuthz, { cluster: { host: "127.0.0.1", port: 9001 }, timeoutMs: 250 });
    assert.deepEqual(models[0]?.accessLog.cluster, { host: "127.0.0.1", port: 9002 });
    assert.deepEqual(models[0]?.listener, { address: "0.0.0.0", port: 8080 });
  });

  it("behind the Istio ingress gateway (extAuthz: false, accessLogAddress): no ext_authz filter or authz cluster, access logs to the Service by DNS", () => {
    const behind = buildGatewayModels({
      views: core,
      gateway: { ...gateway, extAuthz: false, accessLogAddress: { host: "ticketplane.ticketplane-system.svc.cluster.local", port: 9002 } },
      upstreams: { authz: { host: "0.0.0.0", port: 9001 }, accessLog: { host: "0.0.0.0", port: 9002 } },
    });
    const model = behind[0];
    assert.ok(model !== undefined);
    assert.equal(model.extAuthz, undefined);
    assert.deepEqual(model.accessLog.cluster, { host: "ticketplane.ticketplane-system.svc.cluster.local", port: 9002 });
    const messages = buildGatewayMessages(model);
    assert.deepEqual(gatewayResourcesErrors(messages), []);
    assert.deepEqual(messages.clusters.map((c) => [c.name, c.type]).filter(([n]) => String(n).startsWith("ticketplane-")), [["ticketplane-als", 1]], "STRICT_DNS (1) access-log cluster, no authz cluster");
    const filters = JSON.stringify(messages.listener);
    assert.doesNotMatch(filters, /ext_authz/);
    // extAuthz unset or true: the filter stays (standalone mode).
    assert.notEqual(buildGatewayModels({ views: core, gateway: { ...gateway, extAuthz: true }, upstreams: { authz: { host: "127.0.0.1", port: 1 }, accessLog: { host: "127.0.0.1", port: 2 } } })[0]?.extAuthz, undefined);
  });

  it("follows each app's route mode: at zero (proxy) the app's traffic without a ticket goes to the resolver's cluster", () => {
    const modes = (app: string): "serve" | "proxy" => (app === "ns/lab" ? "proxy" : "serve");
    const local = buildGatewayModels({ views: core, gateway, upstreams: { authz: { host: "0.0.0.0", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } }, modes, resolver: { host: "0.0.0.0", port: 9006 } });
    assert.deepEqual(local.map((m) => m.apps.map((a) => `${a.name}:${a.mode}`)), [["shiny:serve"], ["lab:proxy"]]);
    assert.deepEqual(local[1]?.resolver, { host: "127.0.0.1", port: 9006 });
    const edge = local[1];
    assert.ok(edge !== undefined);
    const messages = buildGatewayMessages(edge);
    assert.deepEqual(gatewayResourcesErrors(messages), []);
    assert.ok(messages.routes.virtualHosts.some((vh) => vh.routes.some((r) => r.route?.cluster === "ticketplane-resolver")));
    assert.equal(models[1]?.resolver, undefined, "without a resolver: none in the model");
  });

  it("always has the default group, and drops a pod the ticket core no longer has", () => {
    const solo = new TicketCore({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
    solo.setApps([makeSpec({ name: "shiny", gateway: "edge" })]);
    solo.setPods("ns/shiny", [{ name: "b", host: "127.0.0.1", port: 8082, ready: true }]);
    const again = buildGatewayModels({ views: solo, gateway, upstreams: { authz: { host: "127.0.0.1", port: 1 }, accessLog: { host: "127.0.0.1", port: 2 } } });
    assert.deepEqual(again.map((m) => [m.group, m.apps.length]), [["default", 0], ["edge", 1]]);
    solo.setPods("ns/shiny", []);
    const none = buildGatewayModels({ views: solo, gateway, upstreams: { authz: { host: "127.0.0.1", port: 1 }, accessLog: { host: "127.0.0.1", port: 2 } } });
    assert.deepEqual(none[1]?.apps[0]?.pods, []);
  });
});
