/**
 * RBAC for tests: what a request to the API server asks for, what a set of
 * RBAC objects allows, and a recorder that collects every request a run
 * makes to the test API server, so a test can fail on a call the manifest
 * does not allow (and list grants the run never used).
 *
 * Request attributes follow the API server's own reading of a request
 * (k8s.io/apiserver RequestInfoFactory): verb from the method (GET on a
 * collection is list, or watch with `watch=true`; DELETE on a collection is
 * deletecollection), namespace, resource, subresource, name (a list or watch
 * with `fieldSelector=metadata.name=X` names X). Rule matching follows the
 * RBAC authorizer: a Role (or a ClusterRole through a RoleBinding) grants in
 * its binding's namespace; a ClusterRole through a ClusterRoleBinding grants
 * everywhere. Non-resource URLs (`/api`, `/version`, `/openapi/…`) are
 * discovery, which every authenticated client may read (system:discovery);
 * they are reported apart and never denied.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { TEST_CLIENT_USER_AGENT } from "./kube-api/http-client.ts";
import type { KubeApiServer, RequestRecord } from "./kube-api/server.ts";

export interface RequestAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  /** "" for cluster-scoped requests. */
  readonly namespace: string;
  /** "" when the request names no object. */
  readonly name: string;
}

export type ReadRequest = { readonly kind: "resource"; readonly attributes: RequestAttributes } | { readonly kind: "nonResource"; readonly path: string };

const VERB_OF_METHOD: Readonly<Record<string, string>> = { POST: "create", PUT: "update", PATCH: "patch" };

/** What the API server's authorizer is asked about one request. */
export function readRequest(method: string, path: string, query = ""): ReadRequest {
  const api = splitApiPath(path);
  if (api === undefined) return { kind: "nonResource", path };
  const params = new URLSearchParams(query);
  let parts = api.rest;
  const watch = parts[0] === "watch" || params.get("watch") === "true" || params.get("watch") === "1";
  if (parts[0] === "watch") parts = parts.slice(1);
  const namespace = parts[0] === "namespaces" && parts.length > 1 ? (parts[1] ?? "") : "";
  // /namespaces/NS/status and /finalize are the namespace's own subresources, not a resource inside it.
  if (namespace !== "" && parts.length > 2 && parts[2] !== "status" && parts[2] !== "finalize") parts = parts.slice(2);
  const [resource = "", name = "", subresource = ""] = parts;
  const selected = /(?:^|,)metadata\.name=([^,]+)/.exec(params.get("fieldSelector") ?? "")?.[1] ?? "";
  return { kind: "resource", attributes: { verb: verbOf(method, name !== "", watch), group: api.group, resource, subresource, namespace, name: name !== "" ? name : selected } };
}

/** `/api/v1/…` (core) or `/apis/GROUP/VERSION/…`: the group and what follows the version; undefined for other paths. */
function splitApiPath(path: string): { group: string; rest: string[] } | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts[0] === "api" && parts.length >= 3) return { group: "", rest: parts.slice(2) };
  if (parts[0] === "apis" && parts.length >= 4) return { group: parts[1] ?? "", rest: parts.slice(3) };
  return undefined;
}

function verbOf(method: string, named: boolean, watch: boolean): string {
  if (method === "GET" || method === "HEAD") return watch ? "watch" : named ? "get" : "list";
  if (method === "DELETE") return named ? "delete" : "deletecollection";
  return VERB_OF_METHOD[method] ?? method.toLowerCase();
}

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** A rule as it applies to one subject: everywhere, or in one namespace. */
export interface GrantedRule extends PolicyRule {
  /** undefined: every namespace and cluster-scoped resources. */
  readonly namespace: string | undefined;
  /** Where it comes from, for messages: "ClusterRole/ticketplane". */
  readonly from: string;
}

export interface Subject {
  readonly namespace: string;
  readonly name: string;
}

interface RbacObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly rules?: readonly PolicyRule[];
  readonly roleRef?: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}

/** The RBAC objects of a manifest (YAML, several documents). */
export class RbacPolicy {
  readonly objects: readonly RbacObject[];

  constructor(yamlText: string) {
    this.objects = parseAllDocuments(yamlText)
      .map((d) => d.toJS() as RbacObject | null)
      .filter((o): o is RbacObject => o !== null);
  }

