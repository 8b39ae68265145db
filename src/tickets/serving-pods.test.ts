import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prng } from "../../test/support/prng.js";
import { PodRecord } from "./pod-record.js";
import { ServingPods } from "./serving-pods.js";

/** The packing rule by brute force: serving pods with a free slot, fewest free first, ties by name. */
function bruteBest(pods: readonly PodRecord[], canary?: boolean): string | undefined {
  return pods
    .filter((p) => p.serving && p.free > 0 && (canary === undefined || p.canary === canary))
    .sort((a, b) => a.free - b.free || (a.name < b.name ? -1 : 1))[0]?.name;
}

describe("ServingPods", () => {
  it("agrees with a full scan through random changes (seeded)", () => {
    for (const seed of [1, 2, 3]) {
      const r = prng(seed);
      const index = new ServingPods();
      const pods = Array.from({ length: 40 }, (_, i) => new PodRecord({ name: `p${String(i).padStart(2, "0")}`, host: "10.0.0.1", port: 80, ready: true, canary: i % 5 === 0 }, 4, true, 0));
      for (const p of pods) index.update(p);
      for (let step = 0; step < 3000; step++) {
        const p = pods[Math.floor(r() * pods.length)];
        const x = r();
        if (x < 0.4 && p.free > 0) p.used++;
        else if (x < 0.7 && p.used > 0) p.used--;
        else if (x < 0.77) p.ready = !p.ready;
        else if (x < 0.84) p.routable = !p.routable;
        else if (x < 0.9) p.canary = !p.canary;
        else p.draining = !p.draining;
        index.update(p);
        for (const canary of [undefined, true, false]) {
          assert.equal(index.best(canary)?.name, bruteBest(pods, canary), `seed ${seed} step ${step} canary ${String(canary)}`);
          const free = pods.filter((q) => q.serving && (canary === undefined || q.canary === canary)).reduce((n, q) => n + q.free, 0);
          assert.equal(index.free(canary), free, `seed ${seed} step ${step} free`);
        }
      }
      for (const p of pods) index.remove(p);
      assert.deepEqual([index.best(), index.free()], [undefined, 0]);
    }
  });
});
