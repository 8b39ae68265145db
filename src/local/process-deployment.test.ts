import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { afterEach, describe, it } from "node:test";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { PodCommand } from "../config/local-file.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { isAlive } from "../../test/support/process-liveness.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { eventually, waitFor } from "../../test/support/wait-for.js";
import { ProcessDeployment, type LocalPodView, type PodTiming } from "./process-deployment.js";

const POD_SCRIPT = fileURLToPath(new URL("../../test/support/local-pod.mjs", import.meta.url));
const TIMING: Partial<PodTiming> = { probePeriodMs: 100, probeTimeoutMs: 1000, failureThreshold: 3, restartBaseMs: 1000, restartMaxMs: 4000, backoffResetMs: 60_000, stopGraceMs: 5000 };

function command(env: Record<string, string> = {}): PodCommand {
  return { command: "node", args: [POD_SCRIPT], env: { EXTRA: "from-run-env", ...env }, cwd: process.cwd(), readinessPath: "/healthz" };
}

const running: ProcessDeployment[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

interface Setup {
  readonly d: ProcessDeployment;
  readonly clock: FakeClock;
  readonly logger: RecordingLogger;
  readonly watched: Set<number>;
  changes: number;
}

function deployment(options: { replicas?: number; env?: Record<string, string>; cmd?: PodCommand } = {}): Setup {
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const watched = new Set<number>();
  const setup: Setup = { clock, logger, watched, changes: 0, d: undefined as unknown as ProcessDeployment };
  const d = new ProcessDeployment({
    app: "default/demo",
    deployment: "demo",
    command: options.cmd ?? command(options.env),
    replicas: options.replicas ?? 0,
    clock,
    logger,
    guard: { watch: (pid) => watched.add(pid), unwatch: (pid) => watched.delete(pid) },
    onChange: () => setup.changes++,
    timing: TIMING,
  });
  running.push(d);
  return Object.assign(setup, { d });
}

/** Moves fake time one probe period at a time until `cond` holds (the probes are real HTTP requests). */
async function probeUntil(s: Setup, cond: (pods: LocalPodView[]) => boolean, what: string): Promise<void> {
  await waitFor(
    () => {
      if (cond(s.d.view())) return true;
      s.clock.advance(100);
      return false;
    },
    { what, intervalMs: 20 },
  );
}

async function whoami(port: number): Promise<{ pod: string; pid: number; child?: number; env?: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/whoami`);
  return (await res.json()) as { pod: string; pid: number; child?: number; env?: string };
}

const ready = (n: number) => (pods: LocalPodView[]) => pods.length === n && pods.every((p) => p.ready);

describe("ProcessDeployment", () => {
  it("scales up: each pod a process on its own port, with PORT, POD_NAME and the run env, ready once its probe answers", async () => {
    const s = deployment();
    s.d.start();
    assert.deepEqual(s.d.pods(), []);
    s.d.write(2, s.d.resourceVersion);
    assert.equal(s.d.replicas, 2);
    assert.equal(s.d.pods().length, 2, "listed at once, not ready");
    assert.ok(s.d.pods().every((p) => !p.ready && p.host === "127.0.0.1"));
    await probeUntil(s, ready(2), "two ready pods");
    const pods = s.d.view();
    assert.notEqual(pods[0]?.port, pods[1]?.port);
    for (const p of pods) {
      const me = await whoami(p.port);
      assert.equal(me.pod, p.name);
      assert.equal(me.pid, p.pid);
      assert.equal(me.env, "from-run-env");
      assert.ok(s.watched.has(me.pid), "the orphan guard watches the pod's group");
    }
    assert.ok(s.logger.lines.some((l) => l.message === "pod ready"));
  });

  it("answers a stale resourceVersion with TP_CONFLICT and changes nothing", () => {
    const s = deployment({ replicas: 0 });
    const rv = s.d.resourceVersion;
    s.d.write(0, rv);
    assert.throws(
      () => s.d.write(3, rv),
      (err: unknown) => err instanceof TicketplaneError && err.code === ERROR_CODES.CONFLICT && /resourceVersion/.test(err.message),
    );
    assert.equal(s.d.replicas, 0);
    assert.throws(() => s.d.write(-1, s.d.resourceVersion), (err: unknown) => err instanceof TicketplaneError && err.code === ERROR_CODES.INVALID_ARGUMENT);
  });

  it("scales in by stopping exactly the pod with the lowest deletion cost; the others keep running", async () => {
    const s = deployment({ replicas: 3 });
    s.d.start();
    await probeUntil(s, ready(3), "three ready pods");
    const [a, b, c] = s.d.view();
    assert.ok(a !== undefined && b !== undefined && c !== undefined && a.pid !== undefined && b.pid !== undefined && c.pid !== undefined);
    s.d.setCosts(new Map([[a.name, 10], [b.name, -5], [c.name, 10]]));
    assert.deepEqual(s.d.costs(), new Map([[a.name, 10], [b.name, -5], [c.name, 10]]));
    s.d.write(2, s.d.resourceVersion);
    assert.deepEqual(s.d.pods().map((p) => p.name).sort(), [a.name, c.name].sort(), "the chosen pod leaves the list at once");
    const bPid = b.pid;
    await waitFor(() => !isAlive(bPid), { what: `pod ${b.name} (pid ${bPid}) to exit` });
    assert.ok(isAlive(a.pid) && isAlive(c.pid));
    assert.ok(!s.watched.has(bPid), "unwatched once gone");
    assert.ok(s.logger.lines.some((l) => l.message === "pod stopped" && l.fields["pod"] === b.name));
  });

  it("scales in a pod that is not ready before a ready one, whatever the costs", async () => {
    const s = deployment({ replicas: 2 });
    s.d.start();
    await probeUntil(s, ready(2), "two ready pods");
    const [a, b] = s.d.view();
    assert.ok(a !== undefined && b !== undefined);
    s.d.setCosts(new Map([[a.name, -100], [b.name, 100]]));
    await fetch(`http://127.0.0.1:${b.port}/health/off`, { method: "POST" });
    await probeUntil(s, (pods) => pods.find((p) => p.name === b.name)?.ready === false, `${b.name} not ready after 3 failed probes`);
    s.d.write(1, s.d.resourceVersion);
    assert.deepEqual(s.d.pods().map((p) => p.name), [a.name]);
  });

  it("marks and unmarks a pod draining; the ticket core sees it as draining", () => {
    const s = deployment({ replicas: 1 });
    s.d.start();
    const [pod] = s.d.pods();
    assert.ok(pod !== undefined);
    assert.equal(s.d.mark(pod.name, { since: 5, by: "reconciler" }), true);
    assert.equal(s.d.mark(pod.name, { since: 9, by: "prestop" }), true);
    assert.deepEqual(s.d.marks().get(pod.name), { since: 5, by: "reconciler" }, "the first mark stays");
    assert.equal(s.d.pods()[0]?.draining, true);
    assert.equal(s.d.mark("no-such-pod", { since: 1, by: "reconciler" }), false);
    s.d.unmark(pod.name);
    s.d.unmark("no-such-pod");
    assert.equal(s.d.pods()[0]?.draining, false);
  });

  it("waits for the readiness probe: a listening pod whose probe fails stays not ready until it answers 200", async () => {
    const s = deployment({ replicas: 1, env: { HEALTHY: "0" } });
    s.d.start();
    const port = await eventually(
      async () => {
        const pod = s.d.view()[0];
        if (pod?.pid === undefined) return undefined;
        const res = await fetch(`http://127.0.0.1:${pod.port}/whoami`).catch(() => undefined);
        return res?.ok === true ? pod.port : undefined;
      },
      { what: "the pod to listen" },
    );
    for (let i = 0; i < 10; i++) {
      s.clock.advance(100);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(s.d.view()[0]?.ready, false, `probe ${i + 1} answered 503: not ready`);
    }
    await fetch(`http://127.0.0.1:${port}/health/on`, { method: "POST" });
    await probeUntil(s, ready(1), "the pod ready once its probe answers 200");
  });

  it("restarts a crashed pod with a doubling backoff on the clock: same name and port, a new process", async () => {
    const s = deployment({ replicas: 1 });
    s.d.start();
    await probeUntil(s, ready(1), "one ready pod");
    const first = s.d.view()[0];
    assert.ok(first?.pid !== undefined);
    process.kill(first.pid, "SIGKILL");
    await waitFor(() => s.d.view()[0]?.phase === "backoff", { what: "the pod in backoff" });
    let pod = s.d.view()[0];
    assert.equal(pod?.restarts, 1);
    assert.equal(pod?.lastExit, "killed by SIGKILL");
    assert.equal(pod?.ready, false);
    assert.equal(s.d.pods()[0]?.ready, false, "the ticket core sees it not ready");
    s.clock.advance(999);
    assert.equal(s.d.view()[0]?.pid, undefined, "no restart before the backoff");
    s.clock.advance(1);
    await probeUntil(s, ready(1), "the restarted pod ready");
    pod = s.d.view()[0];
    assert.equal(pod?.name, first.name);
    assert.equal(pod?.port, first.port);
    assert.notEqual(pod?.pid, first.pid);
    // Second crash: twice the wait.
    assert.ok(pod?.pid !== undefined);
    process.kill(pod.pid, "SIGKILL");
    await waitFor(() => s.d.view()[0]?.phase === "backoff", { what: "the pod in backoff again" });
    assert.equal(s.d.view()[0]?.restarts, 2);
    s.clock.advance(1999);
    assert.equal(s.d.view()[0]?.pid, undefined, "no restart before 2 s");
    s.clock.advance(1);
    await waitFor(() => s.d.view()[0]?.pid !== undefined, { what: "the second restart" });
  });

  it("a command that cannot start is a pod in backoff with the reason, not a crash", async () => {
    const s = deployment({ replicas: 1, cmd: { ...command(), command: "/nonexistent/ticketplane-pod" } });
    s.d.start();
    await waitFor(() => s.d.view()[0]?.phase === "backoff", { what: "the pod in backoff" });
    assert.match(s.d.view()[0]?.lastExit ?? "", /did not start: .*ENOENT/);
    s.clock.advance(1000);
    await waitFor(() => s.d.view()[0]?.restarts === 2, { what: "a second attempt" });
  });

  it("stop: SIGTERM, then SIGKILL after the grace period for a pod that ignores SIGTERM; its grandchildren go with its group", async () => {
    const s = deployment({ replicas: 1, env: { IGNORE_SIGTERM: "1", CHILD: "1" } });
    s.d.start();
    await probeUntil(s, ready(1), "one ready pod");
    const pod = s.d.view()[0];
    assert.ok(pod !== undefined);
    const me = await whoami(pod.port);
    assert.ok(me.child !== undefined && isAlive(me.child));
    let stopped = false;
    const stopping = s.d.stop().then(() => (stopped = true));
    assert.deepEqual(s.d.pods(), []);
    await waitFor(() => me.child !== undefined && !isAlive(me.child), { what: "the grandchild to get SIGTERM with the group" });
    assert.ok(isAlive(me.pid) && !stopped, "the pod ignores SIGTERM");
    s.clock.advance(5000);
    await stopping;
    assert.ok(!isAlive(me.pid));
    assert.throws(() => s.d.write(1, s.d.resourceVersion), (err: unknown) => err instanceof TicketplaneError && err.code === ERROR_CODES.UNAVAILABLE);
  });
});
