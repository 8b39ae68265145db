import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseVictims, deletionCosts, DELETION_COST, type PodLoad, type VictimInput } from "./scale-in.js";

const S = 1000;
const NOW = 1000 * S;
const idle = (name: string, idleForS: number, o: Partial<PodLoad> = {}): PodLoad => ({ name, ready: true, tickets: 0, connections: 0, idleSince: NOW - idleForS * S, draining: false, ...o });
const busy = (name: string, tickets: number, o: Partial<PodLoad> = {}): PodLoad => ({ name, ready: true, tickets, connections: 0, draining: false, ...o });
const base: Omit<VictimInput, "pods" | "count"> = { now: NOW, podCooldownMs: 10 * S, drainTimeoutMs: 300 * S, allowBusy: false };

describe("chooseVictims: a busy pod is never chosen while an idle one exists", () => {
  // [name, pods, count, allowBusy, victims, removable, recheckAt (s after NOW) | undefined]
  const cases: [string, PodLoad[], number, boolean, string[], string[], number | undefined][] = [
    ["nothing to remove", [idle("a", 60)], 0, false, [], [], undefined],
    ["the idle pod, not the busy one", [busy("a", 1), idle("b", 60), busy("c", 2)], 1, false, ["b"], [], undefined],
    ["an idle pod with an open WebSocket and no ticket is busy", [idle("a", 60, { connections: 1 }), idle("b", 60)], 1, false, ["b"], [], undefined],
    ["idle longest first", [idle("a", 20), idle("b", 90), idle("c", 40)], 2, false, ["b", "c"], [], undefined],
    ["already draining first (closest to done)", [idle("a", 90), idle("b", 20, { draining: true, drainSince: NOW - 5 * S })], 1, false, ["b"], ["b"], undefined],
    ["podCooldown: an idle pod qualifies only after it; recheck when it ends", [idle("a", 4), busy("b", 1)], 1, false, [], [], 6],
    ["podCooldown reached exactly qualifies", [idle("a", 10)], 1, false, ["a"], [], undefined],
    ["fewer qualifying pods than asked: those, and a recheck for the next", [idle("a", 60), idle("b", 3)], 2, false, ["a"], [], 7],
    ["a not-ready idle pod goes first and needs no cooldown", [idle("a", 60), idle("p", 0, { ready: false })], 1, false, ["p"], ["p"], undefined],
    ["tickets policy: busy pods are never chosen", [busy("a", 1), busy("b", 3)], 1, false, [], [], undefined],
    ["load policies: busy pods when none is idle, fewest tickets first", [busy("a", 3), busy("b", 1), busy("c", 1, { connections: 2 })], 2, true, ["b", "c"], [], undefined],
    ["load policies: an idle pod that is still cooling down keeps busy pods safe", [busy("a", 1), idle("b", 2)], 1, true, [], [], 8],
    ["a busy victim goes once empty…", [busy("a", 0, { draining: true, drainSince: NOW - 30 * S, idleSince: NOW - 1 })], 1, true, ["a"], ["a"], undefined],
    ["…or after drainTimeout", [busy("a", 2, { draining: true, drainSince: NOW - 300 * S })], 1, true, ["a"], ["a"], undefined],
    ["…and is rechecked when the drain times out", [busy("a", 2, { draining: true, drainSince: NOW - 100 * S })], 1, true, ["a"], [], 200],
    ["an idle victim must be seen draining before it may go", [idle("a", 60, { drainSince: NOW - 1 * S })], 1, false, ["a"], [], undefined],
  ];
  for (const [name, pods, count, allowBusy, victims, removable, recheck] of cases) {
    it(name, () => {
      const r = chooseVictims({ ...base, pods, count, allowBusy });
      assert.deepEqual([r.victims, r.removable, r.recheckAt === undefined ? undefined : (r.recheckAt - NOW) / S], [victims, removable, recheck]);
    });
  }

  it("exhaustively: whenever an idle pod exists, no busy pod is a victim", () => {
    const kinds = [(n: string) => idle(n, 60), (n: string) => idle(n, 1), (n: string) => busy(n, 1), (n: string) => busy(n, 2), (n: string) => idle(n, 60, { connections: 1 })];
    const pick = (code: number, width: number) => Array.from({ length: width }, (_, i) => kinds[Math.floor(code / kinds.length ** i) % kinds.length](`p${i}`));
    for (let width = 1; width <= 4; width++) {
      for (let code = 0; code < kinds.length ** width; code++) {
        const pods = pick(code, width);
        for (let count = 1; count <= width; count++) for (const allowBusy of [false, true]) {
          const r = chooseVictims({ ...base, pods, count, allowBusy });
          const anyIdle = pods.some((p) => p.tickets === 0 && p.connections === 0);
          const busyChosen = r.victims.filter((v) => { const p = pods.find((x) => x.name === v)!; return p.tickets > 0 || p.connections > 0; });
          if (anyIdle || !allowBusy) assert.deepEqual(busyChosen, [], JSON.stringify({ pods, count, allowBusy, r }));
          assert.ok(r.victims.length <= count);
        }
      }
    }
  });

  it("blocks scale-in while a not-ready pod holds tickets (Kubernetes would remove it before any cost)", () => {
    const r = chooseVictims({ ...base, pods: [idle("a", 60), busy("b", 1, { ready: false })], count: 1 });
    assert.match(r.blockedBy ?? "", /pod b is not ready and holds tickets/);
    assert.equal(chooseVictims({ ...base, pods: [idle("a", 60), busy("b", 1)], count: 1 }).blockedBy, undefined);
  });
});

describe("deletionCosts", () => {
  it("victims lowest, idle pods next, busy pods by tickets; a pod drained from outside is a victim while idle", () => {
    const pods = [idle("a", 60), idle("b", 60), busy("c", 3), busy("d", 1), idle("e", 60, { drainSince: NOW }), busy("f", 2, { drainSince: NOW })];
    assert.deepEqual(Object.fromEntries(deletionCosts(pods, ["b"])), { a: DELETION_COST.idle, b: DELETION_COST.victim, c: DELETION_COST.busy + 3, d: DELETION_COST.busy + 1, e: DELETION_COST.victim, f: DELETION_COST.busy + 2 });
  });
  it("a busy victim drops to the victims' cost once removable", () => {
    assert.equal(deletionCosts([busy("a", 2)], ["a"], ["a"]).get("a"), DELETION_COST.victim);
    assert.equal(deletionCosts([busy("a", 2)], ["a"]).get("a"), DELETION_COST.busy + 2);
  });
  it("costs order pods as Kubernetes should remove them: every idle pod below every busy pod", () => {
    const costs = deletionCosts([busy("a", 1), idle("b", 1), busy("c", 999), idle("d", 99)], ["d"]);
    assert.ok(Math.max(costs.get("b")!, costs.get("d")!) < Math.min(costs.get("a")!, costs.get("c")!));
  });
});
