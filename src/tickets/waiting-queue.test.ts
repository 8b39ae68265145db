import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WaitingQueue, type QueueEntry } from "./waiting-queue.js";

function entry(id: string, at = 0): QueueEntry {
  return { id, enqueuedAt: at, lastSeenAt: at, client: undefined, reservedUntil: undefined };
}

function filled(...ids: string[]): WaitingQueue {
  const q = new WaitingQueue();
  for (const id of ids) q.push(entry(id));
  return q;
}

describe("WaitingQueue", () => {
  it("keeps FIFO positions and closes gaps", () => {
    const q = filled("a", "b", "c");
    assert.deepEqual(["a", "b", "c"].map((id) => q.position(q.get(id) as QueueEntry)), [1, 2, 3]);
    q.remove(q.get("a") as QueueEntry);
    assert.equal(q.position(q.get("c") as QueueEntry), 2);
    assert.equal(q.position(entry("zz")), 0);
  });

  it("refuses a duplicate id (a bug)", () => {
    assert.throws(() => filled("a", "a"));
  });

  it("reserves free slots for the head first, and withdraws from the back", () => {
    const q = filled("a", "b", "c");
    assert.equal(q.grant(2, 100, 50), true);
    assert.deepEqual(q.entries().map((e) => e.reservedUntil), [150, 150, undefined]);
    assert.equal(q.hasUnreserved(), true);
    assert.equal(q.grant(2, 120, 50), false, "nothing to change");
    assert.equal(q.grant(1, 120, 50), true);
    assert.deepEqual(q.entries().map((e) => e.reservedUntil), [150, undefined, undefined]);
    assert.equal(q.grant(10, 130, 50), true);
    assert.equal(q.reserved(), 3);
    assert.equal(q.hasUnreserved(), false);
  });

  it("drops lapsed reservations and entries not seen", () => {
    const q = filled("a", "b", "c");
    q.grant(1, 0, 50);
    (q.get("c") as QueueEntry).lastSeenAt = 90;
    const dropped = q.expire(100, 60);
    assert.deepEqual(dropped.map((d) => [d.entry.id, d.reason]), [["a", "reservation_lapsed"], ["b", "not_seen"]]);
    assert.deepEqual(q.entries().map((e) => e.id), ["c"]);
  });

  it("places an entry by its first arrival, not by when it came back", () => {
    const q = new WaitingQueue();
    q.push(entry("late", 300));
    q.push(entry("early", 100));
    q.push(entry("middle", 200));
    q.push(entry("last", 400));
    assert.deepEqual(q.entries().map((e) => e.id), ["early", "middle", "late", "last"]);
  });

  it("counts entries per client as they come and go", () => {
    const q = new WaitingQueue();
    q.push({ ...entry("a"), client: "10.0.0.1" });
    q.push({ ...entry("b"), client: "10.0.0.1" });
    q.push({ ...entry("c"), client: "10.0.0.2" });
    assert.deepEqual([q.countFor("10.0.0.1"), q.countFor("10.0.0.2"), q.countFor("10.0.0.3")], [2, 1, 0]);
    q.remove(q.get("a") as QueueEntry);
    q.expire(1_000, 10);
    assert.deepEqual([q.countFor("10.0.0.1"), q.countFor("10.0.0.2")], [0, 0]);
  });
});
