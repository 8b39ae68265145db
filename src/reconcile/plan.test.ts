import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeSpec } from "../../test/support/app-spec.js";
import { DEFAULTS, type AppSpec } from "../config/app-spec.js";
import { DELETION_COST } from "../tickets/index.js";
import { EMPTY_MEMORY, type AppMemory, type Observed, type ObservedPod, type ObservedWorkload } from "./observed.js";
import { afterScale, plan, SETTLE_MS, type Action } from "./plan.js";
import type { ReplicaOwner } from "./ports.js";

const S = 1000;
const NOW = Date.UTC(2026, 0, 1, 12);
const spec = (o: Partial<AppSpec> = {}): AppSpec =>
  makeSpec({ deployment: "web", ticketsPerPod: 2, minPods: 1, maxPods: 5, spareTickets: 1, scaleDown: { pods: 1, periodMs: 15 * S, stabilizationMs: 0 }, ...o });
const workload = (replicas: number | undefined, owner: ReplicaOwner = "ticketplane", role: "stable" | "canary" = "stable", deployment = role === "stable" ? "web" : "web-canary"): ObservedWorkload => ({
  role,
  ref: { namespace: "ns", deployment },
  scale: replicas === undefined ? undefined : { replicas, resourceVersion: "7", owner },
});
const pod = (name: string, tickets: number, o: Partial<ObservedPod> = {}): ObservedPod => ({
  name,
  role: "stable",
  ready: true,
  tickets,
  connections: 0,
  draining: false,
  ...(tickets === 0 ? { idleSince: NOW - 60 * S } : {}),
  cost: tickets > 0 ? DELETION_COST.busy + tickets : DELETION_COST.idle,
  ...o,
});
const observed = (o: Partial<Observed> = {}): Observed => ({ app: "ns/app", spec: spec(), now: NOW, workloads: [workload(1)], pods: [pod("a", 0)], queued: 0, free: 2, ...o });
const kinds = (actions: readonly Action[]) => actions.map((a) => (a.kind === "event" ? `event:${a.event.reason}` : a.kind === "scale" ? `scale:${a.from}->${a.to}` : a.kind === "drain" || a.kind === "undrain" ? `${a.kind}:${a.pod}` : a.kind));

/** Plans, "applies" (memory as the reconciler keeps it), and returns both. */
function step(o: Observed, memory: AppMemory = EMPTY_MEMORY) {
  const p = plan(o, memory);
  let next = p.memory;
  for (const a of p.actions) if (a.kind === "scale") next = afterScale(next, a, o.now);
  return { p, next };
}

describe("plan: scaling up", () => {
  it("users arrive: 3 tickets + 1 spare at 2 per pod → 2 pods; one scale write, an Event and the status say why", () => {
    const { p } = step(observed({ pods: [pod("a", 2), pod("b", 1, { role: "stable" })], workloads: [workload(1)] }));
    assert.deepEqual(kinds(p.actions), ["scale:1->2", "event:ScaledUp", "status"]);
    const scale = p.actions.find((a) => a.kind === "scale");
    assert.match(scale?.kind === "scale" ? scale.reason : "", /3 tickets \+ 0 waiting \+ 1 spare at 2 per pod → 2 pods/);
    const status = p.actions.find((a) => a.kind === "status");
    assert.ok(status?.kind === "status");
    assert.deepEqual([status.status.desiredPods, status.status.lastScale?.from, status.status.lastScale?.to, status.status.usedSlots], [2, 1, 2, 3]);
  });

  it("is idempotent: the same observation with the memory kept asks for nothing", () => {
    const o = observed();
    const first = step(o);
    assert.deepEqual(kinds(first.p.actions), ["status"]);
    assert.deepEqual(plan(o, first.next).actions, []);
  });

  it("waiting users are demand too", () => {
    const { p } = step(observed({ pods: [pod("a", 2)], queued: 3 }));
    assert.deepEqual(kinds(p.actions).slice(0, 1), ["scale:1->3"]);
  });

  it("a raise takes back the pods we were draining first (they are capacity)", () => {
    const { p } = step(observed({ pods: [pod("a", 2), pod("b", 0, { drainSince: NOW - S, drainedBy: "reconciler", draining: true, cost: DELETION_COST.victim })], workloads: [workload(2)], queued: 2 }));
    assert.deepEqual(kinds(p.actions), ["undrain:b", "scale:2->3", "costs", "event:ScaledUp", "status"]);
  });

  it("scaleUp.pods limits the step and says when to look again", () => {
    const { p } = step(observed({ spec: spec({ maxPods: 20, scaleUp: { pods: 2, periodMs: 15 * S, stabilizationMs: 0 } }), pods: [pod("a", 2)], queued: 10 }));
    assert.deepEqual(kinds(p.actions).slice(0, 1), ["scale:1->3"]);
    assert.equal(p.requeueAfterMs, 15 * S);
  });
});

