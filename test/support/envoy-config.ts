/**
 * A strict Envoy config checker for tests: YAML/JSON is walked against
 * Envoy's own proto descriptors (loaded with @grpc/proto-loader, independent
 * of the ts-proto code in protos/gen) and every field Envoy would reject as
 * unknown is reported with its path — at any depth, including inside
 * `typed_config` Anys, whose `@type` is resolved the way Envoy does.
 *
 * Accepted like Envoy's JSON/YAML parser: proto names and JSON (lowerCamel)
 * names, enum names or numbers, Duration as "5s", Struct/Value/ListValue as
 * anything JSON, wrappers as bare scalars, 64-bit integers as numbers or
 * strings, null for any field (the default). Protos are loaded once, lazily.
 */
import * as protoLoader from "@grpc/proto-loader";
import { parse as parseYaml } from "yaml";
import { ENVOY_PROTO_ROOTS } from "./envoy-protos.js";

/** The proto files loaded: the Bootstrap and every resource type and extension our configs embed. */
export const ENVOY_CONFIG_FILES: readonly string[] = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/config/cluster/v3/cluster.proto",
  "envoy/config/endpoint/v3/endpoint.proto",
  "envoy/config/listener/v3/listener.proto",
  "envoy/config/route/v3/route.proto",
  "envoy/service/discovery/v3/discovery.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto",
  "envoy/extensions/access_loggers/grpc/v3/als.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
];

/** Loader options: proto field names, enum names, 64-bit as strings, bytes as base64, Anys expanded with `@type` (JSON form). */
export const ENVOY_CONFIG_LOAD_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: false,
  oneofs: false,
  json: true,
  includeDirs: [...ENVOY_PROTO_ROOTS],
};

interface FieldDescriptor {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}

interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly FieldDescriptor[];
  readonly nestedType: readonly MessageDescriptor[];
  readonly enumType: readonly EnumDescriptor[];
  readonly options: { readonly mapEntry?: boolean } | null;
}

interface EnumDescriptor {
  readonly name: string;
  readonly value: readonly { readonly name: string; readonly number: number }[];
}

interface MessageInfo {
  readonly fullName: string;
  readonly descriptor: MessageDescriptor;
  /** Proto name and JSON name → field. */
  readonly fields: ReadonlyMap<string, FieldDescriptor>;
}

interface Registry {
  readonly definition: protoLoader.PackageDefinition;
  readonly messages: ReadonlyMap<string, MessageInfo>;
  readonly enums: ReadonlyMap<string, EnumDescriptor>;
}

let registry: Registry | undefined;

/** json_name as protoc derives it: underscores dropped, the next letter upper-cased. */
function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function register(messages: Map<string, MessageInfo>, enums: Map<string, EnumDescriptor>, fullName: string, d: MessageDescriptor): void {
  const fields = new Map<string, FieldDescriptor>();
  for (const f of d.field) {
    fields.set(f.name, f);
    fields.set(jsonName(f.name), f);
  }
  messages.set(fullName, { fullName, descriptor: d, fields });
  for (const nested of d.nestedType) register(messages, enums, `${fullName}.${nested.name}`, nested);
  for (const e of d.enumType) enums.set(`${fullName}.${e.name}`, e);
}

/** The loaded Envoy descriptors (loaded on first use). */
export function envoyConfigRegistry(): Registry {
  if (registry !== undefined) return registry;
  const definition = protoLoader.loadSync([...ENVOY_CONFIG_FILES], ENVOY_CONFIG_LOAD_OPTIONS);
  const messages = new Map<string, MessageInfo>();
  const enums = new Map<string, EnumDescriptor>();
  for (const [name, def] of Object.entries(definition)) {
    if (!("format" in def)) continue;
    if (def.format === "Protocol Buffer 3 DescriptorProto") register(messages, enums, name, def.type as MessageDescriptor);
    else if (def.format === "Protocol Buffer 3 EnumDescriptorProto") enums.set(name, def.type as EnumDescriptor);
  }
  registry = { definition, messages, enums };
  return registry;
}

/** Resolves a (possibly relative) type name from the scope of `fromMessage`, innermost scope first, as protoc does. */
function resolveName(reg: Registry, fromMessage: string, typeName: string): string | undefined {
  if (typeName.startsWith(".")) return typeName.slice(1);
  const scope = fromMessage.split(".");
  for (let i = scope.length; i >= 0; i--) {
    const candidate = [...scope.slice(0, i), typeName].join(".");
    if (reg.messages.has(candidate) || reg.enums.has(candidate)) return candidate;
  }
  return undefined;
}

