import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppSpec, SpecError } from "./app-spec.js";
import { DEFAULTS } from "./app-spec.js";
import { COUNT_BOUNDS, DURATION_BOUNDS, countBoundText, durationBoundText } from "./bounds.js";
import { parseK8sTicketDeployment } from "./k8sticket.js";

const A = "ipb-halle.de/k8sticket.deployment.";

/** A Deployment as k8sTicket's docs show it. */
function deployment(opts: { label?: string | null; annotations?: Record<string, unknown>; podLabels?: Record<string, unknown>; podAnnotations?: Record<string, unknown>; replicas?: number; namespace?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "gmweb",
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      labels: opts.label === null ? { app: "gmweb" } : { app: "gmweb", k8sTicket: opts.label ?? "true" },
      annotations: { [`${A}app`]: "gmweb", ...opts.annotations },
    },
    spec: {
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      template: {
        metadata: { labels: { "ipb-halle.de/k8sticket.deployment.app": "gmweb", ...opts.podLabels }, annotations: { ...opts.podAnnotations } },
        spec: { containers: [{ name: "gmweb", image: "x" }] },
      },
    },
  };
}

function spec(d: Record<string, unknown>): AppSpec {
  const r = parseK8sTicketDeployment(d);
  assert.ok(r.ok && r.value !== null, JSON.stringify(r));
  return r.value;
}

function errors(d: Record<string, unknown>): readonly SpecError[] {
  const r = parseK8sTicketDeployment(d);
  assert.ok(!r.ok, JSON.stringify(r));
  return r.errors;
}

describe("parseK8sTicketDeployment: defaults as k8sTicket documents them", () => {
  const s = spec(deployment());
  const table: [string, unknown, unknown][] = [
    ["source", s.source, "k8sTicket"],
    ["name from the app annotation", s.name, "gmweb"],
    ["namespace default", s.namespace, "default"],
    ["deployment from metadata.name", s.deployment, "gmweb"],
    ["pathPrefix /<app>/", s.pathPrefix, "/gmweb/"],
    ["maxPods 1", s.maxPods, 1],
    ["maxTickets → ticketsPerPod 1", s.ticketsPerPod, 1],
    ["Podcooldown 10 s", s.podCooldownMs, 10_000],
    ["pod port 80", s.podPort, 80],
    ["pod path /", s.podPath, "/"],
    ["spareTickets 2 (k8sTicket's code default)", s.spareTickets, 2],
    ["minPods = replicas (1) capped at maxPods", s.minPods, 1],
    ["no legacy proxy port unless annotated", s.legacyProxyPort, undefined],
    ["ticket settings are ticketplane's", s.ticket, DEFAULTS.ticket],
    ["per-client limits are ticketplane's (no annotation sets them)", s.limits, DEFAULTS.limits],
    ["queue settings are ticketplane's", s.queue, DEFAULTS.queue],
  ];
  for (const [title, actual, expected] of table) it(title, () => assert.deepEqual(actual, expected));
});

