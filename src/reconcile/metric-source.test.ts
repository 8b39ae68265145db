import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { admit } from "../tickets/admit.js";
import { RequestRate } from "../tickets/request-rate.js";
import { APP, harness, pod } from "../tickets/tickets.fixture.js";
import { makeSpec } from "../../test/support/app-spec.js";
import { ticketMetrics } from "./metric-source.js";

describe("ticketMetrics", () => {
  it("tickets held, open WebSockets and the request rate, per app", () => {
    const clock = new FakeClock();
    const { core } = harness(clock, makeSpec({ ticketsPerPod: 4 }), [pod("p1")]);
    const a = admit(core, APP, {});
    const b = admit(core, APP, {});
    assert.ok(a.kind === "issued" && b.kind === "issued");
    core.openConnection(APP, a.ticket.id, "c1");
    core.openConnection(APP, a.ticket.id, "c2");
    const rate = new RequestRate(10_000);
    rate.record(APP, clock.now(), 50);
    const m = ticketMetrics(core, clock, rate);
    assert.deepEqual([m.value(APP, "tickets"), m.value(APP, "connections"), m.value(APP, "requestsPerSecond")], [2, 2, 5]);
    assert.equal(m.value("ns/none", "tickets"), undefined);
    assert.equal(ticketMetrics(core, clock).value(APP, "requestsPerSecond"), undefined, "no rate recorded anywhere: not measured");
  });
});