describe("plan: scaling in removes exactly the idle pods", () => {
  const pods3 = [pod("a", 1), pod("b", 0, { idleSince: NOW - 120 * S }), pod("c", 0, { idleSince: NOW - 30 * S })];

  it("first drains the longest-idle pod and sets its cost lowest; replicas stay until it is seen draining", () => {
    const { p } = step(observed({ pods: pods3, workloads: [workload(3)] }));
    assert.deepEqual(kinds(p.actions), ["drain:b", "costs", "event:Draining", "status"]);
    const costs = p.actions.find((a) => a.kind === "costs");
    assert.deepEqual(costs?.kind === "costs" ? Object.fromEntries(costs.costs) : {}, { b: DELETION_COST.victim });
    assert.equal(p.requeueAfterMs, SETTLE_MS);
  });

  it("then, with b seen draining and the costs in place, lowers replicas by one, naming b", () => {
    const drained = [pods3[0], pod("b", 0, { idleSince: NOW - 120 * S, draining: true, drainSince: NOW - S, drainedBy: "reconciler", cost: DELETION_COST.victim }), pods3[2]];
    const { p, next } = step(observed({ pods: drained, workloads: [workload(3)] }));
    const scale = p.actions.find((a) => a.kind === "scale");
    assert.ok(scale?.kind === "scale");
    assert.deepEqual([scale.from, scale.to, scale.removing], [3, 2, ["b"]]);
    assert.match(scale.reason, /removing b/);
    assert.deepEqual(next.workloads.stable?.removing, ["b"]);
    // b is on its way out: while still listed it is not counted and not undrained, and c waits for the rate limit.
    const after = plan(observed({ now: NOW + S, pods: drained, workloads: [workload(2)] }), next);
    assert.deepEqual(kinds(after.actions).filter((k) => k !== "status"), []);
    assert.equal(after.requeueAfterMs, 14 * S);
  });

  it("a busy pod is never chosen while an idle one exists: the idle pod still cooling down is waited for", () => {
    const { p } = step(observed({ pods: [pod("a", 1), pod("b", 1), pod("c", 0, { idleSince: NOW - 4 * S })], workloads: [workload(3)] }));
    assert.deepEqual(kinds(p.actions), ["status"]);
    assert.equal(p.requeueAfterMs, 6 * S, "look again when c's podCooldown (10 s) ends");
  });

  it("the tickets policy never removes a busy pod, even when fewer pods would do", () => {
    const { p } = step(observed({ spec: spec({ spareTickets: 0 }), pods: [pod("a", 1), pod("b", 1), pod("c", 1)], workloads: [workload(3)] }));
    assert.deepEqual(kinds(p.actions), ["status"]);
    const status = p.actions[0];
    assert.ok(status?.kind === "status");
    assert.match(status.status.conditions.find((c) => c.type === "ScalingLimited")?.message ?? "", /no pod may go yet/);
  });

  it("a load policy drains a busy pod when none is idle and removes it once empty", () => {
    const s = spec({ scaling: { ...DEFAULTS.scaling, policy: "formula", target: 10 } });
    const first = step(observed({ spec: s, metric: 5, pods: [pod("a", 2), pod("b", 1)], workloads: [workload(2)] }));
    assert.deepEqual(kinds(first.p.actions), ["drain:b", "event:Draining", "status"]);
    const empty = pod("b", 0, { idleSince: NOW, draining: true, drainSince: NOW - 5 * S, drainedBy: "reconciler", cost: DELETION_COST.victim });
    const second = step(observed({ spec: s, metric: 5, now: NOW + 5 * S, pods: [pod("a", 2), empty], workloads: [workload(2)] }), first.next);
    assert.deepEqual(kinds(second.p.actions).filter((k) => k.startsWith("scale")), ["scale:2->1"]);
  });

  it("waits while a pod that is not ready holds tickets (Kubernetes would remove it first), with one Warning", () => {
    const o = observed({ pods: [pod("a", 1, { ready: false }), pod("b", 0), pod("c", 0)], workloads: [workload(3)] });
    const first = step(o);
    assert.deepEqual(kinds(first.p.actions).filter((k) => k.startsWith("event") || k.startsWith("scale")), ["event:ScaleInBlocked"]);
    const again = plan({ ...o, now: NOW + S }, first.next);
    assert.deepEqual(kinds(again.actions).filter((k) => k.startsWith("event")), [], "one problem, one Event");
  });

  it("a pod we drained that is no longer needed is undrained", () => {
    // 1 ticket + 2 waiting + 1 spare at 2 per pod: both pods are needed again.
    const { p } = step(observed({ queued: 2, pods: [pod("a", 1), pod("b", 0, { draining: true, drainSince: NOW - S, drainedBy: "reconciler", cost: DELETION_COST.victim })], workloads: [workload(2)] }));
    assert.deepEqual(kinds(p.actions).slice(0, 2), ["undrain:b", "costs"]);
  });

  it("a pod drained by its preStop hook is never undrained", () => {
    const { p } = step(observed({ pods: [pod("a", 1), pod("b", 0, { draining: true, drainSince: NOW - S, drainedBy: "prestop", cost: DELETION_COST.victim })], workloads: [workload(2)] }));
    assert.ok(!kinds(p.actions).includes("undrain:b"));
  });
});

