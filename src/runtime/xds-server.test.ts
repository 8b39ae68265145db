import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { silentLogger } from "../common/logger.js";
import { TicketCore } from "../tickets/index.js";
import { TYPE_URLS } from "../xds/resources/type-urls.js";
import type { GatewaySource } from "./ports.js";
import { XdsServer } from "./xds-server.js";

class Settings implements GatewaySource {
  value = { listenerAddress: "127.0.0.1", listenerPort: 8080, authzTimeoutMs: 250 };
  #listeners: (() => void)[] = [];
  current(): typeof this.value {
    return this.value;
  }
  subscribe(listener: () => void): () => void {
    this.#listeners.push(listener);
    return () => (this.#listeners = this.#listeners.filter((l) => l !== listener));
  }
  change(port: number): void {
    this.value = { ...this.value, listenerPort: port };
    for (const l of this.#listeners) l();
  }
}

describe("XdsServer", () => {
  it("follows ticket-core events and gateway settings by itself: no caller asks it to publish", async () => {
    const clock = new FakeClock();
    const core = new TicketCore({ clock, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
    const settings = new Settings();
    const xds = new XdsServer({ listen: { host: "127.0.0.1", port: 0 }, tickets: core, gateway: settings, logger: silentLogger, registry: new Registry(), clock });
    const clusters = (): string[] => xds.resourceNames("default", TYPE_URLS.cluster);
    await xds.start();
    try {
      assert.deepEqual(xds.status().groups, [], "nothing to publish before Check is bound");
      xds.setUpstreams({ authz: { host: "127.0.0.1", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } });
      clock.advance(20);
      assert.deepEqual(clusters(), ["ticketplane-als", "ticketplane-authz"]);

      core.setApps([makeSpec({ name: "shiny" })]);
      core.setPods("ns/shiny", [{ name: "a", host: "10.0.0.1", port: 80, ready: true }]);
      clock.advance(20);
      assert.deepEqual(clusters(), ["ns/shiny/a", "ticketplane-als", "ticketplane-authz"]);
      // With no gateway connected a published pod is routable at once, and the ticket core hears of it.
      assert.equal(core.pods("ns/shiny")[0]?.routable, true);

      const before = xds.status().groups[0]?.versions[TYPE_URLS.listener];
      settings.change(9090);
      clock.advance(20);
      assert.notEqual(xds.status().groups[0]?.versions[TYPE_URLS.listener], before, "a gateway settings change is published");
    } finally {
      await xds.stop();
    }
  });

  it("publishes at once when Check's address becomes known, so pods are routable before the authz line is printed", async () => {
    const clock = new FakeClock();
    const core = new TicketCore({ clock, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
    core.setApps([makeSpec({ name: "shiny" })]);
    core.setPods("ns/shiny", [{ name: "a", host: "10.0.0.1", port: 80, ready: true }]);
    const xds = new XdsServer({ listen: { host: "127.0.0.1", port: 0 }, tickets: core, gateway: new Settings(), logger: silentLogger, registry: new Registry(), clock });
    await xds.start();
    try {
      assert.equal(xds.published(), false);
      xds.setUpstreams({ authz: { host: "127.0.0.1", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } });
      // No time passes: no debounce stands between Check's first request and a routable pod.
      assert.equal(xds.published(), true);
      assert.equal(core.pods("ns/shiny")[0]?.routable, true);
    } finally {
      await xds.stop();
    }
  });
});
