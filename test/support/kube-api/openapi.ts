/**
 * OpenAPI as much as kubectl needs it: `/openapi/v3` (the root naming one
 * document per group version) and `/openapi/v3/<api/v1|apis/g/v>`: the
 * real paths and operations of each kind, with `x-kubernetes-action`,
 * `x-kubernetes-group-version-kind`, the query parameters (kubectl sees
 * `fieldValidation` on PATCH and leaves validation to the server) and the
 * PATCH media types (strategic merge for built-in kinds only, as the real
 * server declares). No kind schemas: kubectl then computes strategic merge
 * patches from its compiled-in types, as it does for any server whose
 * OpenAPI lacks them.
 *
 * `/openapi/v2` is a minimal valid document (swagger 2.0, info, no paths):
 * kubectl up to 1.28 downloads it (as protobuf, the only form client-go
 * reads) before every validated write and fails without it; newer ones
 * only fall back to it.
 */
import { createHash } from "node:crypto";
import { apiVersionOf, groupVersions } from "./kinds.ts";
import type { KindSpec } from "./kinds.ts";

function gvPath(group: string, version: string): string {
  return group === "" ? `api/${version}` : `apis/${group}/${version}`;
}

const query = (name: string, description: string) => ({ name, in: "query", description, schema: { type: "string", uniqueItems: true } });
const PATH_PARAMS = { name: { name: "name", in: "path", required: true, schema: { type: "string" } }, namespace: { name: "namespace", in: "path", required: true, schema: { type: "string" } } };
const WRITE_PARAMS = [query("dryRun", "When present, indicates that modifications should not be persisted."), query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."), query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields (Ignore, Warn, Strict).")];
const LIST_PARAMS = ["allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"].map((n) => query(n, n));
const OBJECT = { content: { "application/json": { schema: { type: "object" } } } };

interface Gvk {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

function op(action: string, gvk: Gvk, operationId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { operationId, responses: { "200": { description: "OK", ...OBJECT } }, "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk, ...extra };
}

function patchOp(gvk: Gvk, operationId: string, strategic: boolean): Record<string, unknown> {
  const types = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", ...(strategic ? ["application/strategic-merge-patch+json"] : [])];
  const schema = { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" };
  return op("patch", gvk, operationId, { parameters: [...WRITE_PARAMS, query("force", "Force is going to \"force\" Apply requests.")], requestBody: { required: true, content: Object.fromEntries(types.map((t) => [t, { schema }])) } });
}

function kindPaths(k: KindSpec): Record<string, unknown> {
  const gvk = { group: k.group, version: k.version, kind: k.kind };
  const base = `/${gvPath(k.group, k.version)}${k.namespaced ? "/namespaces/{namespace}" : ""}/${k.plural}`;
  const scope = k.namespaced ? [PATH_PARAMS.namespace] : [];
  const id = (verb: string, sub = "") => `${verb}${k.namespaced ? "Namespaced" : ""}${k.kind}${sub}`;
  const strategic = k.custom !== true;
  const paths: Record<string, unknown> = {
    [base]: { parameters: scope, get: op("list", gvk, id("list"), { parameters: LIST_PARAMS }), post: op("post", gvk, id("create"), { parameters: WRITE_PARAMS, requestBody: { required: true, ...OBJECT } }), delete: op("deletecollection", gvk, id("deleteCollection")) },
    [`${base}/{name}`]: { parameters: [PATH_PARAMS.name, ...scope], get: op("get", gvk, id("read")), put: op("put", gvk, id("replace"), { parameters: WRITE_PARAMS, requestBody: { required: true, ...OBJECT } }), patch: patchOp(gvk, id("patch"), strategic), delete: op("delete", gvk, id("delete")) },
  };
  if (k.namespaced) paths[`/${gvPath(k.group, k.version)}/${k.plural}`] = { get: op("list", gvk, `list${k.kind}ForAllNamespaces`, { parameters: LIST_PARAMS }) };
  const subs: [string, Gvk][] = [];
  if (k.status === true) subs.push(["status", gvk]);
  if (k.scale !== undefined) subs.push(["scale", { group: "autoscaling", version: "v1", kind: "Scale" }]);
  for (const [sub, subGvk] of subs) {
    const suffix = sub === "status" ? "Status" : "Scale";
    paths[`${base}/{name}/${sub}`] = { parameters: [PATH_PARAMS.name, ...scope], get: op("get", subGvk, id("read", suffix)), put: op("put", subGvk, id("replace", suffix), { parameters: WRITE_PARAMS, requestBody: { required: true, ...OBJECT } }), patch: patchOp(subGvk, id("patch", suffix), strategic) };
  }
  return paths;
}

/** The document of one group version (`api/v1`, `apis/apps/v1`), or undefined. */
export function openApiV3GroupVersion(kinds: readonly KindSpec[], path: string): Record<string, unknown> | undefined {
  const gv = groupVersions(kinds).find((g) => gvPath(g.group, g.version) === path);
  if (gv === undefined) return undefined;
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: apiVersionOf(gv) },
    paths: Object.assign({}, ...gv.kinds.map(kindPaths)) as Record<string, unknown>,
    components: { schemas: { "io.k8s.apimachinery.pkg.apis.meta.v1.Patch": { description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", type: "object" } } },
  };
}

export function openApiV3Root(kinds: readonly KindSpec[]): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions(kinds)) {
    const path = gvPath(gv.group, gv.version);
    const hash = createHash("sha512").update(JSON.stringify(openApiV3GroupVersion(kinds, path))).digest("hex").slice(0, 128).toUpperCase();
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  return { paths };
}

/** The media type client-go asks `/openapi/v2` for, and the one answered (Go's mime parser rejects the "@" form in a Content-Type). */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

function protoField(field: number, payload: Buffer): Buffer {
  const length: number[] = [];
  for (let n = payload.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...length]), payload]);
}

/** `/openapi/v2`: `{swagger: "2.0", info: {title, version}}` as JSON, or encoded as gnostic's openapi_v2.Document (swagger = 1, info = 2; Info: title = 1, version = 2). */
export function openApiV2(version: string, protobuf: boolean): Buffer | Record<string, unknown> {
  if (!protobuf) return { swagger: "2.0", info: { title: "Kubernetes", version }, paths: {} };
  const info = Buffer.concat([protoField(1, Buffer.from("Kubernetes")), protoField(2, Buffer.from(version))]);
  return Buffer.concat([protoField(1, Buffer.from("2.0")), protoField(2, info)]);
}
