/**
 * deploy/crds/ticketedapp.yaml against the field reader. It is generated
 * (npm run gen:crd); these tests fail when the reader and the CRD disagree:
 * the file is stale, a field is missing or extra, a default or bound differs,
 * or a sample object is accepted by one and refused by the other. The checks
 * read the reader's tables directly, not through the generator.
 */
import type { AppStatus } from "../../src/reconcile/status.js";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { SECTION_FIELDS } from "../../src/config/app-fields.js";
import { COUNT_BOUNDS, DURATION_BOUNDS } from "../../src/config/bounds.js";
import { parseTicketedApp, TICKETED_APP_SPEC_FIELDS } from "../../src/config/ticketed-app.js";
import { renderCrdYaml } from "../../scripts/crd/render.js";
import { FIELD_TYPES, buildTicketedAppCrd, docRules, fieldSchema } from "../../scripts/crd/ticketed-app-crd.js";
import { ROOT } from "../e2e/serve-process.js";
import { KINDS } from "../support/kube-api/kinds.js";
import { applyDefaults, structuralProblems, validate, type Schema } from "../support/openapi-schema.js";

const CRD_FILE = join(ROOT, "deploy/crds/ticketedapp.yaml");
const CONFIG_MD = readFileSync(join(ROOT, "docs/config.md"), "utf8");
const text = readFileSync(CRD_FILE, "utf8");
const crd = parse(text) as { spec: { names: Record<string, unknown>; versions: { name: string; subresources: Record<string, unknown>; additionalPrinterColumns: { name: string; jsonPath: string }[]; schema: { openAPIV3Schema: Schema } }[] } };
const version = crd.spec.versions[0];
if (version === undefined) throw new Error("the CRD has no version");
const root = version.schema.openAPIV3Schema;
const properties = (s: Schema): Record<string, Schema> => (s.properties ?? {}) as Record<string, Schema>;
const spec = properties(root).spec ?? {};

function object(specValue: unknown): Record<string, unknown> {
  return { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: "nb", namespace: "team-a" }, spec: specValue };
}

/** What the API server says (defaults, then strict validation) and what the reader says. */
function verdicts(specValue: unknown): { schema: string[]; reader: string[] } {
  const defaulted = applyDefaults(root, object(specValue));
  const schema = validate(root, defaulted).map((e) => `${e.path}: ${e.message}`);
  const parsed = parseTicketedApp(object(specValue));
  return { schema, reader: parsed.ok ? [] : parsed.errors.map((e) => `${e.path}: ${e.rule}`) };
}

