import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { desiredPods } from "./desired-pods.js";

describe("desiredPods", () => {
  const cases = [
    { name: "nothing to do", in: { active: 0, spare: 0, ticketsPerPod: 4, minPods: 0, maxPods: 5 }, out: 0 },
    { name: "spare alone asks for a pod", in: { active: 0, spare: 1, ticketsPerPod: 4, minPods: 0, maxPods: 5 }, out: 1 },
    { name: "exact fit", in: { active: 6, spare: 2, ticketsPerPod: 4, minPods: 0, maxPods: 5 }, out: 2 },
    { name: "rounds up", in: { active: 7, spare: 2, ticketsPerPod: 4, minPods: 0, maxPods: 5 }, out: 3 },
    { name: "clamped to maxPods", in: { active: 100, spare: 2, ticketsPerPod: 4, minPods: 0, maxPods: 5 }, out: 5 },
    { name: "clamped to minPods", in: { active: 0, spare: 0, ticketsPerPod: 4, minPods: 2, maxPods: 5 }, out: 2 },
    { name: "maxPods wins over minPods", in: { active: 0, spare: 0, ticketsPerPod: 1, minPods: 3, maxPods: 1 }, out: 1 },
    { name: "one ticket per pod", in: { active: 3, spare: 1, ticketsPerPod: 1, minPods: 0, maxPods: 9 }, out: 4 },
    { name: "a zero ticketsPerPod is treated as 1", in: { active: 2, spare: 0, ticketsPerPod: 0, minPods: 0, maxPods: 9 }, out: 2 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(desiredPods(c.in), c.out));
});
