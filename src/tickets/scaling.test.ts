import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULTS, type ScalingSettings } from "../config/app-spec.js";
import { canaryTicketsPods, clampPods, formulaPods, hpaPods, recommend, splitByWeight, ticketsDemandPods } from "./scaling.js";

describe("tickets policy: ceil((used + queued + spare) / ticketsPerPod)", () => {
  const cases: [string, [number, number, number, number], number][] = [
    ["nothing to do", [0, 0, 0, 4], 0],
    ["spare alone asks for a pod", [0, 0, 1, 4], 1],
    ["exact fit", [6, 0, 2, 4], 2],
    ["rounds up", [7, 0, 2, 4], 3],
    ["waiting users are demand", [4, 3, 0, 4], 2],
    ["one ticket per pod", [3, 0, 1, 1], 4],
    ["a zero ticketsPerPod counts as 1", [2, 0, 0, 0], 2],
    ["negative figures count as zero", [-3, -1, 2, 2], 1],
  ];
  for (const [name, [used, queued, spare, per], out] of cases) it(name, () => assert.equal(ticketsDemandPods(used, queued, spare, per), out));
});

describe("clampPods", () => {
  const cases: [number, number, number, number][] = [[3, 0, 5, 3], [9, 0, 5, 5], [0, 2, 5, 2], [0, 3, 1, 1]];
  for (const [n, min, max, out] of cases) it(`${n} in [${min}, ${max}] → ${out}${min > max ? " (maxPods wins)" : ""}`, () => assert.equal(clampPods(n, min, max), out));
});

describe("formula policy (Kapacitor): ceil(metric / target)", () => {
  const cases: [number, number, number][] = [[0, 100, 0], [1, 100, 1], [100, 100, 1], [101, 100, 2], [250, 100, 3], [0.3, 0.1, 3], [-5, 100, 0]];
  for (const [metric, target, out] of cases) it(`${metric} / ${target} → ${out}`, () => assert.equal(formulaPods(metric, target), out));
});

describe("hpa policy: ceil(current × (metric/current) / target), 10 % tolerance", () => {
  // [current, metric (app total), target per pod, tolerance, expected]
  const cases: [string, number, number, number, number, number][] = [
    ["the tutorial's example: 3 pods at 160 % of an 80 % target → 6", 3, 480, 80, 0.1, 6],
    ["within tolerance above: 3 pods at 108 % → 3", 3, 324, 100, 0.1, 3],
    ["within tolerance below: 3 pods at 91 % → 3", 3, 273, 100, 0.1, 3],
    ["just over tolerance: 3 pods at 111 % → 4", 3, 333, 100, 0.1, 4],
    ["just under tolerance: 4 pods at 89 % → 4 (ceil 3.56)", 4, 356, 100, 0.1, 4],
    ["well under: 4 pods at 40 % → 2", 4, 160, 100, 0.1, 2],
    ["no load → 0 (clamping is the caller's)", 4, 0, 100, 0.1, 0],
    ["tolerance 0 reacts to any change", 3, 303, 100, 0, 4],
    ["no pods: the formula stands in", 0, 250, 100, 0.1, 3],
  ];
  for (const [name, current, metric, target, tolerance, out] of cases) it(name, () => assert.equal(hpaPods(current, metric, target, tolerance), out));
});

describe("recommend", () => {
  const base = { ticketsPerPod: 2, spareTickets: 1, minPods: 1, maxPods: 5, used: 0, queued: 0, current: 2 };
  const scaling = (s: Partial<ScalingSettings>): ScalingSettings => ({ ...DEFAULTS.scaling, ...s });
  const cases: [string, Parameters<typeof recommend>[0], number | "none"][] = [
    ["tickets, clamped up to minPods", { ...base, scaling: scaling({}) }, 1],
    ["tickets, 5 used + 1 spare at 2 → 3", { ...base, used: 5, scaling: scaling({}) }, 3],
    ["tickets, capped at maxPods", { ...base, used: 40, scaling: scaling({}) }, 5],
    ["formula", { ...base, scaling: scaling({ policy: "formula", target: 10 }), metric: 35 }, 4],
    ["formula without a metric: no recommendation", { ...base, scaling: scaling({ policy: "formula", target: 10 }) }, "none"],
    ["formula with a NaN metric: no recommendation", { ...base, scaling: scaling({ policy: "formula", target: 10 }), metric: Number.NaN }, "none"],
    ["hpa within tolerance keeps current", { ...base, scaling: scaling({ policy: "hpa", target: 10 }), metric: 21 }, 2],
    ["hpa capped", { ...base, scaling: scaling({ policy: "hpa", target: 10 }), metric: 900 }, 5],
  ];
  for (const [name, input, out] of cases) {
    it(name, () => {
      const r = recommend(input);
      assert.equal(r.ok ? r.desired : "none", out);
      assert.ok(r.reason.length > 0);
    });
  }
  it("the reason names the figures and the clamp", () => {
    const r = recommend({ ...base, used: 40, scaling: scaling({}) });
    assert.equal(r.reason, "40 tickets + 0 waiting + 1 spare at 2 per pod → 21 pods, capped at maxPods 5");
  });
});

