/**
 * What the deploy tests read: each kustomization the README applies,
 * rendered by the real `kubectl kustomize`, and Istio's published CRD
 * schemas (test/fixtures/istio-crds.yaml).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ROOT } from "../e2e/serve-process.js";
import { KUBECTL } from "../support/kube-api/kubectl.js";
import type { Schema } from "../support/openapi-schema.js";

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly data?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** The kustomizations a user applies, in install order; `istio/helm-gateway` replaces `istio` for the Helm chart's gateway. */
export const KUSTOMIZATIONS = ["deploy", "envoy", "istio", "istio/helm-gateway", "examples/kubernetes"] as const;
export type Kustomization = (typeof KUSTOMIZATIONS)[number];

const rendered = new Map<string, Manifest[]>();

/** The objects `kubectl kustomize DIR` prints (cached per run). Throws with kubectl's stderr when it fails. */
export function render(dir: Kustomization): Manifest[] {
  const cached = rendered.get(dir);
  if (cached !== undefined) return cached;
  const r = spawnSync(KUBECTL, ["kustomize", join(ROOT, dir)], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest).filter((d) => d !== null);
  rendered.set(dir, docs);
  return docs;
}

/** Every object a full install with the istioctl gateway applies. */
export function installed(): Manifest[] {
  return (["deploy", "envoy", "istio", "examples/kubernetes"] as const).flatMap((d) => render(d));
}

export const ref = (m: Pick<Manifest, "kind" | "metadata">): string => `${m.kind} ${m.metadata.namespace ?? ""}/${m.metadata.name}`;

/** The openAPIV3Schema of each Istio kind (`group/version/Kind`) in the fixture. */
export function istioSchemas(): Map<string, Schema> {
  const text = readFileSync(join(ROOT, "test/fixtures/istio-crds.yaml"), "utf8");
  const out = new Map<string, Schema>();
  for (const doc of parseAllDocuments(text)) {
    const crd = doc.toJS() as { spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
    for (const v of crd.spec.versions) out.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, v.schema.openAPIV3Schema);
  }
  return out;
}

export const isIstio = (m: Manifest): boolean => /\.istio\.io\//.test(m.apiVersion);
