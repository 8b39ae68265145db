/** The three sources say the same thing → the same AppSpec (modulo `source`). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppSpec } from "./app-spec.js";
import { parseConfigFile } from "./config-file.js";
import { parseK8sTicketDeployment } from "./k8sticket.js";
import { parseTicketedApp } from "./ticketed-app.js";
import { parseYamlDocuments } from "./yaml-documents.js";

function withoutSource(spec: AppSpec): Omit<AppSpec, "source"> {
  const { source: _source, ...rest } = spec;
  return rest;
}

function firstDoc(text: string): unknown {
  const r = parseYamlDocuments(text);
  assert.ok(r.ok);
  return r.documents[0];
}

describe("three sources, one AppSpec", () => {
  const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gmweb
  namespace: lab
  labels: { k8sTicket: "true" }
  annotations:
    ipb-halle.de/k8sticket.deployment.app: gmweb
    ipb-halle.de/k8sticket.deployment.maxPods: "4"
    ipb-halle.de/k8sticket.deployment.maxTickets: "3"
    ipb-halle.de/k8sticket.deployment.Podcooldown: "30"
    ipb-halle.de/k8sticket.deployment.spareTickets: "2"
spec:
  replicas: 1
  template:
    metadata:
      labels: { ipb-halle.de/k8sticket.deployment.app: gmweb }
      annotations: { ipb-halle.de/k8sTicket.port: "3838", ipb-halle.de/k8sTicket.path: /gmweb/ }
`;
  const ticketedApp = `
apiVersion: ticketplane.dev/v1alpha1
kind: TicketedApp
metadata: { name: gmweb, namespace: lab }
spec:
  deployment: gmweb
  port: 3838
  path: /gmweb/
  pathPrefix: /gmweb/
  ticketsPerPod: 3
  minPods: 1
  maxPods: 4
  spareTickets: 2
  podCooldown: 30s
`;
  const configFile = `
apps:
  - name: gmweb
    namespace: lab
    deployment: gmweb
    port: 3838
    path: /gmweb/
    ticketsPerPod: 3
    minPods: 1
    maxPods: 4
    spareTickets: 2
    podCooldown: 30
`;

  it("parse to equal AppSpecs", () => {
    const k = parseK8sTicketDeployment(firstDoc(deployment));
    const t = parseTicketedApp(firstDoc(ticketedApp));
    const f = parseConfigFile(configFile, "c.yaml");
    assert.ok(k.ok && k.value !== null && t.ok && f.ok, JSON.stringify([k, t, f]));
    const [fileApp] = f.value.apps;
    assert.ok(fileApp);
    assert.deepEqual([k.value.source, t.value.source, fileApp.source], ["k8sTicket", "TicketedApp", "file"]);
    assert.deepEqual(withoutSource(k.value), withoutSource(t.value));
    assert.deepEqual(withoutSource(t.value), withoutSource(fileApp));
  });
});
