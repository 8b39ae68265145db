import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAppObjects } from "./app-set.js";

const ticketed = (name: string, spec: Record<string, unknown> = {}, namespace = "default"): Record<string, unknown> => ({
  apiVersion: "ticketplane.dev/v1alpha1",
  kind: "TicketedApp",
  metadata: { name, namespace },
  spec,
});
const k8sticket = (app: string, label = "true", extra: Record<string, string> = {}): Record<string, unknown> => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: `${app}-dep`, namespace: "default", labels: { k8sTicket: label }, annotations: { "ipb-halle.de/k8sticket.deployment.app": app, ...extra } },
  spec: { template: { metadata: { labels: { "ipb-halle.de/k8sticket.deployment.app": app } } } },
});

describe("parseAppObjects (tolerant form for Kubernetes sources)", () => {
  it("keeps valid apps working while reporting invalid ones, naming the object", () => {
    const set = parseAppObjects([
      ticketed("good"),
      ticketed("bad", { maxPods: 0 }),
      k8sticket("gm"),
      k8sticket("broken", "true", { "ipb-halle.de/k8sticket.deployment.maxTickets": "many" }),
    ]);
    assert.deepEqual(set.apps.map((a) => a.name), ["good", "gm"]);
    assert.deepEqual(set.errors, [
      { object: "TicketedApp default/bad", path: "spec.maxPods", value: 0, rule: "must be an integer ≥ 1" },
      { object: "Deployment default/broken-dep", path: 'metadata.annotations["ipb-halle.de/k8sticket.deployment.maxTickets"]', value: "many", rule: "must be an integer ≥ 1" },
    ]);
    assert.deepEqual(set.disabled, []);
  });

  it("lists k8sTicket apps that are disabled, and skips foreign Deployments silently", () => {
    const foreign = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: {} };
    const set = parseAppObjects([k8sticket("old", "false"), foreign]);
    assert.deepEqual(set, { apps: [], disabled: ["default/old"], errors: [] });
  });

  it("first claimant of a name or route wins; later ones are reported", () => {
    const set = parseAppObjects([ticketed("a"), ticketed("a", { ticketsPerPod: 2 }), ticketed("b", { pathPrefix: "/a/" }), ticketed("a", { pathPrefix: "/other-a/" }, "other")]);
    assert.deepEqual(set.apps.map((a) => `${a.namespace}/${a.name}/${a.ticketsPerPod}`), ["default/a/1", "other/a/1"]);
    assert.deepEqual(
      set.errors.map((e) => [e.object, e.path]),
      [
        ["TicketedApp default/a", "metadata.name"],
        ["TicketedApp default/b", "spec.pathPrefix"],
      ],
    );
  });

  it("a k8sTicket app and a TicketedApp cannot share a name", () => {
    const set = parseAppObjects([k8sticket("x"), ticketed("x")]);
    assert.equal(set.apps.length, 1);
    assert.equal(set.errors[0]?.object, "TicketedApp default/x");
  });
});