  /** Every rule bound to the ServiceAccount `subject`, with where it applies. Throws on a binding to a role the manifest lacks. */
  rulesFor(subject: Subject): GrantedRule[] {
    const out: GrantedRule[] = [];
    for (const b of this.objects.filter((o) => o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")) {
      const bound = (b.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === subject.name && s.namespace === subject.namespace);
      if (!bound || b.roleRef === undefined) continue;
      const role = this.objects.find((o) => o.kind === b.roleRef?.kind && o.metadata.name === b.roleRef.name && (o.kind === "ClusterRole" || o.metadata.namespace === b.metadata.namespace));
      if (role === undefined) throw new Error(`${b.kind}/${b.metadata.name} binds ${b.roleRef.kind}/${b.roleRef.name}, which the manifest lacks`);
      const namespace = b.kind === "ClusterRoleBinding" ? undefined : b.metadata.namespace;
      for (const r of role.rules ?? []) out.push({ ...r, namespace, from: `${role.kind}/${role.metadata.name}` });
    }
    return out;
  }
}

/** deploy/rbac.yaml as shipped, and the subject it binds (the ServiceAccount ticketplane runs as). */
export const DEPLOY_RBAC = join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "deploy/rbac.yaml");
export const TICKETPLANE_SUBJECT: Subject = { namespace: "ticketplane-system", name: "ticketplane" };

/** The rules deploy/rbac.yaml grants ticketplane: what a scenario's `recorder.denied(…)` is checked against. */
export function shippedRules(): GrantedRule[] {
  return new RbacPolicy(readFileSync(DEPLOY_RBAC, "utf8")).rulesFor(TICKETPLANE_SUBJECT);
}

/** Whether `rule` allows the request (RBAC's rule matching; "*" matches anything). */
export function allows(rule: GrantedRule, a: RequestAttributes): boolean {
  if (rule.namespace !== undefined && rule.namespace !== a.namespace) return false;
  const resource = a.subresource === "" ? a.resource : `${a.resource}/${a.subresource}`;
  const has = (list: readonly string[], v: string): boolean => list.includes("*") || list.includes(v);
  if (!has(rule.apiGroups, a.group) || !has(rule.resources, resource) || !has(rule.verbs, a.verb)) return false;
  return rule.resourceNames === undefined || rule.resourceNames.length === 0 || (a.name !== "" && rule.resourceNames.includes(a.name));
}

export function describeRequest(a: RequestAttributes): string {
  const resource = `${a.resource}${a.subresource === "" ? "" : `/${a.subresource}`}${a.group === "" ? "" : `.${a.group}`}`;
  return `${a.verb} ${resource}${a.name === "" ? "" : ` "${a.name}"`}${a.namespace === "" ? "" : ` in ${a.namespace}`}`;
}

/** Collects what every request to a test API server asks for, from `attach` until `detach`. */
export class RbacRecorder {
  readonly requests: RequestAttributes[] = [];
  readonly nonResource = new Set<string>();
  readonly #detach: () => void;

  /** `ignoreTestClient`: leave out the test's own calls (ApiClient's, by their User-Agent), so only the code under test is checked. */
  constructor(server: KubeApiServer, options: { readonly ignoreTestClient?: boolean } = {}) {
    this.#detach = server.onRequest((r: RequestRecord) => {
      if (options.ignoreTestClient === true && r.userAgent === TEST_CLIENT_USER_AGENT) return;
      const read = readRequest(r.method, r.path, r.query);
      if (read.kind === "resource") this.requests.push(read.attributes);
      else this.nonResource.add(read.path);
    });
  }

  detach(): void {
    this.#detach();
  }

  /** The requests no rule allows, described ("patch deployments/scale.apps \"web\" in team-a"), each once. */
  denied(rules: readonly GrantedRule[]): string[] {
    return [...new Set(this.requests.filter((a) => !rules.some((r) => allows(r, a))).map(describeRequest))];
  }

  /** Grants (`from`: group resource verb) no recorded request used: candidates to drop, once the run covers the code. */
  unused(rules: readonly GrantedRule[]): string[] {
    const out: string[] = [];
    for (const r of rules) {
      for (const verb of r.verbs) {
        for (const resource of r.resources) {
          const used = this.requests.some((a) => allows({ ...r, verbs: [verb], resources: [resource] }, a));
          if (!used) out.push(`${r.from}: ${verb} ${resource}${r.apiGroups.join(",") === "" ? "" : `.${r.apiGroups.join(",")}`}`);
        }
      }
    }
    return out;
  }
}
