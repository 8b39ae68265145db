import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { makeSpec } from "../../test/support/app-spec.js";
import { admit } from "../tickets/admit.js";
import { TicketCore } from "../tickets/ticket-core.js";
import { join, keyRing, pod, sequentialIds } from "../tickets/tickets.fixture.js";
import type { XdsStatus } from "../xds/index.js";
import { appsView, statusView } from "./api-views.js";
import type { ScaleDecisionView, ScaleViews } from "./ports.js";

const CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
const APP = "ns/app";

function world() {
  const clock = new FakeClock(Date.parse("2026-03-01T10:00:00Z"));
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  core.setApps([makeSpec({ ticketsPerPod: 2 })]);
  core.setPods(APP, [pod("p1"), pod("p2", { draining: true })]);
  return { clock, core };
}

const xds = (acked: string, current: string, nack?: string): XdsStatus => ({
  streams: [
    {
      streamId: 1,
      nodeId: "gw-1",
      nodeCluster: "default",
      group: "default",
      protocol: "delta",
      connectedSince: Date.parse("2026-03-01T09:00:00Z"),
      waitingForConfig: false,
      bytesInFlight: 0,
      firstSyncBytes: 0,
      types: [
        { typeUrl: CDS, subscription: "*", ackedVersion: acked, ackedResources: 2, lastSentVersion: nack === undefined ? acked : current, ...(nack === undefined ? {} : { lastNack: { version: current, nonce: "3", message: nack, at: 0 } }) },
        { typeUrl: LDS, subscription: "*", ackedVersion: "l1", ackedResources: 1, lastSentVersion: "l1" },
      ],
    },
  ],
  writes: { bytesInFlight: 0, limit: 1, streamsWaiting: 0 },
  firstSyncs: { bytes: 0, limit: 1, streamsWaiting: 0 },
  waitingForConfig: [],
  groups: [{ group: "default", versions: { [CDS]: current, [LDS]: "l1" }, pendingPods: [] }],
});

describe("the views: /api/apps and /api/status", () => {
  it("shows each pod's slots (used, free on serving pods only, draining), WebSockets and the queue", () => {
    const { core } = world();
    const a = admit(core, APP, {});
    const b = admit(core, APP, {});
    assert.ok(a.kind === "issued" && b.kind === "issued");
    core.openConnection(APP, a.ticket.id, "ws-1");
    assert.equal(join(core).kind, "queued");
    const [app] = appsView(core).apps;
    assert.ok(app !== undefined);
    assert.deepEqual(
      app.pods.map((p) => [p.name, p.used, p.free, p.draining, p.serving, p.connections]),
      [
        ["p1", 2, 0, false, true, 1],
        ["p2", 0, 0, true, false, 0],
      ],
    );
    assert.equal(app.connections, 1);
    assert.deepEqual(app.queue, [{ id: "id-3", position: 1, reserved: false }]);
    assert.equal(app.queueLength, 1);
    assert.ok(!JSON.stringify(app).includes("t1."), "never a token");
  });

  it("adds each app's mode and recent decisions from the reconciler, Serve and none without one", () => {
    const { clock, core } = world();
    const decision: ScaleDecisionView = { time: "2026-03-01T09:59:00.000Z", deployment: "web", from: 1, to: 0, reason: "no ticket for 5m" };
    const reconciler: ScaleViews = { mode: () => "Proxy", recentDecisions: (app) => (app === APP ? [decision] : []) };
    const withScale = statusView({ views: core, xds: () => xds("c1", "c1"), scale: reconciler, now: () => clock.now() });
    assert.equal(withScale.generatedAt, "2026-03-01T10:00:00.000Z");
    assert.equal(withScale.apps[0]?.mode, "Proxy");
    assert.deepEqual(withScale.apps[0]?.decisions, [decision]);
    const without = statusView({ views: core, xds: () => xds("c1", "c1"), now: () => clock.now() });
    assert.equal(without.apps[0]?.mode, "Serve");
    assert.deepEqual(without.apps[0]?.decisions, []);
  });

  it("shows each gateway's ACKed version per type against its group's current one, and a NACK", () => {
    const { clock, core } = world();
    const synced = statusView({ views: core, xds: () => xds("c1", "c1"), now: () => clock.now() }).gateways;
    assert.deepEqual(synced.map((g) => [g.nodeId, g.group, g.protocol, g.inSync, g.connectedSince]), [["gw-1", "default", "delta", true, "2026-03-01T09:00:00.000Z"]]);
    assert.deepEqual(synced[0]?.types.map((t) => [t.type, t.ackedVersion, t.inSync]), [["Cluster", "c1", true], ["Listener", "l1", true]]);
    const behind = statusView({ views: core, xds: () => xds("c1", "c2", "cluster x: bad lb policy"), now: () => clock.now() }).gateways[0];
    assert.equal(behind?.inSync, false);
    assert.deepEqual(behind?.types[0], { type: "Cluster", ackedVersion: "c1", currentVersion: "c2", inSync: false, nack: "cluster x: bad lb policy" });
  });

  it("has an empty state", () => {
    const clock = new FakeClock();
    const core = new TicketCore({ clock, keys: keyRing("k1") });
    const empty = statusView({ views: core, xds: () => ({ streams: [], writes: { bytesInFlight: 0, limit: 1, streamsWaiting: 0 }, firstSyncs: { bytes: 0, limit: 1, streamsWaiting: 0 }, waitingForConfig: [], groups: [] }), now: () => clock.now() });
    assert.deepEqual([empty.apps, empty.gateways], [[], []]);
  });
});
