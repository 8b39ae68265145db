import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import { FakeClock, flushPromises } from "../../test/support/fake-clock.js";
import { WorkQueue, type WorkResult } from "./work-queue.js";

function harness(process: (key: string) => Promise<WorkResult>, random = () => 0.5) {
  const clock = new FakeClock();
  const retries: { key: string; delayMs: number; failures: number }[] = [];
  const queue = new WorkQueue({ clock, process, random, onRetry: (key, _e, delayMs, failures) => retries.push({ key, delayMs, failures }) });
  return { clock, queue, retries };
}

describe("WorkQueue", () => {
  it("runs a key once however often it is added before it runs", async () => {
    const runs: string[] = [];
    const { queue } = harness((k) => (runs.push(k), Promise.resolve({})));
    for (let i = 0; i < 5; i++) queue.add("a");
    queue.add("b");
    await queue.idle();
    assert.deepEqual(runs, ["a", "b"]);
  });

  it("a key added while it runs runs once more afterwards, never twice at once", async () => {
    const runs: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let release!: () => void;
    const { queue } = harness(async (k) => {
      runs.push(k);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
      inFlight--;
      return {};
    });
    queue.add("a");
    await flushPromises();
    queue.add("a");
    queue.add("a");
    release();
    await queue.idle();
    assert.deepEqual([runs, maxInFlight], [["a", "a"], 1]);
  });

  it("failures back off exponentially with jitter, capped; a success forgets them", async () => {
    let fail = 4;
    const runs: number[] = [];
    const { queue, clock, retries } = harness(() => {
      runs.push(clock.now());
      return fail-- > 0 ? Promise.reject(new Error("boom")) : Promise.resolve({});
    });
    queue.add("a");
    await queue.idle();
    for (let i = 0; i < 4; i++) {
      await clock.advanceAsync(retries.at(-1)?.delayMs ?? 0);
      await queue.idle();
    }
    assert.deepEqual(retries.map((r) => r.delayMs), [500, 1000, 2000, 4000]);
    assert.deepEqual(runs.map((t) => t - (runs[0] ?? 0)), [0, 500, 1500, 3500, 7500]);
    assert.equal(queue.failures("a"), 0);
  });

  it("jitter spreads the delay by ±20 %; the cap holds", async () => {
    const lo = harness(() => Promise.reject(new Error("x")), () => 0);
    lo.queue.add("a");
    await lo.queue.idle();
    const hi = harness(() => Promise.reject(new Error("x")), () => 0.999_999);
    hi.queue.add("a");
    await hi.queue.idle();
    assert.deepEqual([lo.retries[0]?.delayMs, hi.retries[0]?.delayMs], [400, 600]);
    const capped = new WorkQueue({ clock: new FakeClock(), process: () => Promise.reject(new Error("x")), maxDelayMs: 1000, random: () => 0.5 });
    const delays: number[] = [];
    const c2 = new FakeClock();
    const q2 = new WorkQueue({ clock: c2, process: () => Promise.reject(new Error("x")), maxDelayMs: 1000, random: () => 0.5, onRetry: (_k, _e, d) => delays.push(d) });
    q2.add("a");
    for (let i = 0; i < 6; i++) {
      await q2.idle();
      await c2.advanceAsync(1000);
    }
    await capped.stop();
    await q2.stop();
    assert.ok(delays.length >= 5 && delays.every((d) => d <= 1000), JSON.stringify(delays));
  });

  it("waits at least as long as the server's Retry-After", async () => {
    const { queue, retries } = harness(() => Promise.reject(new TicketplaneError(ERROR_CODES.UNAVAILABLE, "429", { retryAfterMs: 7000 })));
    queue.add("a");
    await queue.idle();
    assert.equal(retries[0]?.delayMs, 7000);
    await queue.stop();
  });

  it("a failed key is not retried at once even if added meanwhile: no tight loop", async () => {
    let runs = 0;
    let release!: () => void;
    const { queue, clock } = harness(async () => {
      runs++;
      await new Promise<void>((r) => (release = r));
      throw new Error("still failing");
    });
    queue.add("a");
    await flushPromises();
    queue.add("a");
    release();
    await queue.idle();
    assert.equal(runs, 1);
    await clock.advanceAsync(499);
    assert.equal(runs, 1);
    await clock.advanceAsync(1);
    await flushPromises();
    assert.equal(runs, 2);
    const stopped = queue.stop();
    release();
    await stopped;
  });

  it("requeueAfterMs runs the key again after that long; an earlier delay wins; add() runs it now", async () => {
    const runs: number[] = [];
    const { queue, clock } = harness(() => {
      runs.push(clock.now());
      return Promise.resolve(runs.length === 1 ? { requeueAfterMs: 10_000 } : {});
    });
    const t0 = clock.now();
    queue.add("a");
    await queue.idle();
    queue.addAfter("a", 20_000);
    await clock.advanceAsync(10_000);
    await queue.idle();
    assert.deepEqual(runs.map((t) => t - t0), [0, 10_000]);
    queue.addAfter("a", 5000);
    queue.add("a");
    await queue.idle();
    assert.equal(clock.pendingTimers, 0, "add() replaced the delayed run");
    assert.equal(runs.length, 3);
  });

  it("stop drops queued and delayed keys and takes no more", async () => {
    let runs = 0;
    const { queue, clock } = harness(() => (runs++, Promise.resolve({})));
    queue.addAfter("a", 1000);
    await queue.stop();
    queue.add("b");
    await clock.advanceAsync(5000);
    assert.equal(runs, 0);
    assert.equal(clock.pendingTimers, 0);
  });
});
