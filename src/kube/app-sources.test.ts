import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readClusterApps } from "./app-sources.js";
import { stripDeployment, stripTicketedApp } from "./strip.js";
import type { CachedDeployment, CachedTicketedApp } from "./strip.js";

const ticketed = (name: string, spec: Record<string, unknown>, namespace = "shop"): CachedTicketedApp =>
  stripTicketedApp({ apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name, namespace }, spec }) as CachedTicketedApp;

const k8sTicket = (name: string, app: string, label = "true", extra: Record<string, string> = {}): CachedDeployment =>
  stripDeployment({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop", labels: { k8sTicket: label }, annotations: { "ipb-halle.de/k8sticket.deployment.app": app, ...extra } },
    spec: { replicas: 1, selector: { matchLabels: { app } }, template: { metadata: { labels: { app, "ipb-halle.de/k8sticket.deployment.app": app } } } },
  }) as CachedDeployment;

describe("which apps the cluster defines", () => {
  it("a TicketedApp and a k8sTicket Deployment naming the same app: the TicketedApp wins, the Deployment is reported", () => {
    const { apps, invalid } = readClusterApps([ticketed("web", { deployment: "web" })], [k8sTicket("web-legacy", "web")]);
    assert.deepEqual([...apps.keys()], ["shop/web"]);
    assert.equal(apps.get("shop/web")?.definedBy.kind, "TicketedApp");
    assert.equal(invalid.length, 1);
    assert.equal(invalid[0]?.object.name, "web-legacy");
    assert.equal(invalid[0]?.errors[0]?.path, 'metadata.annotations["ipb-halle.de/k8sticket.deployment.app"]');
    assert.match(invalid[0]?.errors[0]?.rule ?? "", /names the app shop\/web, which TicketedApp web already defines/);
  });

  it("a k8sTicket label other than \"true\" is a disabled app with its waiting line closed; an invalid disabled one is simply not an app", () => {
    const { apps, invalid } = readClusterApps([], [k8sTicket("a-deploy", "a", "false"), k8sTicket("b-deploy", "b", "off", { "ipb-halle.de/k8sticket.deployment.maxPods": "zero" })]);
    assert.deepEqual([...apps.keys()], ["shop/a"]);
    assert.equal(apps.get("shop/a")?.disabled, true);
    assert.equal(apps.get("shop/a")?.spec.queue.maxLength, 0);
    assert.deepEqual(invalid, []);
  });

  it("an enabled k8sTicket Deployment with a bad annotation is reported by the annotation's path; Deployments without the label are not apps", () => {
    const plain = stripDeployment({ metadata: { name: "plain", namespace: "shop" }, spec: { selector: { matchLabels: { app: "plain" } } } }) as CachedDeployment;
    const { apps, invalid } = readClusterApps([], [plain, k8sTicket("c-deploy", "c", "true", { "ipb-halle.de/k8sticket.deployment.maxPods": "zero" })]);
    assert.equal(apps.size, 0);
    assert.deepEqual(invalid.map((i) => i.errors.map((e) => e.path)), [['metadata.annotations["ipb-halle.de/k8sticket.deployment.maxPods"]']]);
  });
});
