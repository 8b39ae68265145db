import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { once, type Runnable } from "../common/runnable.js";
import { RunnableManager } from "./manager.js";
import type { Leadership } from "./ports.js";
import { soleReplica } from "./ports.js";

/** A part that records into a shared journal; its stop settles only when `release` is called (if held). */
class Part implements Runnable {
  readonly stop: () => Promise<void>;
  hold = false;
  #release: (() => void) | undefined;
  constructor(
    readonly name: string,
    readonly journal: string[],
    readonly fail = false,
  ) {
    this.stop = once(async () => {
      this.journal.push(`stop ${name}`);
      if (this.hold) await new Promise<void>((r) => (this.#release = r));
      this.journal.push(`stopped ${name}`);
    });
  }
  start(): Promise<void> {
    this.journal.push(`start ${this.name}`);
    return this.fail ? Promise.reject(new Error(`${this.name} cannot bind`)) : Promise.resolve();
  }
  release(): void {
    this.#release?.();
  }
}

/** A Leadership the test hands out and takes back. */
function election(): Leadership & { win(): void; lose(): void } {
  let leading = false;
  let win!: () => void;
  const elected = new Promise<void>((r) => (win = r));
  const lost = new AbortController();
  return {
    isLeader: () => leading,
    elected,
    lost: lost.signal,
    win: () => {
      leading = true;
      win();
    },
    lose: () => {
      leading = false;
      lost.abort();
    },
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("RunnableManager", () => {
  it("starts in order and stops in reverse order, one part at a time", async () => {
    const journal: string[] = [];
    const m = new RunnableManager({ logger: new RecordingLogger(), leadership: soleReplica() });
    const started: string[] = [];
    for (const n of ["a", "b", "c"]) m.add(new Part(n, journal), { onStarted: () => started.push(n) });
    await m.start();
    assert.deepEqual(m.running(), ["a", "b", "c"]);
    assert.deepEqual(started, ["a", "b", "c"]);
    await m.stop();
    assert.deepEqual(journal, ["start a", "start b", "start c", "stop c", "stopped c", "stop b", "stopped b", "stop a", "stopped a"]);
  });

  it("a second stop() is the same promise and settles only when the last part has stopped", async () => {
    const journal: string[] = [];
    const slow = new Part("slow", journal);
    slow.hold = true;
    const m = new RunnableManager({ logger: new RecordingLogger(), leadership: soleReplica() }).add(slow);
    await m.start();
    const first = m.stop();
    const second = m.stop();
    assert.equal(first, second);
    let settled = false;
    void second.then(() => (settled = true));
    await flush();
    assert.equal(settled, false, "not before the part let go");
    slow.release();
    await second;
    assert.deepEqual(journal.slice(-1), ["stopped slow"]);
  });

  it("when a part fails to start, stops what started (and the failed part) in reverse, and rejects with its error", async () => {
    const journal: string[] = [];
    const logger = new RecordingLogger();
    const m = new RunnableManager({ logger, leadership: soleReplica() });
    m.add(new Part("a", journal)).add(new Part("b", journal, true)).add(new Part("c", journal));
    await assert.rejects(m.start(), /b cannot bind/);
    assert.deepEqual(journal, ["start a", "start b", "stop b", "stopped b", "stop a", "stopped a"]);
    assert.match(logger.at("error")[0]?.message ?? "", /b failed to start/);
    await m.stop();
    assert.equal(journal.length, 6, "nothing stops twice");
  });

  it("defers leader-only parts until elected, then starts them in order; losing the lead stops everything", async () => {
    const journal: string[] = [];
    const vote = election();
    let lostCalls = 0;
    const m = new RunnableManager({ logger: new RecordingLogger(), leadership: vote, onLeadershipLost: () => lostCalls++ });
    m.add(new Part("serve", journal)).add(new Part("allocate", journal), { leaderOnly: true }).add(new Part("check", journal)).add(new Part("sweep", journal), { leaderOnly: true });
    await m.start();
    assert.deepEqual(m.running(), ["serve", "check"], "a follower serves, but does not allocate or sweep");
    vote.win();
    await flush();
    await flush();
    assert.deepEqual(m.running(), ["serve", "check", "allocate", "sweep"]);
    vote.lose();
    await flush();
    await m.stop();
    assert.deepEqual(m.running(), []);
    assert.equal(lostCalls, 1);
    assert.deepEqual(journal.filter((j) => j.startsWith("stopped")), ["stopped sweep", "stopped allocate", "stopped check", "stopped serve"]);
  });

  it("stopping a leader with release: leader-only parts stop first (the ledger's last save), then the lead is given up, then the servers drain", async () => {
    const journal: string[] = [];
    const vote = election();
    const leadership: Leadership = { ...vote, isLeader: () => vote.isLeader(), release: () => Promise.resolve(void journal.push("release the lead")) };
    const m = new RunnableManager({ logger: new RecordingLogger(), leadership });
    m.add(new Part("lease", journal)).add(new Part("ledger", journal), { leaderOnly: true }).add(new Part("check", journal)).add(new Part("sweep", journal), { leaderOnly: true });
    vote.win();
    await m.start();
    await m.stop();
    assert.deepEqual(journal.filter((j) => !j.startsWith("start ") && !j.startsWith("stop ")), ["stopped sweep", "stopped ledger", "release the lead", "stopped check", "stopped lease"]);
  });

  it("starts a leader-only part in place when this replica already leads", async () => {
    const journal: string[] = [];
    const m = new RunnableManager({ logger: new RecordingLogger(), leadership: soleReplica() });
    m.add(new Part("a", journal)).add(new Part("ledger", journal), { leaderOnly: true }).add(new Part("b", journal));
    await m.start();
    assert.deepEqual(m.running(), ["a", "ledger", "b"]);
    await m.stop();
  });

  it("refuses parts added after start, and a second start", async () => {
    const m = new RunnableManager({ logger: new RecordingLogger(), leadership: soleReplica() });
    await m.start();
    assert.throws(() => m.add(new Part("late", [])), /after the manager started/);
    await assert.rejects(m.start(), /starts once/);
    await m.stop();
  });
});
