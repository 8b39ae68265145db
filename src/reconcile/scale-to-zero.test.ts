import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import type { AppSpec } from "../config/app-spec.js";
import { DELETION_COST } from "../tickets/index.js";
import { EMPTY_MEMORY, type Observed, type ObservedPod, type ObservedWorkload } from "./observed.js";
import { plan, SETTLE_MS, type Action } from "./plan.js";
import type { RouteReading } from "./ports.js";

const S = 1000;
const NOW = Date.UTC(2026, 0, 1, 12);
const spec = (o: Partial<AppSpec> = {}): AppSpec => makeSpec({ deployment: "web", ticketsPerPod: 2, minPods: 0, maxPods: 5, spareTickets: 1, podCooldownMs: 10 * S, scaleDown: { pods: 1, periodMs: 15 * S, stabilizationMs: 0 }, ...o });
const workload = (replicas: number): ObservedWorkload => ({ role: "stable", ref: { namespace: "ns", deployment: "web" }, scale: { replicas, resourceVersion: "7", owner: "ticketplane" } });
/** An idle pod, marked draining by the reconciler and carrying its cost: the last step before replicas go down. */
const lastPod = (o: Partial<ObservedPod> = {}): ObservedPod => ({ name: "a", role: "stable", ready: true, tickets: 0, connections: 0, draining: true, drainSince: NOW - 60 * S, drainedBy: "reconciler", idleSince: NOW - 60 * S, cost: DELETION_COST.victim, ...o });
const found = (mode: "Serve" | "Proxy"): RouteReading => ({ kind: "found", mode, resourceVersion: "42" });
const observed = (o: Partial<Observed> = {}): Observed => ({ app: "ns/app", spec: spec(), now: NOW, workloads: [workload(1)], pods: [lastPod()], queued: 0, free: 0, route: found("Serve"), ...o });
const kinds = (actions: readonly Action[]) => actions.map((a) => (a.kind === "event" ? `event:${a.event.reason}` : a.kind === "scale" ? `scale:${a.from}->${a.to}` : a.kind === "route" ? `route:${a.mode}` : a.kind));
const statusOf = (actions: readonly Action[]) => {
  const s = actions.find((a) => a.kind === "status");
  return s?.kind === "status" ? s.status : undefined;
};

describe("scale to zero: going", () => {
  it("an idle app with minPods 0 (even with spare tickets) flips its route to the resolver first, and does not lower replicas in the same run", () => {
    const p = plan(observed(), EMPTY_MEMORY);
    assert.deepEqual(kinds(p.actions).filter((k) => k !== "costs"), ["route:Proxy", "event:RoutedToResolver", "status"]);
    assert.equal(p.requeueAfterMs, SETTLE_MS, "runs again to read the flip back");
    const route = p.actions.find((a) => a.kind === "route");
    assert.equal(route?.kind === "route" ? route.resourceVersion : "", "42");
  });

  it("once the route reads Proxy, lowers the last replica", () => {
    const p = plan(observed({ route: found("Proxy") }), EMPTY_MEMORY);
    assert.deepEqual(kinds(p.actions).filter((k) => k !== "costs"), ["scale:1->0", "event:ScaledDown", "status"]);
    assert.equal(statusOf(p.actions)?.mode, "Proxy");
  });

  it("a missing VirtualService: no scale to zero, a Warning once and a False condition", () => {
    const o = observed({ route: { kind: "missing", message: "VirtualService ns/app does not exist" } });
    const p = plan(o, EMPTY_MEMORY);
    assert.deepEqual(kinds(p.actions).filter((k) => k !== "costs"), ["event:VirtualServiceMissing", "status"]);
    const c = statusOf(p.actions)?.conditions.find((x) => x.type === "ScaleToZeroReady");
    assert.deepEqual([c?.status, c?.reason], ["False", "VirtualServiceMissing"]);
    assert.ok(!kinds(plan(o, p.memory).actions).includes("event:VirtualServiceMissing"), "one problem, one Event");
  });

  it("a malformed VirtualService blocks the scale to zero too, but not a lowering that keeps a pod", () => {
    const route: RouteReading = { kind: "malformed", message: "spec.http[0].route is empty" };
    assert.ok(!kinds(plan(observed({ route }), EMPTY_MEMORY).actions).some((k) => k.startsWith("scale")));
    const two = observed({ route, workloads: [workload(2)], pods: [lastPod(), lastPod({ name: "b", draining: false, drainSince: undefined, drainedBy: undefined, tickets: 1, idleSince: undefined, cost: DELETION_COST.busy + 1 })] });
    assert.ok(kinds(plan(two, EMPTY_MEMORY).actions).includes("scale:2->1"));
  });

  it("a busy app is not idle: a ticket, a waiting user, an open WebSocket or a pod idle for less than podCooldown keeps a pod", () => {
    for (const o of [observed({ pods: [lastPod({ tickets: 1, draining: false })] }), observed({ queued: 1 }), observed({ pods: [lastPod({ connections: 1 })] }), observed({ pods: [lastPod({ idleSince: NOW - 5 * S })] })]) {
      assert.ok(!kinds(plan(o, EMPTY_MEMORY).actions).some((k) => k === "route:Proxy" || k === "scale:1->0"), JSON.stringify(o.pods));
    }
  });

  it("an app at zero whose route says Serve is pointed at the resolver", () => {
    const p = plan(observed({ workloads: [workload(0)], pods: [] }), EMPTY_MEMORY);
    assert.deepEqual(kinds(p.actions).slice(0, 2), ["route:Proxy", "event:RoutedToResolver"]);
  });
});

describe("scale to zero: coming back", () => {
  it("woken at zero: scales 0 → 1 at once and keeps the route at the resolver", () => {
    const atZero = observed({ spec: spec({ spareTickets: 0 }), workloads: [workload(0)], pods: [], route: found("Proxy") });
    assert.ok(!kinds(plan(atZero, EMPTY_MEMORY).actions).some((k) => k.startsWith("scale")), "nobody waits: stays at zero");
    const p = plan({ ...atZero, woken: true }, EMPTY_MEMORY);
    assert.deepEqual(kinds(p.actions).slice(0, 2), ["scale:0->1", "event:ScaledUp"]);
    assert.ok(!kinds(p.actions).some((k) => k.startsWith("route")));
  });

  it("a Ready pod is not enough: the route points back only once the resolver's probe found it answering", () => {
    const ready: ObservedPod = { name: "a", role: "stable", ready: true, tickets: 0, connections: 0, draining: false, idleSince: NOW, cost: DELETION_COST.idle };
    const base = observed({ workloads: [workload(1)], pods: [ready], route: found("Proxy"), woken: true });
    assert.ok(!kinds(plan(base, EMPTY_MEMORY).actions).some((k) => k.startsWith("route")));
    const p = plan({ ...base, servingConfirmed: true }, EMPTY_MEMORY);
    assert.deepEqual(kinds(p.actions).slice(0, 2), ["route:Serve", "event:RoutedToApp"]);
  });

  it("without a route to flip (no RouteSwitch), minPods 0 still goes to zero and comes back", () => {
    const p = plan(observed({ route: undefined }), EMPTY_MEMORY);
    assert.ok(kinds(p.actions).includes("scale:1->0"));
    const back = plan(observed({ route: undefined, workloads: [workload(0)], pods: [], woken: true }), EMPTY_MEMORY);
    assert.ok(kinds(back.actions).includes("scale:0->1"));
  });
});