describe("plan: who owns replicas", () => {
  it("under an HPA: costs and drains for what the policy says (the HPA limits its own steps), never a scale write", () => {
    const { p } = step(observed({ pods: [pod("a", 1), pod("b", 0, { idleSince: NOW - 60 * S, cost: undefined }), pod("c", 0, { idleSince: NOW - 90 * S })], workloads: [workload(3, "hpa")] }));
    assert.deepEqual(kinds(p.actions), ["drain:b", "drain:c", "costs", "event:Draining", "event:Draining", "status"]);
    const status = p.actions.at(-1);
    assert.ok(status?.kind === "status");
    assert.equal(status.status.replicasOwner, "hpa");
    assert.equal(status.status.conditions.find((c) => c.type === "ScalingActive")?.reason, "HorizontalPodAutoscaler");
    const seen = step(observed({ pods: [pod("a", 1), pod("b", 0), pod("c", 0, { idleSince: NOW - 90 * S, draining: true, drainSince: NOW, drainedBy: "reconciler", cost: DELETION_COST.victim })], workloads: [workload(3, "keda")] }));
    assert.ok(!kinds(seen.p.actions).some((k) => k.startsWith("scale")));
  });

  it("someone else changed replicas: an Event, their value adopted, no write for one period, then calm convergence", () => {
    const first = step(observed({ pods: [pod("a", 1)], workloads: [workload(1)] }));
    const o = observed({ now: NOW + S, pods: [pod("a", 1), pod("b", 0, { idleSince: NOW }), pod("c", 0, { idleSince: NOW }), pod("d", 0, { idleSince: NOW })], workloads: [workload(4)] });
    const changed = step(o, first.next);
    assert.deepEqual(kinds(changed.p.actions).filter((k) => k.startsWith("event") || k.startsWith("scale")), ["event:ReplicasChangedExternally"]);
    assert.equal(changed.next.workloads.stable?.holdUntil, NOW + 16 * S);
    const again = step({ ...o, now: NOW + 2 * S }, changed.next);
    assert.deepEqual(kinds(again.p.actions).filter((k) => k.startsWith("event") || k.startsWith("scale")), [], "no second Event, no write");
    // Once cooled down the idle pods are prepared (drained, costed), but nothing is written before the hold ends …
    const drained = (n: string) => pod(n, 0, { idleSince: NOW, draining: true, drainSince: NOW + 11 * S, drainedBy: "reconciler", cost: DELETION_COST.victim });
    const held = step({ ...o, now: NOW + 12 * S, pods: [pod("a", 1), drained("b"), pod("c", 0, { idleSince: NOW }), pod("d", 0, { idleSince: NOW })] }, again.next);
    assert.ok(!kinds(held.p.actions).some((k) => k.startsWith("scale")), kinds(held.p.actions).join());
    // … and after it, one pod per period (scaleDown.pods 1), not all at once.
    const after = step({ ...o, now: NOW + 17 * S, pods: [pod("a", 1), drained("b"), pod("c", 0, { idleSince: NOW }), pod("d", 0, { idleSince: NOW })] }, held.next);
    assert.deepEqual(kinds(after.p.actions).filter((k) => k.startsWith("scale")), ["scale:4->3"]);
  });

  it("a missing Deployment is one Warning, not one per run", () => {
    const first = step(observed({ workloads: [workload(undefined)] }));
    assert.deepEqual(kinds(first.p.actions), ["event:DeploymentMissing", "status"]);
    assert.deepEqual(kinds(plan(observed({ workloads: [workload(undefined)], now: NOW + S }), first.next).actions), []);
  });

  it("formula without its metric keeps replicas and says so", () => {
    const { p } = step(observed({ spec: spec({ scaling: { ...DEFAULTS.scaling, policy: "formula" } }), workloads: [workload(2)], pods: [pod("a", 0), pod("b", 0)] }));
    assert.deepEqual(kinds(p.actions), ["event:MetricUnavailable", "status"]);
  });
});