describe("parseK8sTicketDeployment: annotations", () => {
  it("reads every documented annotation, with its exact casing", () => {
    const s = spec(
      deployment({
        namespace: "lab",
        replicas: 0,
        annotations: { [`${A}maxPods`]: "5", [`${A}maxTickets`]: "3", [`${A}port`]: "9001", [`${A}Podcooldown`]: "30", [`${A}spareTickets`]: "4" },
        podAnnotations: { "ipb-halle.de/k8sTicket.port": "3838", "ipb-halle.de/k8sTicket.path": "/gmweb" },
      }),
    );
    assert.deepEqual(
      [s.namespace, s.maxPods, s.ticketsPerPod, s.legacyProxyPort, s.podCooldownMs, s.spareTickets, s.podPort, s.podPath, s.minPods],
      ["lab", 5, 3, 9001, 30_000, 4, 3838, "/gmweb", 0],
    );
  });

  it("caps minPods (from replicas) at maxPods", () => {
    assert.equal(spec(deployment({ replicas: 3, annotations: { [`${A}maxPods`]: "2" } })).minPods, 2);
  });

  it("accepts a duration string in Podcooldown", () => {
    assert.equal(spec(deployment({ annotations: { [`${A}Podcooldown`]: "2m" } })).podCooldownMs, 120_000);
  });

  const bad: [string, Record<string, unknown>, SpecError][] = [
    ["maxPods an integer ≥ 1", { annotations: { [`${A}maxPods`]: "zero" } }, { path: `metadata.annotations["${A}maxPods"]`, value: "zero", rule: "must be an integer ≥ 1" }],
    ["maxPods ≥ 1", { annotations: { [`${A}maxPods`]: "0" } }, { path: `metadata.annotations["${A}maxPods"]`, value: "0", rule: "must be an integer ≥ 1" }],
    ["maxTickets ≥ 1", { annotations: { [`${A}maxTickets`]: "-1" } }, { path: `metadata.annotations["${A}maxTickets"]`, value: "-1", rule: "must be an integer ≥ 1" }],
    ["port is a port", { annotations: { [`${A}port`]: "99999" } }, { path: `metadata.annotations["${A}port"]`, value: "99999", rule: "must be an integer 1–65535" }],
    ["Podcooldown seconds", { annotations: { [`${A}Podcooldown`]: "-10" } }, { path: `metadata.annotations["${A}Podcooldown"]`, value: "-10", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds, not negative' }],
    ["spareTickets ≥ 0", { annotations: { [`${A}spareTickets`]: "1.5" } }, { path: `metadata.annotations["${A}spareTickets"]`, value: "1.5", rule: "must be an integer ≥ 0" }],
    ["app a DNS label", { annotations: { [`${A}app`]: "GM_Web" }, podLabels: { "ipb-halle.de/k8sticket.deployment.app": "GM_Web" } }, { path: `metadata.annotations["${A}app"]`, value: "GM_Web", rule: "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)" }],
    ["pod port 1–65535", { podAnnotations: { "ipb-halle.de/k8sTicket.port": "0" } }, { path: 'spec.template.metadata.annotations["ipb-halle.de/k8sTicket.port"]', value: "0", rule: "must be an integer 1–65535" }],
    ["pod path starts with /", { podAnnotations: { "ipb-halle.de/k8sTicket.path": "gmweb" } }, { path: 'spec.template.metadata.annotations["ipb-halle.de/k8sTicket.path"]', value: "gmweb", rule: 'must start with "/"' }],
    ["pod label equals the app annotation", { podLabels: { "ipb-halle.de/k8sticket.deployment.app": "other" } }, { path: 'spec.template.metadata.labels["ipb-halle.de/k8sticket.deployment.app"]', value: "other", rule: 'must equal the Deployment annotation ipb-halle.de/k8sticket.deployment.app ("gmweb")' }],
    ["mistyped annotation casing", { annotations: { [`${A}podcooldown`]: "10" } }, { path: `metadata.annotations["${A}podcooldown"]`, value: "10", rule: `unknown k8sTicket annotation (did you mean "${A}Podcooldown"?)` }],
    ["mistyped pod annotation casing", { podAnnotations: { "ipb-halle.de/k8sticket.port": "80" } }, { path: 'spec.template.metadata.annotations["ipb-halle.de/k8sticket.port"]', value: "80", rule: 'unknown k8sTicket annotation (did you mean "ipb-halle.de/k8sTicket.port"?)' }],
    ["annotation values are strings", { annotations: { [`${A}maxPods`]: 3 } }, { path: `metadata.annotations["${A}maxPods"]`, value: 3, rule: 'must be a string (quote it: "3")' }],
  ];
  for (const [title, opts, expected] of bad) it(title, () => assert.deepEqual(errors(deployment(opts)), [expected]));

  it("requires the app annotation", () => {
    const d = deployment();
    const meta = d.metadata as { annotations: Record<string, string> };
    delete meta.annotations[`${A}app`];
    assert.deepEqual(errors(d), [{ path: `metadata.annotations["${A}app"]`, value: undefined, rule: "is required" }]);
  });

  it("reports a missing pod label", () => {
    const e = errors(deployment({ podLabels: { "ipb-halle.de/k8sticket.deployment.app": undefined } }));
    assert.equal(e[0]?.path, 'spec.template.metadata.labels["ipb-halle.de/k8sticket.deployment.app"]');
  });

  it("returns every error at once", () => {
    const e = errors(deployment({ annotations: { [`${A}maxPods`]: "x", [`${A}maxTickets`]: "0" }, podAnnotations: { "ipb-halle.de/k8sTicket.port": "http" } }));
    assert.equal(e.length, 3);
  });

  it("bounds the annotated counts and durations as every source: the bound accepted, just over it refused", () => {
    const at = { [`${A}maxPods`]: "10000", [`${A}maxTickets`]: "1000", [`${A}Podcooldown`]: "2592000", [`${A}spareTickets`]: "100000" };
    const s = spec(deployment({ annotations: at }));
    assert.deepEqual([s.maxPods, s.ticketsPerPod, s.podCooldownMs, s.spareTickets], [10_000, 1000, 2_592_000_000, 100_000]);
    const over = { [`${A}maxPods`]: "10001", [`${A}maxTickets`]: "1001", [`${A}Podcooldown`]: "720h1ms", [`${A}spareTickets`]: "100001" };
    assert.deepEqual(errors(deployment({ annotations: over })), [
      { path: `metadata.annotations["${A}maxPods"]`, value: "10001", rule: `must be ${countBoundText(COUNT_BOUNDS.maxPods)}` },
      { path: `metadata.annotations["${A}maxTickets"]`, value: "1001", rule: `must be ${countBoundText(COUNT_BOUNDS.ticketsPerPod)}` },
      { path: `metadata.annotations["${A}spareTickets"]`, value: "100001", rule: `must be ${countBoundText(COUNT_BOUNDS.spareTickets)}` },
      { path: `metadata.annotations["${A}Podcooldown"]`, value: "720h1ms", rule: `must be ${durationBoundText(DURATION_BOUNDS.podCooldown)}` },
    ]);
  });
});

describe("parseK8sTicketDeployment: the k8sTicket label", () => {
  it('any value other than "true" disables the app (no new users), with its key', () => {
    assert.deepEqual(parseK8sTicketDeployment(deployment({ label: "false", namespace: "lab" })), { ok: true, value: null, reason: "disabled", app: "lab/gmweb" });
    assert.deepEqual(parseK8sTicketDeployment(deployment({ label: "True" })), { ok: true, value: null, reason: "disabled", app: "default/gmweb" });
  });

  it("without the label the Deployment is not k8sTicket's", () => {
    assert.deepEqual(parseK8sTicketDeployment(deployment({ label: null })), { ok: true, value: null, reason: "not-k8sticket" });
  });

  it("rejects what is not a Deployment", () => {
    assert.equal(parseK8sTicketDeployment(null).ok, false);
    const r = parseK8sTicketDeployment({ ...deployment(), kind: "StatefulSet" });
    assert.ok(!r.ok && r.errors[0]?.path === "kind");
  });
});