describe("deploy/crds/ticketedapp.yaml", () => {
  it("is what npm run gen:crd writes now (regenerate after changing the reader or docs/config.md)", () => {
    assert.equal(text, renderCrdYaml(CONFIG_MD), "deploy/crds/ticketedapp.yaml is stale: run npm run gen:crd");
  });

  it("is a structural schema", () => {
    assert.deepEqual(structuralProblems(root), []);
    assert.equal(root.type, "object");
  });

  it("has every field the reader reads, and no other", () => {
    assert.deepEqual(Object.keys(properties(spec)).sort(), [...TICKETED_APP_SPEC_FIELDS].sort());
    for (const [section, fields] of Object.entries(SECTION_FIELDS)) {
      if (!TICKETED_APP_SPEC_FIELDS.includes(section)) continue;
      const s = properties(spec)[section] ?? {};
      assert.equal(s.type, "object", section);
      assert.deepEqual(Object.keys(properties(s)).sort(), [...fields].sort(), `spec.${section}`);
    }
  });

  it("a field the reader gains fails the CRD's build, naming it", () => {
    // A field added to the reader (and documented) without a type here stops the generator.
    const rules = new Map(docRules(CONFIG_MD)).set("scaling.window", "a field the reader might gain");
    assert.equal(FIELD_TYPES["scaling.window"], undefined);
    assert.throws(() => fieldSchema("scaling.window", rules), /no schema for spec\.scaling\.window: the field reader has it; add it to FIELD_TYPES/);
    const missingRow = CONFIG_MD.replace(/^\| `spareTickets` .*\n/m, "");
    assert.throws(() => buildTicketedAppCrd(missingRow), /docs\/config\.md's App fields table has no row for spareTickets/);
  });

  it("states each count's and duration's bound as the reader has it", () => {
    const leaf = (dotted: string): Schema => dotted.split(".").reduce<Schema>((s, k) => properties(s)[k] ?? {}, spec);
    for (const [field, bound] of Object.entries(COUNT_BOUNDS)) {
      if (field.startsWith("clientAddress.")) continue; // a config-file setting, not an app field
      assert.equal(leaf(field).maximum, bound.value, field);
    }
    for (const [field, bound] of Object.entries(DURATION_BOUNDS)) {
      if (field.startsWith("gateway.")) continue; // a config-file setting
      assert.equal(leaf(field)["x-kubernetes-int-or-string"], true, field);
      assert.equal(leaf(field).maximum, Math.floor(bound.value / 1000), field);
    }
  });

  it("defaults to what the reader defaults to: an empty spec and the defaulted one read the same", () => {
    const defaulted = applyDefaults(root, object({})) as { spec: Record<string, unknown> };
    assert.ok(Object.keys(defaulted.spec).length > 10, JSON.stringify(defaulted.spec));
    const bare = parseTicketedApp(object({}));
    const filled = parseTicketedApp(defaulted);
    assert.ok(bare.ok && filled.ok, JSON.stringify([bare, filled]));
    assert.deepEqual(filled.value, bare.value);
  });

  it("names, short name, categories, status subresource and printer columns", () => {
    const kind = KINDS.find((k) => k.kind === "TicketedApp");
    assert.deepEqual(
      { plural: crd.spec.names.plural, shortNames: crd.spec.names.shortNames, categories: crd.spec.names.categories },
      { plural: kind?.plural, shortNames: kind?.shortNames, categories: kind?.categories },
      "the test API server serves TicketedApps under the same names",
    );
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(version.additionalPrinterColumns.map((c) => c.name), ["Pods", "Used", "Free", "Queue", "Mode", "Age"]);
    const status = properties(root).status ?? {};
    for (const c of version.additionalPrinterColumns) {
      const [, top, field] = c.jsonPath.split(".");
      if (top === "status") assert.ok(properties(status)[field ?? ""] !== undefined, `${c.jsonPath} is in the status schema`);
    }
  });

  it("accepts a status as the reconciler writes it, and refuses a mistyped one", () => {
    // Every field of AppStatus, typed by the compiler: a field the reconciler gains fails here until the CRD has it.
    const written: Required<AppStatus> = {
      pods: 2, readyPods: 2, usedSlots: 3, freeSlots: 1, queueLength: 0, mode: "Serve", policy: "tickets", desiredPods: 2, replicasOwner: "ticketplane",
      lastScale: { time: "2026-12-01T17:00:00Z", deployment: "nb", from: 1, to: 2, reason: "free slots 0 < spareTickets 1" },
      conditions: [{ type: "Ready", status: "True", reason: "Serving", message: "", lastTransitionTime: "2026-12-01T17:00:00Z" }],
    };
    const status = { ...written, observedGeneration: 3 };
    assert.deepEqual(validate(root, { ...object({}), status }), []);
    assert.deepEqual(validate(root, { ...object({}), status: { ...written, somethingElse: 1 } }).map((e) => e.path), ["status.somethingElse"]);
    assert.deepEqual(validate(root, { ...object({}), status: { pods: "2", conditions: [{ type: "Ready", status: "Yes" }] } }).map((e) => e.path), ["status.pods", "status.conditions[0].status"]);
  });
});

describe("the CRD and parseTicketedApp agree on sample objects", () => {
  const both: readonly [string, unknown][] = [
    ["an empty spec", {}],
    [
      "every field",
      {
        deployment: "nb", service: "nb-pods", port: 8888, path: "/lab", pathPrefix: "/nb/", host: "NB.example.com", gateway: "edge",
        ticketsPerPod: 3, minPods: 1, maxPods: 10, spareTickets: 2, podCooldown: "30s",
        ticket: { probation: "5s", idleTimeout: "10m", maxLifetime: "8h", connectionTimeout: "90s", cookieName: "nb", queueCookieName: "nb-q", cookieSecure: false },
        queue: { maxLength: 0, retryAfter: "2s", reservation: "0s" },
        limits: { ticketsPerClient: 0, queuePerClient: 100000 },
        drainTimeout: "1h", scaleUp: { pods: 2, period: "30s", stabilizationWindow: 0 }, scaleDown: { pods: 1, period: "1m", stabilizationWindow: "5m" },
        canary: { deployment: "nb-next", weight: 0 }, resolver: { holdTimeout: "1h" },
      },
    ],
    ["durations as whole seconds and as strings", { podCooldown: 45, drainTimeout: "1h30m", ticket: { idleTimeout: "1.5h", probation: "250ms" } }],
    ["a wildcard host, an IPv4 host, the root prefix", { host: "*.apps.example.org", pathPrefix: "/" }],
    ["an IPv4 host", { host: "10.1.2.3" }],
    ["the formula policy with a fractional target", { scaling: { policy: "formula", metric: "requestsPerSecond", target: 2.5, increaseCooldown: "1m", decreaseCooldown: 300 } }],
    ["the hpa policy with its tolerance", { scaling: { policy: "hpa", metric: "connections", target: 4, tolerance: 0.2 } }],
    ["the largest bounds", { ticketsPerPod: 1000, maxPods: 10000, minPods: 10000, podCooldown: 2592000, ticket: { maxLifetime: "8760h" } }],
  ];
  for (const [what, s] of both) {
    it(`both accept ${what}`, () => assert.deepEqual(verdicts(s), { schema: [], reader: [] }));
  }

  const refused: readonly [string, unknown][] = [
    ["ticketsPerPod 0", { ticketsPerPod: 0 }],
    ["ticketsPerPod over its bound", { ticketsPerPod: 1001 }],
    ["a number written as a string", { ticketsPerPod: "2" }],
    ["a fractional count", { spareTickets: 1.5 }],
    ["maxPods 0", { maxPods: 0 }],
    ["maxPods over its bound", { maxPods: 10001 }],
    ["port 0", { port: 0 }],
    ["port 65536", { port: 65536 }],
    ["an unknown field", { replicas: 3 }],
    ["an unknown field in a section", { ticket: { idle: "1m" } }],
    ["a section that is not a mapping", { queue: "long" }],
    ["an upper-case Deployment", { deployment: "Notebook" }],
    ["a Service with a dot", { service: "nb.pods" }],
    ["a pathPrefix without the trailing slash", { pathPrefix: "/nb" }],
    ["a pathPrefix without the leading slash", { pathPrefix: "nb/" }],
    ["a relative path", { path: "lab" }],
    ["a path with a query", { path: "/lab?x=1" }],
    ["a cookie name with a space", { ticket: { cookieName: "my cookie" } }],
    ["cookieSecure as a string", { ticket: { cookieSecure: "yes" } }],
    ["a duration in words", { podCooldown: "ten minutes" }],
    ["a negative duration", { podCooldown: -1 }],
    ["a negative duration string", { drainTimeout: "-5s" }],
    ["a duration in seconds over its bound", { podCooldown: 2592001 }],
    ["a zero idle timeout in seconds", { ticket: { idleTimeout: 0 } }],
    ["a connection timeout in seconds below its floor", { ticket: { connectionTimeout: 4 } }],
    ["a canary without weight", { canary: { deployment: "nb-next" } }],
    ["a canary weight over 100", { canary: { deployment: "nb-next", weight: 101 } }],
    ["a host with a space", { host: "nb example.com" }],
    ["a gateway with an upper-case letter", { gateway: "Edge" }],
    ["an unknown scaling policy", { scaling: { policy: "random" } }],
    ["an unknown metric", { scaling: { policy: "formula", metric: "cpu" } }],
    ["a zero target", { scaling: { policy: "formula", target: 0 } }],
    ["a tolerance over 1", { scaling: { policy: "hpa", tolerance: 1.5 } }],
  ];
  for (const [what, s] of refused) {
    it(`both refuse ${what}`, () => {
      const v = verdicts(s);
      assert.notDeepEqual(v.schema, [], `the CRD accepts ${JSON.stringify(s)}`);
      assert.notDeepEqual(v.reader, [], `the reader accepts ${JSON.stringify(s)}`);
    });
  }

  // What a structural schema cannot say: ticketplane refuses these and reports them (Warning Event, status condition naming the field).
  const readerOnly: readonly [string, unknown][] = [
    ["minPods over maxPods (across fields)", { minPods: 3, maxPods: 2 }],
    ["probation longer than the idle timeout (across fields)", { ticket: { probation: "2m", idleTimeout: "1m" } }],
    ["one name for both cookies (across fields)", { ticket: { cookieName: "same", queueCookieName: "same" } }],
    ["a canary on the app's own Deployment (across fields)", { deployment: "nb", canary: { deployment: "nb", weight: 5 } }],
    ["a duration string over its bound", { podCooldown: "721h" }],
    ["a zero duration string where it must be positive", { ticket: { idleTimeout: "0s" } }],
    ["a duration string below its floor", { ticket: { connectionTimeout: "4s" } }],
    ["a Deployment label longer than 63 characters", { deployment: `${"a".repeat(64)}.b` }],
    ["a host whose last label is all digits", { host: "300.1.1.1" }],
    ["a target under the tickets policy (across fields)", { scaling: { target: 5 } }],
    ["a tolerance under the formula policy (across fields)", { scaling: { policy: "formula", tolerance: 0.1 } }],
  ];
  for (const [what, s] of readerOnly) {
    it(`the reader alone refuses ${what}`, () => {
      const v = verdicts(s);
      assert.deepEqual(v.schema, [], "the CRD now refuses it too: move the sample to the refused list");
      assert.notDeepEqual(v.reader, []);
    });
  }

  it("the CRD alone refuses a fractional number of seconds (the API server has no number-or-string; write \"1.5s\")", () => {
    const v = verdicts({ podCooldown: 1.5 });
    assert.notDeepEqual(v.schema, []);
    assert.deepEqual(v.reader, []);
  });
});
