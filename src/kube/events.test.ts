/**
 * EventRecorder against the test API server (events.k8s.io/v1), with the
 * fake clock for series flushes, rate-limit refills and retry backoff;
 * kubectl reads what it wrote.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { Kubectl } from "../../test/support/kube-api/kubectl.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { EventRecorder, type EventInput, type EventRecorderOptions } from "./events.js";
import { apiClients } from "./kube-api.fixture.js";

const k = useKubeApi();
const EVENTS = "/apis/events.k8s.io/v1/namespaces/shop/events";

interface StoredEvent {
  metadata: { name: string; namespace: string };
  reason: string;
  note: string;
  type: string;
  action: string;
  reportingController: string;
  reportingInstance: string;
  eventTime: string;
  regarding: { kind: string; name: string; namespace: string };
  series?: { count: number; lastObservedTime: string };
}

function recorder(options: Partial<EventRecorderOptions> = {}): { recorder: EventRecorder; clock: FakeClock; registry: Registry; logger: RecordingLogger } {
  const clock = new FakeClock();
  const registry = new Registry();
  const logger = new RecordingLogger();
  const r = new EventRecorder({ events: apiClients(k.server).events, reportingController: "ticketplane.dev/controller", reportingInstance: "replica-a", clock, logger, registry, ...options });
  return { recorder: r, clock, registry, logger };
}

const scaled = (note: string, reason = "ScaledUp", name = "shiny"): EventInput => ({ regarding: { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", name, namespace: "shop" }, type: "Normal", reason, action: "Scale", note });

async function events(): Promise<StoredEvent[]> {
  await k.api.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
  return (await k.api.get(EVENTS)).body.items as StoredEvent[];
}

/** Drives the fake clock until `work` settles (retries wait on it), giving real I/O a turn between steps. */
async function driving(clock: FakeClock, work: Promise<void>): Promise<void> {
  let done = false;
  void work.finally(() => (done = true));
  for (let i = 0; i < 2000 && !done; i++) {
    await clock.advanceAsync(250);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await work;
}

async function withShop(): Promise<void> {
  await k.api.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
}

describe("EventRecorder", () => {
  it("writes an events.k8s.io/v1 Event with the reporting controller and instance, reason, action, note and the regarding object", async () => {
    await withShop();
    const { recorder: r } = recorder();
    r.record(scaled("scaled from 2 to 3 pods: 1 free slot, 2 spare wanted"));
    await r.flush();
    const [e] = await events();
    assert.ok(e !== undefined);
    assert.deepEqual({ reason: e.reason, action: e.action, type: e.type, note: e.note, controller: e.reportingController, instance: e.reportingInstance }, { reason: "ScaledUp", action: "Scale", type: "Normal", note: "scaled from 2 to 3 pods: 1 free slot, 2 spare wanted", controller: "ticketplane.dev/controller", instance: "replica-a" });
    assert.deepEqual({ kind: e.regarding.kind, name: e.regarding.name, namespace: e.regarding.namespace }, { kind: "TicketedApp", name: "shiny", namespace: "shop" });
    assert.equal(e.metadata.namespace, "shop");
    assert.match(e.metadata.name, /^shiny\.[0-9a-f]+$/);
    assert.ok(Number.isFinite(Date.parse(e.eventTime)));
  });

  it("a reason repeated 1,000 times is one Event whose series counts them (one create, then one patch per flush), with the latest note", async () => {
    await withShop();
    const { recorder: r, clock, registry } = recorder({ seriesFlushMs: 30_000 });
    for (let i = 1; i <= 1000; i++) {
      r.record(scaled(`scaled to ${i} pods`));
      clock.advance(5);
    }
    await r.flush();
    await clock.advanceAsync(30_000);
    await r.flush();
    const list = await events();
    assert.equal(list.length, 1, "one object, not a thousand");
    assert.equal(list[0]?.series?.count, 1000);
    assert.equal(list[0]?.note, "scaled to 1000 pods");
    const writes = k.server.requests.filter((q) => q.path.startsWith(EVENTS) && q.method !== "GET");
    assert.ok(writes.length <= 3, `${writes.length} writes for 1,000 occurrences`);
    assert.match(await registry.metrics(), /ticketplane_kube_events_total\{outcome="aggregated"\} 999/);
  });

  it("other reasons are other Events; after the series window a repeat starts a new Event", async () => {
    await withShop();
    const { recorder: r, clock } = recorder();
    r.record(scaled("up"));
    r.record(scaled("down", "ScaledDown"));
    r.record({ ...scaled("bad field"), type: "Warning", reason: "InvalidSpec", action: "Validate" });
    await r.flush();
    assert.deepEqual((await events()).map((e) => e.reason).sort(), ["InvalidSpec", "ScaledDown", "ScaledUp"]);
    await clock.advanceAsync(6 * 60_000 + 1);
    r.record(scaled("up again"));
    await r.flush();
    assert.equal((await events()).filter((e) => e.reason === "ScaledUp").length, 2);
  });

  it("new Events are rate limited per object (burst 25, then one per refill); other objects are not affected", async () => {
    await withShop();
    const { recorder: r, clock, registry } = recorder({ burst: 25, refillEveryMs: 300_000 });
    for (let i = 0; i < 40; i++) r.record(scaled("x", `Reason${i}`));
    r.record(scaled("x", "Other", "lab"));
    await r.flush();
    const list = await events();
    assert.equal(list.filter((e) => e.regarding.name === "shiny").length, 25);
    assert.equal(list.filter((e) => e.regarding.name === "lab").length, 1);
    assert.match(await registry.metrics(), /ticketplane_kube_events_total\{outcome="rate_limited"\} 15/);
    await clock.advanceAsync(300_000);
    r.record(scaled("x", "AfterRefill"));
    r.record(scaled("x", "StillLimited"));
    await r.flush();
    const reasons = (await events()).map((e) => e.reason);
    assert.ok(reasons.includes("AfterRefill") && !reasons.includes("StillLimited"));
  });

  it("buckets of objects that come and go are pruned past 4,096, and pruning never resets a bucket still in use", async () => {
    await withShop();
    const { recorder: r, clock, registry } = recorder({ burst: 2, refillEveryMs: 60_000, seriesWindowMs: 1 });
    for (let i = 0; i < 3; i++) r.record(scaled("x", `Busy${i}`, "busy"));
    for (let i = 0; i < 5000; i++) {
      r.record(scaled("x", "Once", `pod-${i}`));
      clock.advance(1);
    }
    r.record(scaled("x", "BusyAgain", "busy"));
    await r.flush();
    const busy = (await events()).filter((e) => e.regarding.name === "busy").map((e) => e.reason);
    assert.deepEqual(busy.sort(), ["Busy0", "Busy1"], "the busy object's empty bucket survived pruning: still limited");
    assert.match(await registry.metrics(), /ticketplane_kube_events_total\{outcome="rate_limited"\} 2/);
  });

  it("a 500 is retried after a backoff; a server that is away costs the caller nothing (record returns, failures are logged and counted)", async () => {
    await withShop();
    const { recorder: r, clock, registry, logger } = recorder();
    k.server.failNext(1, { status: 500, method: "POST" });
    r.record(scaled("retried"));
    await driving(clock, r.flush());
    assert.equal((await events()).length, 1);
    await k.server.pause();
    assert.doesNotThrow(() => r.record(scaled("lost", "Unreachable")));
    await driving(clock, r.flush());
    await k.server.resume();
    assert.ok(logger.lines.some((l) => l.level === "warn" && /could not write an Event/.test(l.message)));
    assert.match(await registry.metrics(), /ticketplane_kube_events_total\{outcome="failed"\} 1/);
    r.record(scaled("back", "Unreachable"));
    await r.flush();
    assert.ok((await events()).some((e) => e.reason === "Unreachable"), "a failed Event does not block the next occurrence");
  });

  it("an Event deleted by someone (or expired) is started anew at the next repeat", async () => {
    await withShop();
    const { recorder: r, clock } = recorder({ seriesFlushMs: 1000 });
    r.record(scaled("one"));
    await r.flush();
    const [first] = await events();
    await k.api.delete(`${EVENTS}/${first?.metadata.name ?? ""}`);
    r.record(scaled("two"));
    await clock.advanceAsync(1000);
    await r.flush();
    r.record(scaled("three"));
    await r.flush();
    const list = await events();
    assert.equal(list.length, 1);
    assert.equal(list[0]?.note, "three");
  });

  it("kubectl, a client we did not write, lists the Events", async () => {
    await withShop();
    const { recorder: r } = recorder();
    r.record(scaled("scaled from 1 to 2 pods"));
    await r.flush();
    const kubectl = await Kubectl.create(k.server);
    try {
      const out = await kubectl.ok(["get", "events.events.k8s.io", "-n", "shop", "-o", "json"]);
      const items = (JSON.parse(out) as { items: StoredEvent[] }).items;
      assert.deepEqual(items.map((e) => [e.reason, e.note]), [["ScaledUp", "scaled from 1 to 2 pods"]]);
    } finally {
      await kubectl.dispose();
    }
  });
});
