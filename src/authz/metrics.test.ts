import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { makeSpec } from "../../test/support/app-spec.js";
import type { AppFigures } from "../tickets/types.js";
import { createAuthzMetrics, METRIC_NAMES } from "./metrics.js";

describe("authz metrics", () => {
  it("keeps k8sTicket's names and reads the ticket core's figures at scrape time", async () => {
    let figures: AppFigures = { app: "ns/a", pods: 2, servingPods: 2, capacity: 4, used: 3, onProbation: 0, free: 1, queued: 5, desiredPods: 2, issuedTotal: 7 };
    const views = { apps: () => [makeSpec({ name: "a" })], figures: (app: string) => (app === "ns/a" ? figures : undefined) };
    const registry = new Registry();
    const metrics = createAuthzMetrics(registry, views);
    metrics.observeCheck("valid", 0.0001);
    metrics.checkError();
    metrics.accessLogIgnored("undecodable");
    const text = await registry.metrics();
    for (const name of Object.values(METRIC_NAMES)) assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    assert.match(text, /^k8sticket_current_users_total\{app="ns\/a"\} 3$/m);
    assert.match(text, /^k8sticket_current_free_tickets_total\{app="ns\/a"\} 1$/m);
    assert.match(text, /^k8sticket_scaled_pods_total\{app="ns\/a"\} 2$/m);
    assert.match(text, /^k8sticket_users_total\{app="ns\/a"\} 7$/m);
    assert.match(text, /^ticketplane_queue_length\{app="ns\/a"\} 5$/m);
    assert.match(text, /^ticketplane_check_duration_seconds_count\{outcome="valid"\} 1$/m);
    assert.match(text, /^ticketplane_check_errors_total 1$/m);
    figures = { ...figures, used: 0, issuedTotal: 9 };
    const again = await registry.metrics();
    assert.match(again, /^k8sticket_current_users_total\{app="ns\/a"\} 0$/m);
    assert.match(again, /^k8sticket_users_total\{app="ns\/a"\} 9$/m);
  });
});
