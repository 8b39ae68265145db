import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Histogram, Registry } from "prom-client";
import { prng } from "../../test/support/prng.js";
import { OutcomeHistogram } from "./outcome-histogram.js";

const OUTCOMES = ["valid", "issued", "queued", "error"] as const;
const BUCKETS = [0.00005, 0.0001, 0.001, 0.01];

function pair(): { ours: OutcomeHistogram<(typeof OUTCOMES)[number]>; theirs: Histogram<"outcome">; ourRegistry: Registry; theirRegistry: Registry } {
  const ourRegistry = new Registry();
  const theirRegistry = new Registry();
  const config = { name: "check_duration_seconds", help: "Time to decide one Check, by outcome." };
  const ours = new OutcomeHistogram({ ...config, label: "outcome", values: OUTCOMES, buckets: BUCKETS, registers: [ourRegistry] });
  const theirs = new Histogram({ ...config, labelNames: ["outcome"], buckets: BUCKETS, registers: [theirRegistry] });
  return { ours, theirs, ourRegistry, theirRegistry };
}

describe("OutcomeHistogram", () => {
  it("scrapes exactly as prom-client's Histogram fed the same observations (bounds included, values above every bound, first-seen order)", async () => {
    const { ours, theirs, ourRegistry, theirRegistry } = pair();
    const r = prng(7);
    // Every bound itself and just past it, then random values, spread over the outcomes in no particular order.
    const values = [...BUCKETS, ...BUCKETS.map((b) => b * 1.0001), 0, 5, ...Array.from({ length: 500 }, () => r() ** 4 * 0.02)];
    values.forEach((v, i) => {
      const outcome = OUTCOMES[(i * 7 + 2) % 3] ?? "valid";
      ours.observeAt(ours.indexOf(outcome), v);
      theirs.observe({ outcome }, v);
    });
    assert.equal(await ourRegistry.metrics(), await theirRegistry.metrics());
    assert.deepEqual(await ourRegistry.getMetricsAsJSON(), await theirRegistry.getMetricsAsJSON());
    assert.match(await ourRegistry.metrics(), /check_duration_seconds_bucket\{le="\+Inf",outcome="queued"\} \d+/);
  });

  it("reports nothing for an outcome never observed, and nothing after a reset", async () => {
    const { ours, theirs, ourRegistry, theirRegistry } = pair();
    assert.equal(await ourRegistry.metrics(), await theirRegistry.metrics());
    ours.observeAt(ours.indexOf("error"), 0.002);
    theirs.observe({ outcome: "error" }, 0.002);
    assert.equal(await ourRegistry.metrics(), await theirRegistry.metrics());
    assert.doesNotMatch(await ourRegistry.metrics(), /outcome="valid"/);
    ours.reset();
    theirs.reset();
    assert.equal(await ourRegistry.metrics(), await theirRegistry.metrics());
  });

  it("ignores an unknown index and a value that is not a finite number", async () => {
    const { ours, ourRegistry } = pair();
    ours.observeAt(-1, 0.1);
    ours.observeAt(99, 0.1);
    ours.observeAt(0, Number.NaN);
    assert.doesNotMatch(await ourRegistry.metrics(), /_count/);
  });
});