type Check = (value: unknown, path: string, errors: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const describe = (v: unknown): string => (Array.isArray(v) ? "a list" : v === null ? "null" : typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`);

const INT = /^-?\d+$/;
const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

const INTEGER_TYPES = new Set(["TYPE_INT32", "TYPE_INT64", "TYPE_SINT32", "TYPE_SINT64", "TYPE_SFIXED32", "TYPE_SFIXED64"]);
const UNSIGNED_TYPES = new Set(["TYPE_UINT32", "TYPE_UINT64", "TYPE_FIXED32", "TYPE_FIXED64"]);

function integerCheck(unsigned: boolean): Check {
  return (v, p, e) => {
    const ok = (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && INT.test(v));
    if (!ok) e.push(`${p}: expected an integer, got ${describe(v)}`);
    else if (unsigned && Number(v) < 0) e.push(`${p}: expected an unsigned integer, got ${String(v)}`);
  };
}

const SCALAR_CHECKS: Readonly<Record<string, Check>> = {
  TYPE_STRING: (v, p, e) => void (typeof v !== "string" && e.push(`${p}: expected a string, got ${describe(v)}`)),
  TYPE_BYTES: (v, p, e) => void (typeof v !== "string" && !(v instanceof Uint8Array) && e.push(`${p}: expected base64 bytes, got ${describe(v)}`)),
  TYPE_BOOL: (v, p, e) => void (typeof v !== "boolean" && e.push(`${p}: expected a boolean, got ${describe(v)}`)),
  TYPE_DOUBLE: (v, p, e) => void (typeof v !== "number" && !(typeof v === "string" && !Number.isNaN(Number(v))) && e.push(`${p}: expected a number, got ${describe(v)}`)),
};

function scalarCheck(type: string): Check | undefined {
  if (INTEGER_TYPES.has(type)) return integerCheck(false);
  if (UNSIGNED_TYPES.has(type)) return integerCheck(true);
  return SCALAR_CHECKS[type === "TYPE_FLOAT" ? "TYPE_DOUBLE" : type];
}

const WRAPPERS: Readonly<Record<string, string>> = {
  "google.protobuf.DoubleValue": "TYPE_DOUBLE",
  "google.protobuf.FloatValue": "TYPE_FLOAT",
  "google.protobuf.Int64Value": "TYPE_INT64",
  "google.protobuf.UInt64Value": "TYPE_UINT64",
  "google.protobuf.Int32Value": "TYPE_INT32",
  "google.protobuf.UInt32Value": "TYPE_UINT32",
  "google.protobuf.BoolValue": "TYPE_BOOL",
  "google.protobuf.StringValue": "TYPE_STRING",
  "google.protobuf.BytesValue": "TYPE_BYTES",
};

/** Well-known types with a JSON form of their own: each returns true when it judged the value (false: walk the message's fields). */
const SPECIAL_JSON: Readonly<Record<string, (value: unknown, path: string, errors: string[]) => boolean>> = {
  "google.protobuf.Struct": (v, p, e) => (isObject(v) || e.push(`${p}: expected an object (Struct), got ${describe(v)}`), true),
  "google.protobuf.Value": () => true,
  "google.protobuf.ListValue": (v, p, e) => (Array.isArray(v) || e.push(`${p}: expected a list (ListValue), got ${describe(v)}`), true),
  "google.protobuf.Duration": (v, p, e) => {
    if (typeof v === "string" && !DURATION.test(v)) e.push(`${p}: "${v}" is not a duration like "5s" or "0.25s"`);
    return typeof v === "string";
  },
  "google.protobuf.Timestamp": (v, p, e) => {
    if (typeof v === "string" && !TIMESTAMP.test(v)) e.push(`${p}: "${v}" is not an RFC 3339 timestamp`);
    return typeof v === "string";
  },
  "google.protobuf.FieldMask": (v) => typeof v === "string",
};

class Walker {
  constructor(private readonly reg: Registry) {}

  message(fullName: string, value: unknown, path: string, errors: string[]): void {
    if (this.wellKnown(fullName, value, path, errors)) return;
    const info = this.reg.messages.get(fullName);
    if (info === undefined) {
      errors.push(`${path}: type ${fullName} is not among the loaded Envoy protos`);
      return;
    }
    if (!isObject(value)) {
      errors.push(`${path}: expected an object (${fullName}), got ${describe(value)}`);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      const field = info.fields.get(key);
      const fpath = path === "" ? key : `${path}.${key}`;
      if (field === undefined) errors.push(`${fpath}: unknown field (${fullName} has no field "${key}")`);
      else if (v !== null && v !== undefined) this.field(info, field, v, fpath, errors);
    }
  }

  private field(owner: MessageInfo, field: FieldDescriptor, value: unknown, path: string, errors: string[]): void {
    const check = this.elementCheck(owner, field);
    if (field.label !== "LABEL_REPEATED") {
      check(value, path, errors);
      return;
    }
    const entry = this.mapEntry(owner, field);
    if (entry !== undefined) {
      if (!isObject(value)) errors.push(`${path}: expected a map (object), got ${describe(value)}`);
      else for (const [k, v] of Object.entries(value)) if (v !== null) entry(v, `${path}["${k}"]`, errors);
      return;
    }
    if (!Array.isArray(value)) errors.push(`${path}: expected a list, got ${describe(value)}`);
    else value.forEach((v: unknown, i) => check(v, `${path}[${i}]`, errors));
  }

  /** The value check of a map field, or undefined when the field is a plain repeated one. */
  private mapEntry(owner: MessageInfo, field: FieldDescriptor): Check | undefined {
    if (field.type !== "TYPE_MESSAGE") return undefined;
    const name = resolveName(this.reg, owner.fullName, field.typeName);
    const entry = name === undefined ? undefined : this.reg.messages.get(name);
    if (entry?.descriptor.options?.mapEntry !== true) return undefined;
    const valueField = entry.fields.get("value");
    return valueField === undefined ? undefined : this.elementCheck(entry, valueField);
  }

  private elementCheck(owner: MessageInfo, field: FieldDescriptor): Check {
    const scalar = scalarCheck(field.type);
    if (scalar !== undefined) return scalar;
    const name = resolveName(this.reg, owner.fullName, field.typeName);
    if (name === undefined) return (_v, p, e) => void e.push(`${p}: cannot resolve type ${field.typeName} of ${owner.fullName}.${field.name}`);
    if (field.type === "TYPE_ENUM") return (v, p, e) => this.enumValue(name, v, p, e);
    return (v, p, e) => this.message(name, v, p, e);
  }

  private enumValue(fullName: string, value: unknown, path: string, errors: string[]): void {
    const values = this.reg.enums.get(fullName)?.value ?? [];
    const ok = typeof value === "string" ? values.some((v) => v.name === value) : typeof value === "number" && Number.isInteger(value);
    if (!ok) errors.push(`${path}: ${describe(value)} is not a value of enum ${fullName} (${values.map((v) => v.name).join(", ")})`);
  }

  /** JSON forms of well-known types; returns false to walk the message's own fields instead. */
  private wellKnown(fullName: string, value: unknown, path: string, errors: string[]): boolean {
    const wrapped = WRAPPERS[fullName];
    if (wrapped !== undefined && !isObject(value)) {
      scalarCheck(wrapped)?.(value, path, errors);
      return true;
    }
    if (fullName === "google.protobuf.Any") {
      if (!isObject(value) || !("@type" in value)) return false;
      this.any(value, path, errors);
      return true;
    }
    const special = SPECIAL_JSON[fullName];
    return special === undefined ? false : special(value, path, errors);
  }

  private any(value: Record<string, unknown>, path: string, errors: string[]): void {
    const typeUrl = value["@type"];
    if (typeof typeUrl !== "string" || !typeUrl.includes("/")) {
      errors.push(`${path}.@type: "${String(typeUrl)}" is not a type URL`);
      return;
    }
    const inner = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
    if (!this.reg.messages.has(inner)) {
      errors.push(`${path}.@type: ${inner} is not among the loaded Envoy protos`);
      return;
    }
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== "@type"));
    // Types with a special JSON form carry it under "value" inside an Any.
    const special = WRAPPERS[inner] !== undefined || inner.startsWith("google.protobuf.");
    if (special && "value" in rest) this.message(inner, rest.value, `${path}.value`, errors);
    else this.message(inner, rest, path, errors);
  }
}

/**
 * Every error (with its path) in `value` read as the Envoy message `typeName`
 * (e.g. "envoy.config.bootstrap.v3.Bootstrap"); empty when Envoy would accept
 * every field name, enum and value shape.
 */
export function validateEnvoyConfig(typeName: string, value: unknown): string[] {
  const errors: string[] = [];
  new Walker(envoyConfigRegistry()).message(typeName, value, "", errors);
  return errors;
}

/** Parses Envoy YAML (YAML 1.2 core schema, as Envoy reads it) into plain values. */
export function parseEnvoyYaml(text: string): unknown {
  return parseYaml(text) as unknown;
}

/** `validateEnvoyConfig` over a YAML (or JSON) text. */
export function validateEnvoyYaml(typeName: string, text: string): string[] {
  return validateEnvoyConfig(typeName, parseEnvoyYaml(text));
}

/**
 * Decodes protobuf bytes of `typeName` with proto-loader's own deserializer,
 * in JSON form (Anys expanded with `@type`): an independent decode of what
 * ts-proto encoded.
 */
export function decodeEnvoyMessage(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const def = envoyConfigRegistry().definition[typeName];
  // proto-loader's message type definitions carry a deserializer (protobufjs decode + toObject with our options).
  const deserialize = def !== undefined && "deserialize" in def ? (def.deserialize as unknown) : undefined;
  if (typeof deserialize !== "function") throw new Error(`bug: ${typeName} is not a loaded message type`);
  return (deserialize as (b: Buffer) => Record<string, unknown>)(Buffer.from(bytes));
}
