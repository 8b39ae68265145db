import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clampPods, ticketsDemandPods } from "../tickets/scaling.js";
import { demandOf, isActive, metricNameOf } from "./demand.js";

describe("demandOf", () => {
  const spec = { ticketsPerPod: 4, spareTickets: 2, minPods: 0, maxPods: 5 };

  it("reports used + queued + spare against ticketsPerPod", () => {
    assert.deepEqual(demandOf({ used: 5, queued: 1 }, spec), { metric: 8, target: 4, active: true });
  });

  it("clamps to maxPods × ticketsPerPod and minPods × ticketsPerPod", () => {
    assert.equal(demandOf({ used: 30, queued: 9 }, spec).metric, 20);
    assert.equal(demandOf({ used: 0, queued: 0 }, { ...spec, minPods: 2, spareTickets: 0 }).metric, 8);
  });

  it("is inactive with no ticket and nobody waiting, whatever the spare slots", () => {
    assert.deepEqual(demandOf({ used: 0, queued: 0 }, spec), { metric: 2, target: 4, active: false });
    assert.equal(isActive({ used: 0, queued: 1 }), true);
    assert.equal(isActive({ used: 1, queued: 0 }), true);
  });

  it("makes the HPA's ceil(metric / target) the app's desired pods", () => {
    for (let used = 0; used <= 30; used++) {
      for (const queued of [0, 1, 7]) {
        for (const s of [spec, { ...spec, minPods: 1 }, { ticketsPerPod: 1, spareTickets: 0, minPods: 0, maxPods: 3 }, { ticketsPerPod: 3, spareTickets: 5, minPods: 2, maxPods: 10 }]) {
          const d = demandOf({ used, queued }, s);
          const want = clampPods(ticketsDemandPods(used, queued, s.spareTickets, s.ticketsPerPod), s.minPods, s.maxPods);
          assert.equal(Math.ceil(d.metric / d.target), want, JSON.stringify({ used, queued, s }));
        }
      }
    }
  });

  it("names the metric after the app", () => {
    assert.equal(metricNameOf("team-a", "nb"), "ticketplane-tickets-team-a-nb");
  });
});
