import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { formatFileErrors, validateDocumentText } from "./validate.js";

const SECRET = Buffer.from("a-secret-that-must-never-be-printed").toString("base64");
const SHORT = Buffer.from("too-short-a-secret").toString("base64");

/** The lines `validate` prints for `text`; none may hold `secret`. */
function linesWithout(secret: string, text: string): string[] {
  const lines = formatFileErrors("f.yaml", validateDocumentText(text, "f.yaml"));
  for (const line of lines) assert.ok(!line.includes(secret), line);
  return lines;
}

describe("validateDocumentText", () => {
  it("accepts a valid config file, TicketedApp, Deployment and stream", () => {
    assert.deepEqual(validateDocumentText("apps:\n  - { name: a }\n", "c.yaml"), []);
    assert.deepEqual(validateDocumentText("apiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\nmetadata: { name: a }\n", "t.yaml"), []);
    const dep = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d, labels: { k8sTicket: "true" }, annotations: { ipb-halle.de/k8sticket.deployment.app: d } }\nspec: { template: { metadata: { labels: { ipb-halle.de/k8sticket.deployment.app: d } } } }\n';
    assert.deepEqual(validateDocumentText(dep, "d.yaml"), []);
    assert.deepEqual(validateDocumentText(`${dep}---\napiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\nmetadata: { name: a }\n`, "s.yaml"), []);
  });

  it("reads a file whose apps have run as a local mode file: examples/local.yaml is valid, pods there are refused", () => {
    const example = new URL("../../examples/local.yaml", import.meta.url);
    assert.deepEqual(validateDocumentText(readFileSync(example, "utf8"), "local.yaml"), []);
    const lines = formatFileErrors("l.yaml", validateDocumentText("apps:\n  - { name: a, run: { command: node, shell: sh }, pods: [] }\n", "l.yaml"));
    assert.deepEqual(lines.map((l) => l.split(":").slice(0, 2).join(":")).sort(), ["l.yaml: apps[0].pods", "l.yaml: apps[0].run.shell"]);
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

  it("validates a keys document as a keys file: the shipped example is valid", () => {
    assert.deepEqual(validateDocumentText(readFileSync(new URL("../../examples/keys.yaml", import.meta.url), "utf8"), "keys.yaml"), []);
    assert.deepEqual(linesWithout(SHORT, `active: k1\nkeys:\n  - { id: k1, secret: "${SHORT}" }\n`), ['f.yaml: keys[0].secret: "<redacted, 24 bytes>" — must decode to at least 32 bytes (decodes to 18)']);
    assert.deepEqual(linesWithout(SECRET, `activ: k1\nkeys:\n  - { id: k1, secret: "${SECRET}", alg: hs256 }\n`), [
      'f.yaml: activ: "k1" — unknown field (did you mean "active"?)',
      'f.yaml: keys[0].alg: "<redacted, 5 bytes>" — unknown field',
      'f.yaml: active: undefined — is required',
    ]);
  });

  it("never prints a secret: keys listed in a config file, YAML errors, TicketedApp and Deployment fields", () => {
    const listed = linesWithout(SECRET, `listen: { admin: "127.0.0.1:0" }\nkeys:\n  - { id: k1, secret: "${SECRET}" }\n`);
    assert.deepEqual(listed, ['f.yaml: keys: [{"id":"k1","secret":"<redacted, 48 bytes>"}] — must be a mapping, not a list']);
    assert.equal(linesWithout(SECRET, `active: k1\nkeys:\n  - { id: k1, secret: "${SECRET}" ]\n`).length > 0, true);
    assert.equal(linesWithout(SECRET, `active: k1\nkeys:\n  - id: k1\n    secret: >\n      ${SECRET}\n     bad: [\n`).length > 0, true);
    const app = `apiVersion: ticketplane.dev/v1alpha1\nkind: TicketedApp\nmetadata: { name: a }\nspec: { secret: "${SECRET}", ticket: { cookieSecret: "${SECRET}" } }\n`;
    assert.equal(linesWithout(SECRET, app).length, 2);
    const dep = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: { k8sTicket: "true", secret: 123456789 }\n  annotations: { ipb-halle.de/k8sticket.deployment.app: d, ipb-halle.de/k8sticket.deployment.secret: "${SECRET}" }\nspec: { template: { metadata: { labels: { ipb-halle.de/k8sticket.deployment.app: d } } } }\n`;
    assert.equal(linesWithout(SECRET, dep).length, 2);
    assert.ok(!linesWithout("123456789", dep).some((l) => l.includes("123456789")));
  });
});
