/**
 * A small validator for the OpenAPI v3 structural schemas CRDs carry, as the
 * API server applies them: defaulting, then validation with strict field
 * validation (an unknown field is an error, as `kubectl apply
 * --validate=strict` makes it). It knows the keywords our CRDs use — type,
 * properties, required, items, minimum, exclusiveMinimum (OpenAPI v3.0's boolean form), maximum, pattern, maxLength, enum,
 * default, x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields —
 * and refuses a schema that uses any other (so it never passes what it did not
 * check). `structuralProblems` lists what makes a schema non-structural.
 *
 * `validate` also checks what Istio's published CRDs use (test/fixtures/istio-crds.yaml):
 * additionalProperties (map values), minLength, minItems, maxItems,
 * minProperties, maxProperties, and the unions written as oneOf / anyOf /
 * allOf / not over `required` lists. Their CEL rules
 * (`x-kubernetes-validations`) are not evaluated: what they check, a test
 * must check by name.
 */
export type Schema = Readonly<Record<string, unknown>>;

const KNOWN = new Set([
  "additionalProperties", "minLength", "minItems", "maxItems", "minProperties", "maxProperties", "oneOf", "anyOf", "allOf", "not", "nullable",
  "type", "description", "properties", "required", "items", "minimum", "exclusiveMinimum", "maximum", "pattern", "maxLength", "enum", "default", "format",
  "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
]);
const TYPES = new Set(["object", "array", "string", "integer", "number", "boolean"]);

export interface SchemaError {
  readonly path: string;
  readonly message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const props = (s: Schema): Readonly<Record<string, Schema>> => (s.properties ?? {}) as Record<string, Schema>;
const join = (path: string, key: string | number): string => (typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`);

/** What makes `schema` non-structural (or use a keyword this validator does not check); empty when fine. */
export function structuralProblems(schema: Schema, path = ""): string[] {
  const at = path || "<root>";
  const out: string[] = Object.keys(schema).filter((k) => !KNOWN.has(k)).map((k) => `${at}: keyword ${k} is not checked here`);
  out.push(...typeProblems(schema, at));
  if (typeof schema.pattern === "string") out.push(...patternProblems(schema.pattern, at));
  if (schema.default !== undefined) for (const e of validate(schema, schema.default, `${path}.default`)) out.push(`${e.path}: default invalid: ${e.message}`);
  for (const [key, child] of Object.entries(props(schema))) out.push(...structuralProblems(child, join(path, key)));
  if (isObject(schema.items)) out.push(...structuralProblems(schema.items, `${path}[]`));
  return out;
}

function typeProblems(schema: Schema, at: string): string[] {
  const out: string[] = [];
  const typed = schema.type !== undefined || schema["x-kubernetes-int-or-string"] === true || schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (!typed) out.push(`${at}: no type`);
  if (schema.type !== undefined && !(typeof schema.type === "string" && TYPES.has(schema.type))) out.push(`${at}: unknown type`);
  if (schema.type === "array" && !isObject(schema.items)) out.push(`${at}: an array needs items`);
  if (schema.properties !== undefined && schema.type !== "object") out.push(`${at}: properties on a non-object`);
  return out;
}

function patternProblems(pattern: string, at: string): string[] {
  if (/\(\?[=!<]|\\[1-9]/.test(pattern)) return [`${at}: pattern uses look-around or a back-reference (not RE2)`];
  try {
    new RegExp(pattern, "u");
    return [];
  } catch (err) {
    return [`${at}: pattern does not compile: ${(err as Error).message}`];
  }
}

/** Every error in `value` against `schema` (strict: unknown fields are errors unless preserved). */
export function validate(schema: Schema, value: unknown, path = ""): SchemaError[] {
  if (value === null || value === undefined) return [];
  const typeError = checkType(schema, value);
  if (typeError !== undefined) return [{ path, message: typeError }];
  const errors: SchemaError[] = [...valueProblems(schema, value), ...sizeProblems(schema, value), ...unionProblems(schema, value)].map((message) => ({ path, message }));
  if (isObject(value) && (schema.type === "object" || schema.required !== undefined)) errors.push(...objectProblems(schema, value, path));
  if (Array.isArray(value) && isObject(schema.items)) value.forEach((v, i) => errors.push(...validate(schema.items as Schema, v, join(path, i))));
  return errors;
}

function checkType(schema: Schema, value: unknown): string | undefined {
  if (schema["x-kubernetes-int-or-string"] !== true) return typeMatches(schema.type, value) ? undefined : `must be of type ${String(schema.type)}`;
  if (typeof value === "string" || (typeof value === "number" && Number.isInteger(value))) return undefined;
  return `must be an integer or a string, not ${JSON.stringify(value)}`;
}

function valueProblems(schema: Schema, value: unknown): string[] {
  const out: string[] = [];
  if (typeof value === "number") {
    const exclusive = schema.exclusiveMinimum === true;
    if (typeof schema.minimum === "number" && (exclusive ? value <= schema.minimum : value < schema.minimum)) out.push(`must be ${exclusive ? ">" : "≥"} ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum) out.push(`must be ≤ ${schema.maximum}`);
  }
  if (typeof value === "string") {
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) out.push(`must match ${schema.pattern}`);
    if (typeof schema.maxLength === "number" && [...value].length > schema.maxLength) out.push(`must be at most ${schema.maxLength} characters`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) out.push(`must be one of ${JSON.stringify(schema.enum)}`);
  return out;
}

