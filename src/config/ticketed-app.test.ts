import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULTS } from "./app-spec.js";
import { parseTicketedApp } from "./ticketed-app.js";

const base = { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: "shiny", namespace: "team-a" } };

describe("parseTicketedApp", () => {
  it("reads metadata and spec into an AppSpec with source TicketedApp", () => {
    const r = parseTicketedApp({ ...base, spec: { deployment: "shiny", service: "shiny", port: 3838, ticketsPerPod: 2, maxPods: 4, ticket: { idleTimeout: "5m" } } });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.source, "TicketedApp");
    assert.equal(r.value.namespace, "team-a");
    assert.equal(r.value.name, "shiny");
    assert.equal(r.value.pathPrefix, "/shiny/");
    assert.equal(r.value.podPort, 3838);
    assert.equal(r.value.ticket.idleTimeoutMs, 300_000);
    assert.equal(r.value.ticket.maxLifetimeMs, DEFAULTS.ticket.maxLifetimeMs);
  });

  it("reads ticket.probation, ticket.connectionTimeout and limits from spec", () => {
    const r = parseTicketedApp({ ...base, spec: { ticket: { probation: "3s", idleTimeout: "5m", connectionTimeout: "2m" }, limits: { ticketsPerClient: 2, queuePerClient: 1 } } });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual([r.value.ticket.probationMs, r.value.ticket.connectionTimeoutMs, r.value.limits], [3000, 120_000, { ticketsPerClient: 2, queuePerClient: 1 }]);
  });

  it("reads the scaling policy from spec.scaling; a bad one is reported at its spec path", () => {
    const r = parseTicketedApp({ ...base, spec: { scaling: { policy: "formula", metric: "requestsPerSecond", target: 50, increaseCooldown: "1m" } } });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.scaling, { ...DEFAULTS.scaling, policy: "formula", target: 50, increaseCooldownMs: 60_000 });
    const bad = parseTicketedApp({ ...base, spec: { scaling: { policy: "hpa", target: -1 } } });
    assert.deepEqual(bad.ok ? [] : bad.errors, [{ path: "spec.scaling.target", value: -1, rule: "must be a number > 0" }]);
  });

  it("without them, their defaults (queue.reservation 10s)", () => {
    const r = parseTicketedApp({ ...base, spec: {} });
    assert.ok(r.ok);
    assert.deepEqual([r.value.ticket.probationMs, r.value.ticket.connectionTimeoutMs, r.value.limits, r.value.queue.reservationMs], [10_000, 60_000, { ticketsPerClient: 20, queuePerClient: 20 }, 10_000]);
  });

  it("reports the new rules with spec.* paths", () => {
    const r = parseTicketedApp({ ...base, spec: { ticket: { probation: "10m", maxLifetime: "10m", idleTimeout: "1h", connectionTimeout: "1s" }, limits: { queuePerClient: -1 } } });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => [e.path, e.value, e.rule]),
      [
        ["spec.ticket.probation", "10m", "must be < ticket.maxLifetime (10m)"],
        ["spec.ticket.connectionTimeout", "1s", "must be ≥ 5s (gateways report open connections every second; a shorter timeout would count a live WebSocket as closed after a few late reports)"],
        ["spec.limits.queuePerClient", -1, "must be an integer ≥ 0"],
      ],
    );
  });

  it("defaults the namespace and accepts an empty spec", () => {
    const r = parseTicketedApp({ ...base, metadata: { name: "x" } });
    assert.ok(r.ok && r.value.namespace === "default" && r.value.maxPods === 1);
  });

  it("ignores status and foreign metadata (labels, uid …)", () => {
    const r = parseTicketedApp({ ...base, metadata: { ...base.metadata, uid: "u", labels: { a: "b" } }, spec: {}, status: { mode: "Serve" } });
    assert.ok(r.ok);
  });

  it("reports errors with spec.* and metadata.* paths, all of them", () => {
    const r = parseTicketedApp({ ...base, metadata: { name: "Bad_Name" }, spec: { queue: { maxLength: -1 }, minPods: 2, maxPods: 1, pods: [], replicas: 2 } });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => [e.path, e.value, e.rule]),
      [
        ["spec.pods", [], "not allowed here: only config-file apps list pods"],
        ["spec.replicas", 2, "unknown field"],
        ["metadata.name", "Bad_Name", "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"],
        ["spec.minPods", 2, "must be ≤ maxPods (1)"],
        ["spec.queue.maxLength", -1, "must be an integer ≥ 0"],
      ],
    );
  });

  it("bounds counts and durations, with spec.* paths", () => {
    const r = parseTicketedApp({ ...base, spec: { maxPods: 10_001, ticket: { maxLifetime: "80000000h" }, queue: { retryAfter: "2h" } } });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => [e.path, e.value, e.rule]),
      [
        ["spec.maxPods", 10_001, "must be ≤ 10000 (each pod is a cluster and its endpoints, pushed to every gateway)"],
        ["spec.ticket.maxLifetime", "80000000h", "must be ≤ 8760h (365 days; a year outlasts any session, and a ticket's expiry must fit its token's 48-bit milliseconds)"],
        ["spec.queue.retryAfter", "2h", "must be ≤ 1h (the waiting room refreshes this often; a user told to come back later has left)"],
      ],
    );
  });

  it("checks apiVersion, kind and top-level fields", () => {
    const r = parseTicketedApp({ apiVersion: "ticketplane.dev/v1", kind: "TicketedApp", metadata: { name: "a" }, spce: {} });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => e.path),
      ["apiVersion", "spce"],
    );
    assert.match(r.errors[1]?.rule ?? "", /did you mean "spec"/);
  });

  it("requires a metadata.name", () => {
    const r = parseTicketedApp({ ...base, metadata: {} });
    assert.ok(!r.ok && r.errors.some((e) => e.path === "metadata.name" && e.rule === "is required"));
  });

  it("rejects non-mapping documents and specs", () => {
    assert.equal(parseTicketedApp("x").ok, false);
    const r = parseTicketedApp({ ...base, spec: [1] });
    assert.ok(!r.ok && r.errors[0]?.path === "spec" && r.errors[0].rule === "must be a mapping, not a list");
  });
});