describe("plan: canary", () => {
  it("both Deployments are scaled from their share of the demand", () => {
    const s = spec({ canary: { deployment: "web-canary", weight: 25 }, spareTickets: 4, maxPods: 10 });
    const { p } = step(observed({ spec: s, workloads: [workload(1), workload(0, "ticketplane", "canary")], pods: [pod("a", 2), pod("k", 0, { role: "canary" })].slice(0, 1) }));
    const scales = p.actions.filter((a) => a.kind === "scale").map((a) => (a.kind === "scale" ? [a.ref.deployment, a.from, a.to] : []));
    // stable: 2 held + 3 of the 4 spare → 3 pods at 2 per pod; canary: 1 spare → 1 pod.
    assert.deepEqual(scales, [["web", 1, 3], ["web-canary", 0, 1]]);
  });
});

describe("plan: status", () => {
  it("shows pods, slots, queue, mode, policy, owner and conditions; transition times carry over", () => {
    const first = step(observed({ pods: [pod("a", 1)], queued: 0, free: 1 }));
    const s1 = first.p.actions.find((a) => a.kind === "status");
    assert.ok(s1?.kind === "status");
    assert.deepEqual({ ...s1.status, conditions: s1.status.conditions.map((c) => [c.type, c.status, c.reason]) }, {
      pods: 1, readyPods: 1, usedSlots: 1, freeSlots: 1, queueLength: 0, mode: "Serve", policy: "tickets", desiredPods: 1, replicasOwner: "ticketplane",
      conditions: [["Ready", "True", "PodsServing"], ["ScalingActive", "True", "Ticketplane"], ["ScalingLimited", "False", "DesiredWithinRange"]],
    });
    const later = step(observed({ now: NOW + 60 * S, pods: [pod("a", 2)], free: 0 }), first.next);
    const s2 = later.p.actions.find((a) => a.kind === "status");
    assert.ok(s2?.kind === "status");
    assert.equal(s2.status.conditions[0]?.lastTransitionTime, new Date(NOW).toISOString(), "Ready stayed True: its transition time is the first one");
  });

  it("scaled to zero with no pod: mode Proxy, Ready False", () => {
    const { p } = step(observed({ spec: spec({ minPods: 0, spareTickets: 0 }), workloads: [workload(0)], pods: [], free: 0 }));
    const s = p.actions.find((a) => a.kind === "status");
    assert.ok(s?.kind === "status");
    assert.deepEqual([s.status.mode, s.status.conditions[0]?.status], ["Proxy", "False"]);
  });
});
