import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatFileErrors, validateDocumentText } from "./validate.js";

describe("validateDocumentText", () => {
  it("accepts a valid config file, TicketedApp, Deployment and stream", () => {
    assert.deepEqual(validateDocumentText("apps:\n  - { name: a }\n", "c.yaml"), []);
    assert.deepEqual(validateDocumentText("apiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\nmetadata: { name: a }\n", "t.yaml"), []);
    const dep = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d, labels: { k8sTicket: "true" }, annotations: { ipb-halle.de/k8sticket.deployment.app: d } }\nspec: { template: { metadata: { labels: { ipb-halle.de/k8sticket.deployment.app: d } } } }\n';
    assert.deepEqual(validateDocumentText(dep, "d.yaml"), []);
    assert.deepEqual(validateDocumentText(`${dep}---\napiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\nmetadata: { name: a }\n`, "s.yaml"), []);
  });

  it("prints FILE: path: value — rule lines", () => {
    const lines = formatFileErrors("apps.yaml", validateDocumentText("apps:\n  - { name: a, ticketsPerPod: 0, maxPod: 2 }\n", "apps.yaml"));
    assert.deepEqual(lines, ['apps.yaml: apps[0].maxPod: 2 — unknown field (did you mean "maxPods"?)', "apps.yaml: apps[0].ticketsPerPod: 0 — must be an integer ≥ 1"]);
  });

  it("prints whole-file errors without a path, and YAML errors with line and column", () => {
    assert.deepEqual(formatFileErrors("e.yaml", validateDocumentText("", "e.yaml")), ['e.yaml: "" — must not be empty (a config document, or TicketedApp/Deployment documents)']);
    const [line] = formatFileErrors("y.yaml", validateDocumentText("a: [\n", "y.yaml"));
    assert.match(line ?? "", /^y\.yaml: line \d+, column \d+: .* — YAML /);
  });
});
