import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppLedger } from "./ledger.js";
import { makeSpec, pod } from "./tickets.fixture.js";
import type { PodRecord } from "./pod-record.js";

function ledger(ticketsPerPod = 2): AppLedger {
  const l = new AppLedger("ns/app", makeSpec({ ticketsPerPod }));
  return l;
}

let serial = 0;
function fill(l: AppLedger, p: string, n: number, now = 0): void {
  for (let i = 0; i < n; i++) l.bind(l.pods.get(p) as PodRecord, `${p}-${++serial}`, "k1", now, undefined);
}

describe("AppLedger", () => {
  it("packs users onto the serving pod with the fewest free slots, ties by name", () => {
    const l = ledger(3);
    l.setPods([pod("b"), pod("a"), pod("c")], 0, true);
    assert.equal(l.choosePod()?.name, "a", "all empty: by name");
    fill(l, "c", 1);
    assert.equal(l.choosePod()?.name, "c", "fewest free slots first");
    fill(l, "c", 2);
    assert.equal(l.choosePod()?.name, "a", "full pods are skipped");
  });

  it("only serving pods (ready, not draining, routable) take new tickets", () => {
    const l = ledger(1);
    l.setPods([pod("a", { ready: false }), pod("b", { draining: true }), pod("c")], 0, false);
    assert.equal(l.choosePod(), undefined, "c is not routable yet");
    l.setRoutable("c", true);
    l.setRoutable("a", true);
    l.setRoutable("b", true);
    assert.equal(l.choosePod()?.name, "c");
    assert.equal(l.freeSlots(), 1);
  });

  it("binds the lowest free slot and tracks idleSince", () => {
    const l = ledger(2);
    l.setPods([pod("a")], 5, true);
    const p = l.pods.get("a") as PodRecord;
    assert.equal(p.idleSince, 5);
    const t1 = l.bind(p, "t1", "k1", 10, undefined);
    const t2 = l.bind(p, "t2", "k1", 11, undefined);
    assert.deepEqual([t1.slot, t2.slot, p.idleSince], [0, 1, undefined]);
    l.release(t1, 20);
    assert.equal(p.idleSince, undefined, "still holds t2");
    assert.equal(l.bind(p, "t3", "k1", 21, undefined).slot, 0, "a released slot is free at once");
    l.release(t2, 30);
    l.release(l.tickets.get("t3") as never, 31);
    assert.equal(p.idleSince, 31);
    assert.equal(l.tickets.size, 0);
  });

  it("releases tickets of pods that vanish or come back at another address", () => {
    const l = ledger(2);
    l.setPods([pod("a"), pod("b")], 0, true);
    fill(l, "a", 1);
    fill(l, "b", 1);
    const gone = l.setPods([pod("a", { host: "10.9.9.9" })], 1, true);
    assert.deepEqual(gone.released.map((t) => t.pod).sort(), ["a", "b"]);
    assert.equal(gone.changed, true);
    assert.equal(l.tickets.size, 0);
    assert.equal((l.pods.get("a") as PodRecord).routable, true);
  });

  it("answers the same frozen addresses, sorted by name, until a pod comes, goes or moves", () => {
    const l = ledger();
    l.setPods([pod("b"), pod("a")], 0, true);
    const first = l.addresses();
    assert.deepEqual(first.map((p) => p.name), ["a", "b"]);
    assert.ok(Object.isFrozen(first) && first.every((p) => Object.isFrozen(p)));
    assert.deepEqual(Object.keys(first[0] ?? {}).sort(), ["host", "name", "port"]);
    l.setPods([pod("a", { ready: false }), pod("b", { draining: true })], 0, true);
    l.setRoutable("a", false);
    assert.equal(l.addresses(), first, "readiness, draining and routability are not addresses");
    l.setPods([pod("a"), pod("b"), pod("c")], 0, true);
    const added = l.addresses();
    assert.notEqual(added, first);
    assert.deepEqual(added.map((p) => p.name), ["a", "b", "c"]);
    l.setPods([pod("a"), pod("c")], 0, true);
    assert.deepEqual(l.addresses().map((p) => p.name), ["a", "c"]);
    const beforeMove = l.addresses();
    l.setPods([pod("a", { host: "10.9.9.9" }), pod("c")], 0, true);
    assert.notEqual(l.addresses(), beforeMove);
    assert.equal(l.addresses().find((p) => p.name === "a")?.host, "10.9.9.9");
  });

  it("keeps tickets of pods that turn not-ready or draining", () => {
    const l = ledger(2);
    l.setPods([pod("a")], 0, true);
    fill(l, "a", 1);
    const u = l.setPods([pod("a", { ready: false, draining: true })], 1, true);
    assert.deepEqual([u.released.length, u.changed, l.tickets.size], [0, true, 1]);
    assert.equal(l.choosePod(), undefined);
  });

  it("shrinking ticketsPerPod releases tickets on removed slots only", () => {
    const l = ledger(3);
    l.setPods([pod("a")], 0, true);
    fill(l, "a", 3);
    const released = l.setSpec(makeSpec({ ticketsPerPod: 1 }), 1);
    assert.deepEqual(released.map((t) => t.slot), [1, 2]);
    assert.deepEqual([...l.tickets.values()].map((t) => t.slot), [0]);
    assert.equal((l.pods.get("a") as PodRecord).free, 0);
    l.setSpec(makeSpec({ ticketsPerPod: 4 }), 2);
    assert.equal((l.pods.get("a") as PodRecord).free, 3);
  });

  it("restore refuses unknown pods, bad slots, duplicates and taken slots", () => {
    const l = ledger(2);
    l.setPods([pod("a")], 0, true);
    const v = { id: "x", app: "ns/app", pod: "a", slot: 0, issuedAt: 0, expiresAt: 99, lastActiveAt: 0, openConnections: 0 };
    assert.equal(typeof l.restore(v), "object");
    assert.equal(l.restore(v), "duplicate ticket id");
    assert.equal(l.restore({ ...v, id: "y" }), "slot already held");
    assert.equal(l.restore({ ...v, id: "y", slot: 2 }), "slot out of range");
    assert.equal(l.restore({ ...v, id: "y", slot: 0.5 }), "slot out of range");
    assert.equal(l.restore({ ...v, id: "y", pod: "zz" }), "unknown pod");
  });
});
