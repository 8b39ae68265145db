import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InvalidApp } from "./app-sources.js";
import type { EventInput } from "./events.js";
import { INVALID_APP_REASON, InvalidAppEvents, invalidAppEvent } from "./invalid-app-events.js";

/** The part of KubeInventory the reporter uses, with a set the test changes. */
class InvalidSet {
  current: readonly InvalidApp[] = [];
  readonly listeners = new Set<(invalid: readonly InvalidApp[]) => void>();
  invalidApps(): readonly InvalidApp[] {
    return this.current;
  }
  onInvalidApps(listener: (invalid: readonly InvalidApp[]) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  change(next: readonly InvalidApp[]): void {
    this.current = next;
    for (const l of this.listeners) l(next);
  }
}

const tapp: InvalidApp = { object: { kind: "TicketedApp", namespace: "shop", name: "shiny" }, errors: [{ path: "spec.ticketsPerPod", value: "zero", rule: "an integer from 1 to 10000" }] };
const deploy: InvalidApp = { object: { kind: "Deployment", namespace: "shop", name: "old" }, errors: [{ path: "metadata.annotations.k8sTicket.port", value: "http", rule: "a port number" }, { path: "spec.x", value: 1, rule: "r" }] };

describe("InvalidAppEvents", () => {
  it("records a Warning on each invalid object at start and at every change, naming every field, and stops listening on stop", async () => {
    const inventory = new InvalidSet();
    inventory.current = [tapp];
    const recorded: EventInput[] = [];
    const part = new InvalidAppEvents({ inventory, events: { record: (e) => recorded.push(e) } });
    await part.start();
    assert.equal(recorded.length, 1);
    assert.deepEqual(recorded[0]?.regarding, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", namespace: "shop", name: "shiny" });
    assert.equal(recorded[0]?.type, "Warning");
    assert.equal(recorded[0]?.reason, INVALID_APP_REASON);
    assert.equal(recorded[0]?.note, 'not served: spec.ticketsPerPod: "zero" — an integer from 1 to 10000');

    inventory.change([tapp, deploy]);
    assert.equal(recorded.length, 3);
    assert.deepEqual(recorded[2]?.regarding, { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "old" });
    assert.match(recorded[2]?.note ?? "", /metadata\.annotations\.k8sTicket\.port: "http" — a port number; spec\.x: 1 — r/);

    await part.stop();
    inventory.change([deploy]);
    assert.equal(recorded.length, 3, "nothing after stop");
    assert.equal(inventory.listeners.size, 0);
  });

  it("keeps a note within the API server's 1 KiB", () => {
    const many: InvalidApp = { object: tapp.object, errors: Array.from({ length: 100 }, (_, i) => ({ path: `spec.f${i}`, value: "x".repeat(20), rule: "a rule of some length" })) };
    assert.ok(invalidAppEvent(many).note.length <= 1000);
  });
});
