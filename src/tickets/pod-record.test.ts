import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../test/support/prng.js";
import { PodRecord } from "./pod-record.js";
import { TicketRecord } from "./ticket-record.js";

function ticketOn(pod: PodRecord, slot: number, id: string): TicketRecord {
  return new TicketRecord({ id, app: "ns/app", pod: pod.name, slot, issuedAt: 0, expiresAt: 1, lastActiveAt: 0 }, pod);
}

describe("PodRecord", () => {
  it("finds the lowest free slot through holds, drops, restores at any slot and resizes (seeded, against a scan)", () => {
    for (const seed of [1, 2, 3]) {
      const r = prng(seed);
      const pod = new PodRecord({ name: "p", host: "10.0.0.1", port: 80, ready: true }, 8, true, 0);
      let n = 0;
      for (let step = 0; step < 3000; step++) {
        const x = r();
        const held = pod.tickets();
        if (x < 0.45) {
          const slot = pod.firstFreeSlot();
          if (slot >= 0) pod.hold(ticketOn(pod, slot, `t${String(n++)}`));
        } else if (x < 0.55) {
          // A restored ticket takes whatever slot it held, not the lowest.
          const slot = Math.floor(r() * pod.slots);
          if (pod.holder(slot) === undefined) pod.hold(ticketOn(pod, slot, `t${String(n++)}`));
        } else if (x < 0.95) {
          const t = held[Math.floor(r() * held.length)];
          if (t !== undefined) pod.drop(t, step);
        } else {
          const slots = 1 + Math.floor(r() * 12);
          for (const t of pod.holdersFrom(slots)) pod.drop(t, step);
          pod.resize(slots);
        }
        const expected = Array.from({ length: pod.slots }, (_, i) => i).find((i) => pod.holder(i) === undefined) ?? -1;
        assert.equal(pod.firstFreeSlot(), expected, `seed ${String(seed)} step ${String(step)}`);
      }
    }
  });
});