describe("canary: splitByWeight", () => {
  const cases: [number, number, { stable: number; canary: number }][] = [
    [4, 25, { stable: 3, canary: 1 }],
    [10, 10, { stable: 9, canary: 1 }],
    [2, 10, { stable: 1, canary: 1 }],
    [1, 10, { stable: 1, canary: 0 }],
    [1, 50, { stable: 0, canary: 1 }],
    [5, 0, { stable: 5, canary: 0 }],
    [5, 100, { stable: 0, canary: 5 }],
    [0, 50, { stable: 0, canary: 0 }],
  ];
  for (const [total, w, out] of cases) it(`${total} pods at ${w} % → ${out.stable} + ${out.canary}`, () => assert.deepEqual(splitByWeight(total, w), out));
});

describe("canary: canaryTicketsPods (each Deployment from its share)", () => {
  const d = { usedStable: 0, usedCanary: 0, queued: 0, spareTickets: 0, ticketsPerPod: 2, weight: 25, minPods: 0, maxPods: 10 };
  const cases: [string, Partial<typeof d>, { stable: number; canary: number }][] = [
    ["nothing: nothing", {}, { stable: 0, canary: 0 }],
    ["spare 4 at 25 %: 3 stable slots, 1 canary slot", { spareTickets: 4 }, { stable: 2, canary: 1 }],
    ["each side's own tickets plus its share", { usedStable: 4, usedCanary: 3, spareTickets: 4 }, { stable: 4, canary: 2 }],
    ["minPods fills by weight", { minPods: 4 }, { stable: 3, canary: 1 }],
    ["over maxPods: held pods stay, the rest by weight", { usedStable: 6, usedCanary: 2, queued: 20, maxPods: 6 }, { stable: 4, canary: 2 }],
    ["weight 0: the canary gets only what its tickets hold", { usedCanary: 1, spareTickets: 2, weight: 0 }, { stable: 1, canary: 1 }],
  ];
  for (const [name, o, out] of cases) it(name, () => assert.deepEqual(canaryTicketsPods({ ...d, ...o }), out));
  it("never exceeds maxPods nor drops below minPods (exhaustive over small figures)", () => {
    for (let us = 0; us <= 6; us++) for (let uc = 0; uc <= 6; uc++) for (let q = 0; q <= 4; q++) for (const w of [0, 10, 50, 90, 100]) for (const [min, max] of [[0, 3], [2, 5], [0, 10]] as const) {
      const r = canaryTicketsPods({ ...d, usedStable: us, usedCanary: uc, queued: q, spareTickets: 1, weight: w, minPods: min, maxPods: max });
      const held = Math.ceil(us / 2) + Math.ceil(uc / 2);
      assert.ok(r.stable + r.canary <= Math.max(max, held), JSON.stringify({ us, uc, q, w, min, max, r }));
      assert.ok(r.stable + r.canary >= Math.min(min, max), JSON.stringify({ us, uc, q, w, min, max, r }));
      assert.ok(r.stable >= Math.min(Math.ceil(us / 2), max) || held > max, JSON.stringify({ us, uc, r }));
    }
  });
});

describe("every policy, over a grid of small figures", () => {
  const scaling = (policy: ScalingSettings["policy"]): ScalingSettings => ({ ...DEFAULTS.scaling, policy, target: 3 });
  const grid = function* () {
    for (const policy of ["tickets", "formula", "hpa"] as const) for (let used = 0; used <= 12; used++) for (let queued = 0; queued <= 3; queued++) for (let current = 0; current <= 6; current++) for (const [minPods, maxPods] of [[0, 4], [1, 6], [2, 2], [3, 1]] as const) {
      yield { scaling: scaling(policy), ticketsPerPod: 3, spareTickets: 1, minPods, maxPods, used, queued, current, metric: used + queued };
    }
  };
  it("stays within [minPods, maxPods] (maxPods winning) and never falls as demand grows", () => {
    for (const input of grid()) {
      const r = recommend(input);
      assert.ok(r.ok);
      assert.ok(r.desired <= input.maxPods && r.desired >= Math.min(input.minPods, input.maxPods), JSON.stringify({ input, r }));
      if (input.scaling.policy !== "hpa") {
        const more = recommend({ ...input, used: input.used + 1, metric: input.metric + 1 });
        assert.ok(more.ok && more.desired >= r.desired, JSON.stringify({ input, r, more }));
      }
    }
  });
  it("tickets: the recommended pods hold every ticket, every waiting user and the spare slots, unless capped", () => {
    for (const input of grid()) {
      if (input.scaling.policy !== "tickets") continue;
      const r = recommend(input);
      assert.ok(r.ok);
      if (r.desired < input.maxPods) assert.ok(r.desired * input.ticketsPerPod >= input.used + input.queued + input.spareTickets, JSON.stringify({ input, r }));
    }
  });
});
