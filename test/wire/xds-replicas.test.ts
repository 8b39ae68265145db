/**
 * Several replicas serve identical xDS: two runtimes (each its own ticket
 * core and XdsServer, as two processes have) fed the same apps and pods —
 * one of them by another route, in another order, through states the other
 * never saw — publish the same version for every resource, and a delta
 * gateway that synced with one and reconnects to the other with its known
 * versions (initial_resource_versions) is sent nothing at all.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { silentLogger } from "../../src/common/logger.js";
import { XdsServer } from "../../src/runtime/xds-server.js";
import type { GatewaySource } from "../../src/runtime/ports.js";
import { TicketCore } from "../../src/tickets/index.js";
import type { PodInput } from "../../src/tickets/index.js";
import { TYPE_URLS } from "../../src/xds/resources/index.js";
import { makeSpec } from "../support/app-spec.js";
import { FakeClock } from "../support/fake-clock.js";
import { DeltaGateway } from "./delta-gateway.js";

const GATEWAY: GatewaySource = { current: () => ({ listenerAddress: "0.0.0.0", listenerPort: 8080, authzTimeoutMs: 250 }), subscribe: () => () => undefined };
/** In a cluster every replica listens on the same ports behind one Service: the upstreams a gateway dials are the same. */
const UPSTREAMS = { authz: { host: "10.96.0.10", port: 9001 }, accessLog: { host: "10.96.0.10", port: 9002 } };
const SHINY = makeSpec({ name: "shiny", pathPrefix: "/shiny/" });
const LAB = makeSpec({ name: "lab", pathPrefix: "/lab/" });
const pod = (name: string, host: string): PodInput => ({ name, host, port: 8080, ready: true });
const SHINY_PODS = [pod("shiny-a", "10.0.0.1"), pod("shiny-b", "10.0.0.2"), pod("shiny-c", "10.0.0.3")];
const LAB_PODS = [pod("lab-a", "10.0.1.1")];
const TYPES = [TYPE_URLS.listener, TYPE_URLS.routes, TYPE_URLS.cluster, TYPE_URLS.endpoints] as const;

async function replica(feed: (core: TicketCore, clock: FakeClock) => void): Promise<{ xds: XdsServer; core: TicketCore; stop: () => Promise<void> }> {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
  const xds = new XdsServer({ listen: { host: "127.0.0.1", port: 0 }, tickets: core, gateway: GATEWAY, logger: silentLogger, registry: new Registry(), clock });
  await xds.start();
  xds.setUpstreams(UPSTREAMS);
  feed(core, clock);
  xds.publishNow();
  return { xds, core, stop: () => xds.stop() };
}

/** Subscribes to every type: wildcard CDS and LDS, the named EDS and RDS. */
function sync(gw: DeltaGateway, xds: XdsServer, initial: Partial<Record<string, Record<string, string>>> = {}): void {
  for (const type of TYPES) {
    const wildcard = type === TYPE_URLS.cluster || type === TYPE_URLS.listener;
    gw.subscribe(type, wildcard ? [] : xds.resourceNames("default", type), initial[type] ?? {});
  }
}

describe("xDS from several replicas", () => {
  it("two replicas fed the same apps and pods by different routes serve identical versions; a gateway moving between them is re-sent nothing", async () => {
    const a = await replica((core) => {
      core.setApps([SHINY, LAB]);
      core.setPods("ns/shiny", SHINY_PODS);
      core.setPods("ns/lab", LAB_PODS);
    });
    const b = await replica((core, clock) => {
      // Another order, and states the first never saw: a pod that came and went, an address that changed back.
      core.setApps([LAB]);
      core.setPods("ns/lab", [pod("lab-a", "10.9.9.9"), pod("lab-old", "10.0.1.9")]);
      clock.advance(50);
      core.setApps([LAB, SHINY]);
      core.setPods("ns/shiny", [...SHINY_PODS].reverse());
      core.setPods("ns/lab", LAB_PODS);
      clock.advance(50);
    });
    const first = new DeltaGateway(a.xds.address(), "gw-1");
    const second = new DeltaGateway(b.xds.address(), "gw-1");
    try {
      for (const type of TYPES) assert.deepEqual(b.xds.resourceNames("default", type), a.xds.resourceNames("default", type), `the same ${type} names`);
      sync(first, a.xds);
      const all = (gw: DeltaGateway): boolean => TYPES.every((t) => Object.keys(gw.known(t)).length === a.xds.resourceNames("default", t).length);
      await first.waitFor(() => all(first), "the first replica's resources");
      const known = Object.fromEntries(TYPES.map((t) => [t, first.known(t)]));
      assert.equal(Object.keys(known[TYPE_URLS.endpoints] ?? {}).length, 4);
      // Versions per resource, as each replica publishes them.
      const versions = (xds: XdsServer) => xds.status().groups.find((g) => g.group === "default")?.versions;
      assert.deepEqual(versions(b.xds), versions(a.xds), "the same set version per type");
      await first.close();

      // The gateway reconnects to the other replica with what it holds.
      sync(second, b.xds, known);
      // A change after the reconnect: responses come in order, so anything re-sent would come before the one that carries it.
      b.core.setPods("ns/shiny", [...SHINY_PODS, pod("shiny-d", "10.0.0.4")]);
      b.xds.publishNow();
      await second.waitFor(() => "ns/shiny/shiny-d" in second.known(TYPE_URLS.cluster), "the new pod's cluster");
      const sent = second.responses.flatMap((r) => (r.resources ?? []).map((x) => `${r.type_url} ${x.name}`));
      const removed = second.responses.flatMap((r) => r.removed_resources ?? []);
      assert.deepEqual([sent, removed], [[`${TYPE_URLS.cluster} ns/shiny/shiny-d`], []], "only the change: nothing re-sent, nothing removed");
    } finally {
      await second.close();
      await a.stop();
      await b.stop();
    }
  });
});
