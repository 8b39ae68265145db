import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { DEFAULTS } from "../config/app-spec.js";
import type { AppSpec } from "../config/app-spec.js";
import { TicketOffice } from "../tickets/index.js";
import { applyApps } from "./apply-config.js";
import { buildGatewayModels } from "./gateway-model.js";

const spec = (name: string, gateway: string, pods: AppSpec["pods"]): AppSpec => ({ ...DEFAULTS, source: "file", namespace: "default", name, pathPrefix: `/${name}/`, gateway, pods });

describe("buildGatewayModels", () => {
  const desk = new TicketOffice({ clock: new FakeClock(), keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
  applyApps(desk, [
    spec("shiny", "default", [
      { name: "a", host: "127.0.0.1", port: 8081, ready: true },
      { name: "b", host: "127.0.0.1", port: 8082, ready: false },
    ]),
    spec("lab", "edge", []),
  ]);
  const models = buildGatewayModels({
    desk,
    gateway: () => ({ listenerAddress: "0.0.0.0", listenerPort: 8080, authzTimeoutMs: 250 }),
    authz: () => ({ host: "0.0.0.0", port: 9001 }),
    accessLog: () => ({ host: "127.0.0.1", port: 9002 }),
  });

  it("groups apps by gateway and keeps not-ready pods (unhealthy) so their users keep their route", () => {
    assert.deepEqual(models.map((m) => m.group), ["default", "edge"]);
    const shiny = models[0]?.apps[0];
    assert.deepEqual(shiny?.pods.map((p) => `${p.name}:${p.healthy}`), ["a:true", "b:false"]);
    assert.equal(shiny?.mode, "serve");
  });

  it("points ext_authz and access logs at dialable addresses (a wildcard bind becomes loopback)", () => {
    assert.deepEqual(models[0]?.extAuthz, { cluster: { host: "127.0.0.1", port: 9001 }, timeoutMs: 250 });
    assert.deepEqual(models[0]?.accessLog.cluster, { host: "127.0.0.1", port: 9002 });
    assert.deepEqual(models[0]?.listener, { address: "0.0.0.0", port: 8080 });
  });

  it("drops a pod removed from the desk", () => {
    applyApps(desk, [spec("shiny", "default", [{ name: "b", host: "127.0.0.1", port: 8082, ready: true }])]);
    const again = buildGatewayModels({ desk, gateway: () => ({ listenerAddress: "127.0.0.1", listenerPort: 8080, authzTimeoutMs: 250 }), authz: () => ({ host: "127.0.0.1", port: 1 }), accessLog: () => ({ host: "127.0.0.1", port: 2 }) });
    assert.deepEqual(again.map((m) => m.group), ["default"]);
    assert.deepEqual(again[0]?.apps[0]?.pods.map((p) => p.name), ["b"]);
  });
});
