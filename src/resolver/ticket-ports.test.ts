/**
 * The resolver over the real ticket core (createTicketResolverPorts), a real
 * upstream on 127.0.0.1 and the fake clock: what goes through the resolver
 * is activity on its ticket, reported to the activity sink Check and the
 * access log use (here a recorder in front of the ticket core, as a
 * follower's forwarder would sit).
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Registry } from "prom-client";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { httpGet } from "../../test/support/http-get.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { startUpstream } from "../../test/support/upstream-server.js";
import { eventually } from "../../test/support/wait-for.js";
import type { AppKey } from "../config/app-spec.js";
import type { ActivityRecorder } from "../tickets/ports.js";
import { TicketCore } from "../tickets/ticket-core.js";
import { keyRing, sequentialIds } from "../tickets/tickets.fixture.js";
import { ResolverServer } from "./resolver-server.js";
import { createTicketResolverPorts } from "./ticket-ports.js";

const KEY: AppKey = "ns/app";
const IDLE_MS = 60_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The activity sink, recording each call before the ticket core applies it. */
class RecordingActivity implements ActivityRecorder {
  readonly calls: string[] = [];
  constructor(readonly core: TicketCore) {}
  touch(app: AppKey, ticketId: string): void {
    this.calls.push(`touch ${ticketId}`);
    this.core.touch(app, ticketId);
  }
  openConnection(app: AppKey, ticketId: string, connectionId: string): void {
    this.calls.push(`open ${ticketId}`);
    this.core.openConnection(app, ticketId, connectionId);
  }
  closeConnection(connectionId: string): void {
    this.calls.push("close");
    this.core.closeConnection(connectionId);
  }
}

async function setup() {
  const clock = new FakeClock();
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(), routableByDefault: true });
  core.setApps([makeSpec({ ticketsPerPod: 1, ticket: { idleTimeoutMs: IDLE_MS } })]);
  const up = await startUpstream("pod-1");
  cleanups.push(() => up.close());
  core.setPods(KEY, [{ name: "pod-1", host: "127.0.0.1", port: up.port, ready: true }]);
  const activity = new RecordingActivity(core);
  const ports = createTicketResolverPorts({ views: core, tickets: core, activity, wake: () => undefined });
  cleanups.push(() => ports.close());
  const resolver = new ResolverServer({ ports, listen: { host: "127.0.0.1", port: 0 }, clock, logger: new RecordingLogger(), registry: new Registry() });
  await resolver.start();
  cleanups.push(() => resolver.stop());
  return { clock, core, activity, port: resolver.address().port };
}

/** A GET to the resolver: its status, and the first Set-Cookie's name=value (the ticket cookie). */
async function get(port: number, path: string, cookie?: string): Promise<{ status: number; cookie: string | undefined }> {
  const answer = await httpGet("127.0.0.1", port, path, cookie === undefined ? {} : { cookie });
  return { status: answer.status, cookie: /^[^;]+/.exec(answer.cookie[0] ?? "")?.[0] };
}

describe("activity through the resolver", () => {
  it("a WebSocket keeps its ticket from going idle while open; its close is reported and the idle timeout counts from there", async () => {
    const t = await setup();
    const ws = new WebSocket(`ws://127.0.0.1:${String(t.port)}/app/ws`);
    cleanups.push(() => ws.close());
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("websocket failed")));
    });
    await eventually(() => t.activity.calls.includes("open id-1") || undefined, { what: "the open reported" });
    const [ticket] = t.core.tickets(KEY);
    assert.equal(ticket?.openConnections, 1);
    assert.equal(ticket.confirmed, true, "an open WebSocket ends the probation, as through the gateway");

    // Long past the idle timeout (and the probation), the open WebSocket holds the ticket.
    t.clock.advance(IDLE_MS * 3);
    t.core.sweep();
    assert.equal(t.core.tickets(KEY).length, 1, "not idle while the WebSocket is open");

    ws.close();
    await eventually(() => t.activity.calls.includes("close") || undefined, { what: "the close reported" });
    assert.deepEqual(t.activity.calls.slice(-2), ["close", "touch id-1"], "the close is activity too");
    assert.equal(t.core.tickets(KEY)[0]?.openConnections, 0);
    t.clock.advance(IDLE_MS - 1);
    t.core.sweep();
    assert.equal(t.core.tickets(KEY).length, 1, "the idle timeout counts from the close");
    t.clock.advance(2);
    t.core.sweep();
    assert.equal(t.core.tickets(KEY).length, 0, "then idle: released");
  });

  it("a plain request released with a valid ticket counts as request activity on it", async () => {
    const t = await setup();
    const first = await get(t.port, "/app/");
    assert.equal(first.status, 200);
    assert.ok(first.cookie !== undefined);
    t.clock.advance(IDLE_MS - 1_000);
    const again = await get(t.port, "/app/x", first.cookie);
    assert.equal(again.status, 200);
    assert.ok(t.activity.calls.includes("touch id-1"), `the valid ticket's use goes to the activity sink: ${JSON.stringify(t.activity.calls)}`);
    t.clock.advance(IDLE_MS - 1_000);
    t.core.sweep();
    assert.equal(t.core.tickets(KEY).length, 1, "not idle: used within the idle timeout");
  });
});