const num = (s: Schema, key: string): number | undefined => (typeof s[key] === "number" ? (s[key]) : undefined);

function sizeProblems(schema: Schema, value: unknown): string[] {
  const size = typeof value === "string" ? [...value].length : Array.isArray(value) ? value.length : isObject(value) ? Object.keys(value).length : undefined;
  if (size === undefined) return [];
  const [min, max] = typeof value === "string" ? ["minLength", "maxLength"] : Array.isArray(value) ? ["minItems", "maxItems"] : ["minProperties", "maxProperties"];
  const out: string[] = [];
  const lo = num(schema, min);
  const hi = num(schema, max);
  if (lo !== undefined && size < lo) out.push(`must have at least ${lo} (${min})`);
  if (hi !== undefined && size > hi && typeof value !== "string") out.push(`must have at most ${hi} (${max})`);
  return out;
}

const passes = (branch: unknown, value: unknown): boolean => isObject(branch) && validate(branch, value).length === 0;

/** oneOf / anyOf / allOf / not: as OpenAPI defines them (Istio writes its unions with them over `required`). */
function unionProblems(schema: Schema, value: unknown): string[] {
  const out: string[] = [];
  const list = (key: string): unknown[] => (Array.isArray(schema[key]) ? (schema[key] as unknown[]) : []);
  if (schema.oneOf !== undefined && list("oneOf").filter((b) => passes(b, value)).length !== 1) out.push(`must match exactly one of ${JSON.stringify(schema.oneOf)}`);
  if (schema.anyOf !== undefined && !list("anyOf").some((b) => passes(b, value))) out.push(`must match one of ${JSON.stringify(schema.anyOf)}`);
  if (schema.allOf !== undefined && !list("allOf").every((b) => passes(b, value))) out.push(`must match all of ${JSON.stringify(schema.allOf)}`);
  if (schema.not !== undefined && passes(schema.not, value)) out.push(`must not match ${JSON.stringify(schema.not)}`);
  return out;
}

function objectProblems(schema: Schema, value: Readonly<Record<string, unknown>>, path: string): SchemaError[] {
  const errors: SchemaError[] = [];
  for (const r of (schema.required ?? []) as string[]) if (value[r] === undefined) errors.push({ path: join(path, r), message: "is required" });
  const known = props(schema);
  const extra = isObject(schema.additionalProperties) ? (schema.additionalProperties as Schema) : undefined;
  const open = schema["x-kubernetes-preserve-unknown-fields"] === true || schema.additionalProperties === true || (schema.properties === undefined && extra === undefined);
  for (const [key, v] of Object.entries(value)) {
    const child = known[key] ?? extra;
    if (child !== undefined) errors.push(...validate(child, v, join(path, key)));
    else if (!open) errors.push({ path: join(path, key), message: "unknown field" });
  }
  return errors;
}

function typeMatches(type: unknown, value: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    default:
      return typeof value === type;
  }
}

/** `value` with the schema's defaults filled in, as the API server does before validating (a copy). */
export function applyDefaults(schema: Schema, value: unknown): unknown {
  const v = value === undefined && schema.default !== undefined ? structuredClone(schema.default) : value;
  if (isObject(v) && schema.type === "object") {
    const out: Record<string, unknown> = { ...v };
    for (const [key, child] of Object.entries(props(schema))) {
      const filled = applyDefaults(child, out[key]);
      if (filled !== undefined) out[key] = filled;
    }
    return out;
  }
  if (Array.isArray(v) && isObject(schema.items)) return v.map((x) => applyDefaults(schema.items as Schema, x));
  return v;
}
