/**
 * Seeded property test over interleavings of a real user (who returns their
 * cookies every Retry-After, as the waiting room tells them to) and abusers
 * (cookieless floods: crawlers, health checks, curl loops, attackers that
 * never return). Property: whenever abusers alone hold the slots when the
 * user arrives, the user holds a ticket within probation + one Retry-After
 * (+ one sweep interval) of arriving.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { prng } from "../../test/support/prng.js";
import { admit } from "./admit.js";
import { TicketCore } from "./ticket-core.js";
import { APP, keyRing, makeSpec, pod, sequentialIds } from "./tickets.fixture.js";

const SWEEP_MS = 1_000;
const TICK_MS = 50;

interface Scenario {
  readonly pods: number;
  readonly slots: number;
  readonly probationMs: number;
  readonly retryAfterMs: number;
  /** Cookieless abuser requests per second. */
  readonly floodPerSecond: number;
  /** When the real user arrives (abusers start at 0). */
  readonly arrivalMs: number;
}

function scenario(r: () => number): Scenario {
  return {
    pods: 1 + Math.floor(r() * 3),
    slots: 1 + Math.floor(r() * 2),
    probationMs: 1_000 * (1 + Math.floor(r() * 10)),
    retryAfterMs: 1_000 * (1 + Math.floor(r() * 8)),
    floodPerSecond: [0, 5, 20, 100, 400][Math.floor(r() * 5)] ?? 0,
    arrivalMs: TICK_MS * Math.floor((r() * 20_000) / TICK_MS),
  };
}

/** Runs one scenario (abusers are the only other clients, so they alone hold whatever is held); returns how long the user waited. */
function run(s: Scenario, seed: number): number {
  const r = prng(seed);
  const clock = new FakeClock(0);
  const spec = makeSpec({ ticketsPerPod: s.slots, ticket: { probationMs: s.probationMs, idleTimeoutMs: 600_000 }, queue: { retryAfterMs: s.retryAfterMs, reservationMs: 2 * s.retryAfterMs, maxLength: 100_000 } });
  const core = new TicketCore({ clock, keys: keyRing("k1"), randomId: sequentialIds(`s${seed}`), routableByDefault: true });
  core.setApps([spec]);
  core.setPods(APP, Array.from({ length: s.pods }, (_, i) => pod(`p${i}`)));
  let nextSweep = SWEEP_MS;
  let nextReturn: number | undefined;
  let queueToken: string | undefined;
  for (let now = 0; now <= s.arrivalMs + s.probationMs + s.retryAfterMs + SWEEP_MS + 60_000; now += TICK_MS) {
    clock.set(now);
    if (now >= nextSweep) {
      core.sweep();
      nextSweep += SWEEP_MS;
    }
    // Abusers: Poisson-ish, cookieless, never back.
    const expected = (s.floodPerSecond * TICK_MS) / 1000;
    for (let n = Math.floor(expected) + (r() < expected % 1 ? 1 : 0); n > 0; n--) admit(core, APP, {});
    if (now === s.arrivalMs || (nextReturn !== undefined && now >= nextReturn)) {
      const a = admit(core, APP, queueToken === undefined ? {} : { queueTokens: [queueToken] });
      if (a.kind === "issued") return now - s.arrivalMs;
      if (a.kind === "queued") queueToken = a.queueToken;
      nextReturn = now + (a.kind === "queued" || a.kind === "refused" ? a.retryAfterMs : s.retryAfterMs);
    }
  }
  return Number.POSITIVE_INFINITY;
}

describe("abuse resistance (property)", () => {
  for (const seed of [7, 11, 2026]) {
    it(`a user who keeps coming back gets a slot within probation + one Retry-After while abusers alone hold the slots (seed ${seed})`, () => {
      const r = prng(seed);
      let worst = 0;
      for (let i = 0; i < 40; i++) {
        const s = scenario(r);
        const waited = run(s, seed * 1000 + i);
        const bound = s.probationMs + s.retryAfterMs + SWEEP_MS;
        assert.ok(waited <= bound, `seed ${seed}, scenario ${i} ${JSON.stringify(s)}: waited ${waited} ms, bound ${bound} ms`);
        worst = Math.max(worst, waited / bound);
      }
      assert.ok(worst > 0, "some scenario made the user wait (the floods did bite)");
    });
  }
});
