import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Backoff } from "./backoff.js";
import { matchesSelector } from "./label-selector.js";
import { POD_DELETION_COST, sameStripped, stripDeployment, stripPod, stripTicketedApp } from "./strip.js";

/** A pod as the API server returns it, with the bulk a real one carries. */
export function fullPod(name: string, extra: { ip?: string; ready?: boolean; deleting?: boolean } = {}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      uid: `uid-${name}`,
      resourceVersion: "42",
      labels: { app: "shiny", "pod-template-hash": "7d9f" },
      annotations: { [POD_DELETION_COST]: "-5", "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "shiny-7d9f", uid: "rs-uid", controller: true }],
      managedFields: [{ manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:metadata": { "f:labels": {} } } }],
      ...(extra.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { containers: [{ name: "app", image: "shiny:1", ports: [{ containerPort: 3838 }], env: [{ name: "A", value: "b" }] }], nodeName: "node-1" },
    status: { phase: "Running", podIP: extra.ip ?? "10.0.0.7", conditions: [{ type: "Ready", status: extra.ready === false ? "False" : "True" }], containerStatuses: [{ name: "app", ready: true, restartCount: 0 }] },
  };
}

describe("stripping before caching", () => {
  it("keeps what Kubernetes mode reads of a pod, nothing else", () => {
    assert.deepEqual(stripPod(fullPod("a")), {
      namespace: "shop",
      name: "a",
      uid: "uid-a",
      labels: { app: "shiny", "pod-template-hash": "7d9f" },
      deletionCost: "-5",
      owner: { kind: "ReplicaSet", name: "shiny-7d9f", uid: "rs-uid" },
      terminating: false,
      podIP: "10.0.0.7",
      phase: "Running",
      ready: true,
      resourceVersion: "42",
    });
    assert.equal(stripPod(fullPod("b", { deleting: true }))?.terminating, true);
    assert.equal(stripPod(fullPod("c", { ready: false }))?.ready, false);
    // client-node's typed lists give Date timestamps: still terminating.
    const typed = fullPod("d");
    (typed["metadata"] as Record<string, unknown>)["deletionTimestamp"] = new Date();
    assert.equal(stripPod(typed)?.terminating, true);
  });

  it("refuses objects without a name; tolerates junk in the fields it reads", () => {
    assert.equal(stripPod({ metadata: {} }), undefined);
    assert.equal(stripPod("junk"), undefined);
    const p = stripPod({ metadata: { name: "x", labels: { ok: "1", bad: 2 }, ownerReferences: "nope" }, status: { conditions: "nope", phase: 3 } });
    assert.deepEqual(p, { namespace: "default", name: "x", uid: "", labels: { ok: "1" }, terminating: false, phase: "Pending", ready: false, resourceVersion: "" });
  });

  it("keeps a Deployment's labels, k8sTicket and ticketplane annotations, replicas, selector and template metadata", () => {
    const d = stripDeployment({
      metadata: { name: "shiny", namespace: "shop", labels: { k8sTicket: "true" }, annotations: { "ipb-halle.de/k8sticket.deployment.app": "shiny", "deployment.kubernetes.io/revision": "3" } },
      spec: { replicas: 2, selector: { matchLabels: { app: "shiny" }, matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }, template: { metadata: { labels: { app: "shiny" }, annotations: { "ipb-halle.de/k8sTicket.port": "3838" } }, spec: { containers: [] } } },
      status: { replicas: 2, readyReplicas: 1 },
    });
    assert.deepEqual(d?.annotations, { "ipb-halle.de/k8sticket.deployment.app": "shiny" });
    assert.equal(d?.replicas, 2);
    assert.deepEqual(d?.template.annotations, { "ipb-halle.de/k8sTicket.port": "3838" });
    assert.deepEqual(d?.selector?.matchExpressions, [{ key: "tier", operator: "In", values: ["web"] }]);
  });

  it("a TicketedApp keeps its spec and identity; status is dropped", () => {
    const t = stripTicketedApp({ apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: "a", namespace: "shop", generation: 2, managedFields: [{}] }, spec: { deployment: "a" }, status: { pods: 3 } });
    assert.deepEqual(t, { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: "a", namespace: "shop", uid: "", resourceVersion: "", generation: 2 }, spec: { deployment: "a" } });
  });

  it("two strips that differ only in resourceVersion are the same", () => {
    const a = stripPod(fullPod("a"));
    const b = stripPod({ ...fullPod("a"), metadata: { ...(fullPod("a")["metadata"] as object), resourceVersion: "43" } });
    assert.ok(sameStripped(a, b));
    assert.ok(!sameStripped(a, stripPod(fullPod("a", { ready: false }))));
  });
});

describe("label selectors", () => {
  const sel = (matchLabels: Record<string, string>, matchExpressions: { key: string; operator: string; values: string[] }[] = []) => ({ matchLabels, matchExpressions });
  it("matchLabels and every operator", () => {
    const labels = { app: "shiny", tier: "web" };
    assert.ok(matchesSelector(sel({ app: "shiny" }), labels));
    assert.ok(!matchesSelector(sel({ app: "other" }), labels));
    assert.ok(matchesSelector(sel({}, [{ key: "tier", operator: "In", values: ["web", "api"] }]), labels));
    assert.ok(!matchesSelector(sel({}, [{ key: "tier", operator: "NotIn", values: ["web"] }]), labels));
    assert.ok(matchesSelector(sel({}, [{ key: "gone", operator: "NotIn", values: ["web"] }]), labels));
    assert.ok(matchesSelector(sel({}, [{ key: "app", operator: "Exists", values: [] }]), labels));
    assert.ok(matchesSelector(sel({}, [{ key: "gone", operator: "DoesNotExist", values: [] }]), labels));
    assert.ok(!matchesSelector(sel({}, [{ key: "app", operator: "Bogus", values: [] }]), labels));
  });
  it("an empty or missing selector matches nothing (never every pod of a namespace)", () => {
    assert.ok(!matchesSelector(sel({}), { app: "x" }));
    assert.ok(!matchesSelector(undefined, { app: "x" }));
  });
});

describe("backoff", () => {
  it("doubles from the base to the cap, jitter in the upper half, Retry-After honoured, reset on success", () => {
    const low = new Backoff({ baseMs: 100, maxMs: 800, random: () => 0 });
    assert.deepEqual([1, 2, 3, 4, 5].map(() => low.next()), [50, 100, 200, 400, 400]);
    const high = new Backoff({ baseMs: 100, maxMs: 800, random: () => 0.999999 });
    assert.deepEqual([1, 2].map(() => high.next()), [100, 200]);
    assert.equal(high.next(2_000), 2_000, "the server's Retry-After wins when longer");
    assert.equal(high.next(3_600_000), 3_200, "but a server asking for an hour is held to four times the cap");
    high.reset();
    assert.equal(high.failures, 0);
    assert.equal(high.next(), 100);
  });
});
