/**
 * The local mode file (`ticketplane dev --config examples/local.yaml`): the
 * standalone config document (listen, gateway, keys, state, cookieSecure,
 * clientAddress, apps with the same AppSpec fields), except that an app
 * lists no pods — ticketplane starts them — and says how to start one under
 * `run`. Each app's `deployment` (the name its pods are counted under, and
 * their name prefix) defaults to the app's name.
 *
 * Pure, like every parser here: every error with its path, nothing read
 * from disk; `filePath` anchors relative paths (`run.cwd` defaults to the
 * file's directory).
 */
import { dirname, isAbsolute, join } from "node:path";
import { appKey, type AppKey, type ParseResult } from "./app-spec.js";
import { parseConfigDocument, type LocalConfig } from "./config-file.js";
import { detectKind } from "./app-documents.js";
import { FieldReader, pathUnder } from "./field-reader.js";
import { ErrorSink, isRecord, joinPath, specError, typeName } from "./spec-errors.js";
import { parseYamlDocuments } from "./yaml-documents.js";

/** How local mode starts one pod of an app. */
export interface PodCommand {
  /** The program; `node` means the Node that runs ticketplane. */
  readonly command: string;
  readonly args: readonly string[];
  /** Added to ticketplane's own environment; `PORT` (the pod's port) and `POD_NAME` are set by ticketplane. */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory (absolute; default: the config file's directory). */
  readonly cwd: string;
  /** The HTTP path of the readiness probe (a 2xx or 3xx answer: ready). */
  readonly readinessPath: string;
}

export interface LocalModeConfig {
  readonly config: LocalConfig;
  /** Every app's pod command, by app key. */
  readonly run: Readonly<Record<AppKey, PodCommand>>;
}

export const RUN_FIELDS = ["command", "args", "env", "cwd", "readinessPath"] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_ENV = ["PORT", "POD_NAME"];

export function parseLocalFile(text: string, filePath: string): ParseResult<LocalModeConfig> {
  const yaml = parseYamlDocuments(text);
  if (!yaml.ok) return yaml;
  const [doc, ...more] = yaml.documents;
  if (doc === undefined || more.length > 0 || !isRecord(doc) || detectKind(doc) !== "config") {
    return { ok: false, errors: [specError("", typeName(doc), "must be one config document (listen, gateway, apps, …), each app with a run section")] };
  }
  const sink = new ErrorSink();
  const apps = Array.isArray(doc.apps) ? (doc.apps as unknown[]) : [];
  const runs: { readonly path: string; readonly value: unknown; readonly namespace: unknown; readonly name: unknown }[] = [];
  // The standalone parser reads everything but `run`; it sees `pods: []` so that an app lists none.
  const stripped = apps.map((app, i) => {
    if (!isRecord(app)) return app;
    const path = joinPath("apps", i);
    const { run, pods, ...rest } = app;
    if (pods !== undefined) sink.add(joinPath(path, "pods"), pods, "not allowed in local mode: ticketplane dev starts the pods (see run)");
    runs.push({ path: joinPath(path, "run"), value: run, namespace: rest.namespace, name: rest.name });
    return { ...rest, deployment: rest.deployment ?? rest.name };
  });
  const base = parseConfigDocument(Array.isArray(doc.apps) ? { ...doc, apps: stripped } : doc, filePath);
  if (!base.ok) sink.addAll(base.errors);
  const run: Record<AppKey, PodCommand> = {};
  for (const r of runs) {
    const command = readRun(r.value, r.path, filePath, sink);
    if (command !== undefined && typeof r.name === "string") run[appKey(typeof r.namespace === "string" ? r.namespace : "default", r.name)] = command;
  }
  if (!base.ok || !sink.ok) return { ok: false, errors: sink.errors };
  return { ok: true, value: { config: base.value, run } };
}

function readRun(value: unknown, path: string, filePath: string, sink: ErrorSink): PodCommand | undefined {
  const r = new FieldReader(pathUnder(path), false, sink);
  if (value === undefined || value === null) {
    sink.add(path, value, "is required in local mode: how to start a pod (command, args, env, cwd, readinessPath)");
    return undefined;
  }
  if (!isRecord(value)) {
    sink.add(path, value, `must be a mapping (command, args, env, cwd, readinessPath), not ${typeName(value)}`);
    return undefined;
  }
  const section = value;
  r.checkUnknown(section, "", RUN_FIELDS);
  const command = r.required("command", section.command, (v) => r.string("command", v, (s) => (s.trim() === "" ? "must not be empty" : undefined)));
  const args = readArgs(section.args, r);
  const env = readEnv(section.env, r);
  const cwd = r.string("cwd", section.cwd);
  const readinessPath = r.string("readinessPath", section.readinessPath, (s) => (s.startsWith("/") ? undefined : 'must start with "/"'));
  if (command === undefined || args === undefined || env === undefined) return undefined;
  const dir = dirname(filePath);
  return { command, args, env, cwd: cwd === undefined ? dir : isAbsolute(cwd) ? cwd : join(dir, cwd), readinessPath: readinessPath ?? "/" };
}

function readArgs(value: unknown, r: FieldReader): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return r.fail("args", value, `must be a list of strings, not ${typeName(value)}`);
  const bad = (value as unknown[]).findIndex((a) => typeof a !== "string");
  if (bad >= 0) return r.fail(`args.${bad}`, value[bad], `must be a string, not ${typeName(value[bad])}`);
  return value as string[];
}

function readEnv(value: unknown, r: FieldReader): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return r.fail("env", value, `must be a mapping of NAME: value, not ${typeName(value)}`);
  const env: Record<string, string> = {};
  let ok = true;
  for (const [name, v] of Object.entries(value)) {
    if (!ENV_NAME.test(name)) ok = r.fail(`env.${name}`, name, "must be a variable name (letters, digits, _; not starting with a digit)") ?? false;
    else if (RESERVED_ENV.includes(name)) ok = r.fail(`env.${name}`, v, `is set by ticketplane for each pod; remove it`) ?? false;
    else if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") ok = r.fail(`env.${name}`, v, `must be a string, not ${typeName(v)}`) ?? false;
    else env[name] = String(v);
  }
  return ok ? env : undefined;
}
