import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { afterEach, describe, it } from "node:test";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { AppStatus } from "../reconcile/status.js";
import type { PodInput } from "../tickets/types.js";
import { makeSpec } from "../../test/support/app-spec.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { isAlive } from "../../test/support/process-liveness.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { waitFor } from "../../test/support/wait-for.js";
import { KEPT_EVENTS, ProcessDriver } from "./process-driver.js";

const POD_SCRIPT = fileURLToPath(new URL("../../test/support/local-pod.mjs", import.meta.url));
const APP = "default/demo";
const REF = { namespace: "default", deployment: "demo" };

const drivers: ProcessDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
});

function setup(minPods = 0): { driver: ProcessDriver; clock: FakeClock; logger: RecordingLogger; published: Map<string, readonly PodInput[]> } {
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const published = new Map<string, readonly PodInput[]>();
  const driver = new ProcessDriver({
    apps: [makeSpec({ namespace: "default", name: "demo", deployment: "demo", minPods }), makeSpec({ namespace: "default", name: "listed-only" })],
    run: { [APP]: { command: "node", args: [POD_SCRIPT], env: {}, cwd: process.cwd(), readinessPath: "/healthz" } },
    clock,
    logger,
    timing: { probePeriodMs: 100 },
  });
  driver.feed({ setPods: (app, pods) => published.set(app, pods) });
  drivers.push(driver);
  return { driver, clock, logger, published };
}

const rejectsWith = (code: string) => (err: unknown) => err instanceof TicketplaneError && err.code === code;

describe("ProcessDriver", () => {
  it("starts the guard and minPods pods, and reports every change of pods to the ticket core", async () => {
    const { driver, clock, published } = setup(1);
    await driver.start();
    assert.ok(driver.guardPid !== undefined && isAlive(driver.guardPid));
    assert.equal(published.get(APP)?.length, 1);
    await waitFor(
      () => {
        clock.advance(100);
        return published.get(APP)?.[0]?.ready === true;
      },
      { what: "the pod reported ready", intervalMs: 20 },
    );
    const guard = driver.guardPid;
    await driver.stop();
    await waitFor(() => !isAlive(guard), { what: "the guard to exit on stop" });
  });

  it("is the reconciler's ScaleTarget: read, write at the resourceVersion, 409 when stale, 404 for an unknown deployment", async () => {
    const { driver, published } = setup();
    await driver.start();
    const { scale } = driver.ports();
    const first = await scale.read(REF);
    assert.deepEqual(first, { replicas: 0, resourceVersion: "1", owner: "ticketplane" });
    assert.equal(await scale.read({ namespace: "other", deployment: "demo" }), undefined);
    assert.equal(await scale.read({ namespace: "default", deployment: "listed-only" }), undefined, "an app without a run command has no deployment");
    await scale.write(REF, 2, "1");
    assert.equal(published.get(APP)?.length, 2);
    assert.deepEqual(await scale.read(REF), { replicas: 2, resourceVersion: "2", owner: "ticketplane" });
    await assert.rejects(scale.write(REF, 3, "1"), rejectsWith(ERROR_CODES.CONFLICT));
    await assert.rejects(scale.write({ namespace: "default", deployment: "nope" }, 1, "1"), rejectsWith(ERROR_CODES.NOT_FOUND));
  });

  it("is PodCosts and Draining over the pods; a pod that does not exist is false, not an error", async () => {
    const { driver, published } = setup(1);
    await driver.start();
    const { costs, draining } = driver.ports();
    const pod = published.get(APP)?.[0]?.name ?? "";
    await costs.set(APP, new Map([[pod, 7], ["gone", 1]]));
    assert.deepEqual(await costs.read(APP), new Map([[pod, 7]]));
    assert.equal(await draining.mark(APP, pod, { since: 3, by: "reconciler" }), true);
    assert.equal(await draining.mark(APP, "gone", { since: 3, by: "reconciler" }), false);
    assert.equal(await draining.mark("default/unknown", pod, { since: 3, by: "reconciler" }), false);
    assert.deepEqual(await draining.read(APP), new Map([[pod, { since: 3, by: "reconciler" }]]));
    assert.equal(published.get(APP)?.[0]?.draining, true);
    await draining.unmark(APP, pod);
    assert.equal(published.get(APP)?.[0]?.draining, false);
    assert.deepEqual(await costs.read("default/unknown"), new Map());
  });

  it("keeps the latest status and the last Events per app, and logs each Event", async () => {
    const { driver, logger } = setup();
    await driver.start();
    const { status, events } = driver.ports();
    await status.write(APP, { pods: 1 } as unknown as AppStatus);
    for (let i = 0; i < KEPT_EVENTS + 5; i++) await events.record(APP, { type: i % 2 === 0 ? "Normal" : "Warning", reason: "ScaledUp", message: `event ${i}` });
    const [view] = driver.views();
    assert.deepEqual(view?.status, { pods: 1 });
    assert.equal(view?.events.length, KEPT_EVENTS);
    assert.equal(view?.events[0]?.message, "event 5", "the oldest go first");
    assert.ok(logger.at("warn").some((l) => l.message === "event 7" && l.fields["reason"] === "ScaledUp"));
  });
});
