/**
 * Every manifest a user applies parses and validates strictly: built-in
 * kinds against client-node's API types, Istio kinds against Istio's
 * published CRD schemas, TicketedApps against our CRD and our parser, and
 * every Envoy config an EnvoyFilter patches in against Envoy's protos — each
 * with unknown fields rejected. Each checker is shown to fail on a mistake.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { readAppDocument } from "../../src/config/app-documents.js";
import { ROOT } from "../e2e/serve-process.js";
import { validateEnvoyConfig } from "../support/envoy-config.js";
import { isBuiltInKind, validateKubeObject } from "../support/kube-schema.js";
import { applyDefaults, validate, type Schema } from "../support/openapi-schema.js";
import { installed, isIstio, istioSchemas, KUSTOMIZATIONS, ref, render, type Manifest } from "./manifests.js";

const HTTP_FILTER = "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter";
const schemas = istioSchemas();
const ticketedAppSchema = (parse(readFileSync(join(ROOT, "deploy/crds/ticketedapp.yaml"), "utf8")) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }).spec.versions[0]?.schema.openAPIV3Schema;

function istioProblems(m: Manifest): string[] {
  const schema = schemas.get(`${m.apiVersion}/${m.kind}`);
  if (schema === undefined) return [`${ref(m)}: ${m.apiVersion} ${m.kind} is not in test/fixtures/istio-crds.yaml`];
  const spec = (schema.properties as Record<string, Schema>).spec;
  assert.ok(spec !== undefined);
  return validate(spec, m.spec).map((e) => `${ref(m)}: spec.${e.path}: ${e.message}`);
}

function ticketedAppProblems(m: Manifest): string[] {
  assert.ok(ticketedAppSchema !== undefined);
  const schema = validate(ticketedAppSchema, applyDefaults(ticketedAppSchema, m)).map((e) => `${ref(m)}: ${e.path}: ${e.message}`);
  const read = readAppDocument(m);
  return [...schema, ...(read.kind === "app" ? [] : [`${ref(m)}: ticketplane reads it as ${JSON.stringify(read)}`])];
}

function problems(m: Manifest): string[] {
  if (m.kind === "TicketedApp") return ticketedAppProblems(m);
  if (isIstio(m)) return istioProblems(m);
  if (isBuiltInKind(m.apiVersion, m.kind)) return validateKubeObject(m).map((p) => `${ref(m)}: ${p}`);
  return [`${ref(m)}: no checker for ${m.apiVersion} ${m.kind}`];
}

/** Every YAML file under the applied folders (envoy/standalone.yaml and bootstraps are Envoy's, not Kubernetes objects). */
function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && e.name !== "kustomization.yaml")
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

describe("manifests validate strictly", () => {
  for (const dir of KUSTOMIZATIONS) {
    it(`kubectl kustomize ${dir}: every object passes its schema with no unknown field`, () => {
      const objects = render(dir);
      assert.ok(objects.length > 0);
      assert.deepEqual(objects.flatMap(problems), []);
    });
  }

  it("every manifest file is applied by a kustomization (none is left out of the install)", () => {
    const applied = new Set(installed().map(ref));
    const files = ["deploy", "istio/base", "examples/kubernetes"].flatMap(yamlFiles).concat(["envoy/ticket-gateway.yaml"]);
    for (const file of files) {
      const docs = readFileSync(join(ROOT, file), "utf8").split(/^---$/m).map((d) => parse(d) as Manifest | null).filter((d): d is Manifest => d !== null);
      for (const d of docs) assert.ok(applied.has(ref(d)), `${file}: ${ref(d)} is in no kustomization`);
    }
  });

  it("every EnvoyFilter patch value passes Envoy's protos with no unknown field", () => {
    const filters = [...render("istio"), ...render("istio/helm-gateway")].filter((m) => m.kind === "EnvoyFilter");
    assert.equal(filters.length, 2);
    for (const f of filters) {
      for (const [i, p] of (f.spec?.configPatches as { applyTo: string; patch: { value: unknown } }[]).entries()) {
        assert.equal(p.applyTo, "HTTP_FILTER", `${ref(f)} patch ${i}: only HTTP filters are checked here`);
        assert.deepEqual(validateEnvoyConfig(HTTP_FILTER, p.patch.value), [], `${ref(f)} patch ${i}`);
      }
    }
  });

  describe("each checker fails on a mistake (the tests above can fail)", () => {
    const find = (kind: string): Manifest => {
      const m = installed().find((x) => x.kind === kind);
      assert.ok(m !== undefined, kind);
      return structuredClone(m);
    };
    it("a misspelt container field in the Deployment", () => {
      const d = find("Deployment") as Manifest & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      (d.spec.template.spec.containers[0]).readinesProbe = {};
      assert.match(problems(d).join("\n"), /spec\.template\.spec\.containers\[0\]\.readinesProbe: unknown field/);
    });
    it("a wrong type in a Service port", () => {
      const s = find("Service") as Manifest & { spec: { ports: Record<string, unknown>[] } };
      (s.spec.ports[0]).port = "9001";
      assert.match(problems(s).join("\n"), /spec\.ports\[0\]\.port: must be a number/);
    });
    it("an unknown field and a bad enum in Istio objects", () => {
      const ap = find("AuthorizationPolicy") as Manifest & { spec: Record<string, unknown> };
      ap.spec.actions = "ALLOW";
      assert.match(problems(ap).join("\n"), /spec\.actions: unknown field/);
      const pa = find("PeerAuthentication") as Manifest & { spec: { mtls: Record<string, unknown> } };
      pa.spec.mtls.mode = "STRICTLY";
      assert.match(problems(pa).join("\n"), /spec\.mtls\.mode: must be one of/);
    });
    it("a TicketedApp field our CRD does not have", () => {
      const t = find("TicketedApp") as Manifest & { spec: Record<string, unknown> };
      t.spec.ticketPerPod = 1;
      assert.match(problems(t).join("\n"), /spec\.ticketPerPod: unknown field/);
    });
  });
});
