/**
 * Strict checking of built-in Kubernetes objects against the API types of
 * @kubernetes/client-node (its generated models carry every field's JSON name
 * and type, from the Kubernetes OpenAPI document): every unknown field, at any
 * depth, is an error with its path, as `kubectl apply --validate=strict`
 * reports it; so is a value of the wrong JSON type. Required fields and
 * enum values are not in the models: the API server checks those, and the
 * deploy tests name the ones that matter.
 */
import * as k8s from "@kubernetes/client-node";

interface Attribute {
  readonly name: string;
  readonly baseName: string;
  readonly type: string;
}

interface Model {
  getAttributeTypeMap(): readonly Attribute[];
}

/** The model class of each `apiVersion/kind` our manifests use. */
const KINDS: Readonly<Record<string, string>> = {
  "v1/Namespace": "V1Namespace",
  "v1/ServiceAccount": "V1ServiceAccount",
  "v1/Service": "V1Service",
  "v1/ConfigMap": "V1ConfigMap",
  "v1/Secret": "V1Secret",
  "apps/v1/Deployment": "V1Deployment",
  "policy/v1/PodDisruptionBudget": "V1PodDisruptionBudget",
  "rbac.authorization.k8s.io/v1/ClusterRole": "V1ClusterRole",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "V1ClusterRoleBinding",
  "rbac.authorization.k8s.io/v1/Role": "V1Role",
  "rbac.authorization.k8s.io/v1/RoleBinding": "V1RoleBinding",
  "apiextensions.k8s.io/v1/CustomResourceDefinition": "V1CustomResourceDefinition",
};

const models = k8s as unknown as Record<string, Model | undefined>;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** True when `apiVersion/kind` is a built-in kind this checker knows. */
export function isBuiltInKind(apiVersion: unknown, kind: unknown): boolean {
  return KINDS[`${String(apiVersion)}/${String(kind)}`] !== undefined;
}

/** Every problem in `object` (a built-in kind), each as "path: message"; empty when it is valid. */
export function validateKubeObject(object: unknown): string[] {
  if (!isObject(object)) return ["<root>: must be an object"];
  const model = KINDS[`${String(object.apiVersion)}/${String(object.kind)}`];
  if (model === undefined) return [`<root>: ${String(object.apiVersion)} ${String(object.kind)} is not a kind this checker knows`];
  return check(model, object, "");
}

function check(type: string, value: unknown, path: string): string[] {
  if (value === null) return [];
  const at = path === "" ? "<root>" : path;
  const array = /^Array<(.+)>$/.exec(type)?.[1];
  if (array !== undefined) return Array.isArray(value) ? value.flatMap((v, i) => check(array, v, `${path}[${i}]`)) : [`${at}: must be a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)?.[1];
  if (map !== undefined) return isObject(value) ? Object.entries(value).flatMap(([k, v]) => check(map, v, `${path}[${JSON.stringify(k)}]`)) : [`${at}: must be a map`];
  const primitive = primitiveProblem(type, value);
  if (primitive !== undefined) return primitive === "" ? [] : [`${at}: ${primitive}`];
  return checkModel(type, value, path);
}

/** An object of generated model `type`: every field known, each of its type. */
function checkModel(type: string, value: unknown, path: string): string[] {
  const at = path === "" ? "<root>" : path;
  const model = models[type];
  if (model === undefined || typeof model.getAttributeTypeMap !== "function") return [`${at}: no model ${type} (checker bug)`];
  if (!isObject(value)) return [`${at}: must be an object (${type})`];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  return Object.entries(value).flatMap(([key, v]) => {
    const a = attributes.get(key);
    const child = path === "" ? key : `${path}.${key}`;
    return a === undefined ? [`${child}: unknown field (${type} has no field "${key}")`] : check(a.type, v, child);
  });
}

/** undefined: not a primitive type; "": fine; else the problem. */
function primitiveProblem(type: string, value: unknown): string | undefined {
  switch (type) {
    case "string":
    case "Date":
      return typeof value === "string" ? "" : `must be a string, not ${JSON.stringify(value)}`;
    case "number":
      return typeof value === "number" ? "" : `must be a number, not ${JSON.stringify(value)}`;
    case "boolean":
      return typeof value === "boolean" ? "" : `must be true or false, not ${JSON.stringify(value)}`;
    case "IntOrString":
      return typeof value === "string" || (typeof value === "number" && Number.isInteger(value)) ? "" : `must be an integer or a string, not ${JSON.stringify(value)}`;
    case "any":
    case "object":
      return "";
    default:
      return undefined;
  }
}
