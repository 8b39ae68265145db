/**
 * The local YAML config file (standalone mode, `ticketplane serve --config FILE`).
 *
 * Two shapes are accepted:
 * - a single document with `listen`, `gateway`, `keys`, `state`, `cookieSecure`,
 *   `clientAddress` and `apps` (each app in the TicketedApp spec shape plus `name`,
 *   `namespace` and `pods`);
 * - a stream of TicketedApp and k8sTicket Deployment documents (every other
 *   setting at its default).
 *
 * All or nothing: any error makes the whole file invalid, so a bad edit
 * changes nothing at runtime. Parsing is pure: `filePath` only anchors the
 * relative `keys.file` / `state.file` paths; nothing is read from disk.
 */
import { basename, dirname, extname, isAbsolute, join } from "node:path";
import { appKey, type AppKey, type AppSpec, type ParseResult, type PodEntry, type SpecError } from "./app-spec.js";
import { APP_FIELDS, readAppFields, readPodEntries } from "./app-fields.js";
import type { HostPort } from "./address.js";
import { parseHostPort } from "./address.js";
import { describeObject, detectKind, readAppDocument } from "./app-documents.js";
import { COUNT_BOUNDS, DURATION_BOUNDS } from "./bounds.js";
import type { PlacedApp } from "./cross-checks.js";
import { findClashes } from "./cross-checks.js";
import { FieldReader, pathUnder } from "./field-reader.js";
import { ErrorSink, isRecord, joinPath, prefixErrors, specError, typeName } from "./spec-errors.js";
import { parseYamlDocuments } from "./yaml-documents.js";

export interface ListenConfig {
  readonly authz: HostPort;
  readonly xds: HostPort;
  readonly accessLog: HostPort;
  readonly admin: HostPort;
  /** KEDA's external scaler (src/scaler/); absent: not served. */
  readonly keda?: HostPort;
}

/** What the Envoy entry point is told over xDS. */
export interface GatewayConfig {
  /** Address the Envoy listener binds (default "0.0.0.0"). */
  readonly listenerAddress: string;
  readonly listenerPort: number;
  /** ext_authz filter timeout (fail closed after it). */
  readonly authzTimeoutMs: number;
}

/** How Check tells clients apart for the per-client limits. */
export interface ClientAddressConfig {
  /**
   * 0: the address Envoy saw the request come from (Check's source address).
   * N > 0: the Nth address from the right of X-Forwarded-For, behind N
   * trusted proxies (load balancers) that each append the address they saw.
   */
  readonly trustedHops: number;
}

export const CLIENT_ADDRESS_DEFAULTS: ClientAddressConfig = { trustedHops: 0 };

/** A parsed config file. Paths are the file's own, joined onto the config file's directory when relative. */
export interface LocalConfig {
  readonly filePath: string;
  readonly listen: ListenConfig;
  readonly gateway: GatewayConfig;
  /** The signing key file (see parseKeyFile); absent: the runtime's documented fallback. */
  readonly keys?: { readonly file: string };
  readonly state: { readonly file: string };
  readonly clientAddress: ClientAddressConfig;
  readonly apps: readonly AppSpec[];
  /** Each app's backends as the file lists them, by app key (apps from TicketedApp/Deployment documents list none). */
  readonly pods: Readonly<Record<AppKey, readonly PodEntry[]>>;
}

export const LISTEN_DEFAULTS = {
  authz: "127.0.0.1:9001",
  xds: "127.0.0.1:18000",
  accessLog: "127.0.0.1:9002",
  admin: "127.0.0.1:9090",
} as const;
/** The KEDA external scaler's address in the docs' examples; it is served only where `listen.keda` is set. */
export const KEDA_EXAMPLE_LISTEN = "127.0.0.1:9003";
export const GATEWAY_DEFAULTS = { listenerAddress: "0.0.0.0", listenerPort: 8080, authzTimeoutMs: 250 } as const;

/** Top-level keys of the single-document shape, and of its sections. */
export const CONFIG_FIELDS = ["listen", "gateway", "keys", "state", "cookieSecure", "clientAddress", "apps"] as const;
export const CONFIG_SECTION_FIELDS = {
  listen: ["authz", "xds", "accessLog", "admin", "keda"],
  gateway: ["listenerAddress", "listenerPort", "authzTimeout"],
  keys: ["file"],
  state: ["file"],
  clientAddress: ["trustedHops"],
} as const;
/** Fields of one entry of `apps`: the spec shape with name, namespace and pods. */
export const CONFIG_APP_FIELDS: readonly string[] = APP_FIELDS;

/** Default state file: `<config name without extension>.state.json` next to the config file. */
export function defaultStateFile(filePath: string): string {
  return join(dirname(filePath), `${basename(filePath, extname(filePath))}.state.json`);
}

export function parseConfigFile(text: string, filePath: string): ParseResult<LocalConfig> {
  const yaml = parseYamlDocuments(text);
  if (!yaml.ok) return yaml;
  const docs = yaml.documents;
  if (docs.length === 0) return { ok: false, errors: [specError("", text.trim(), "must not be empty (a config document, or TicketedApp/Deployment documents)")] };
  if (docs.length === 1 && detectKind(docs[0]) === "config") return parseConfigDocument(docs[0] as Record<string, unknown>, filePath);
  return parseAppStream(docs, filePath);
}

/** One config document (already parsed from YAML), as `parseConfigFile` reads it. */
export function parseConfigDocument(doc: Readonly<Record<string, unknown>>, filePath: string): ParseResult<LocalConfig> {
  const sink = new ErrorSink();
  const r = new FieldReader(pathUnder(""), false, sink);
  r.checkUnknown(doc, "", CONFIG_FIELDS);
  const listen = readListen(doc.listen, r);

  const g = r.section("gateway", doc.gateway, CONFIG_SECTION_FIELDS.gateway) ?? {};
  const gateway: GatewayConfig = {
    listenerAddress: r.string("gateway.listenerAddress", g.listenerAddress, checkListenerHost) ?? GATEWAY_DEFAULTS.listenerAddress,
    listenerPort: r.int("gateway.listenerPort", g.listenerPort, { min: 1, max: 65535 }) ?? GATEWAY_DEFAULTS.listenerPort,
    authzTimeoutMs: r.duration("gateway.authzTimeout", g.authzTimeout, { positive: true, max: DURATION_BOUNDS["gateway.authzTimeout"] }) ?? GATEWAY_DEFAULTS.authzTimeoutMs,
  };
  const keysSection = r.section("keys", doc.keys, CONFIG_SECTION_FIELDS.keys);
  const keysFile = keysSection === undefined ? undefined : r.required("keys.file", keysSection.file, (v) => r.string("keys.file", v));
  const stateSection = r.section("state", doc.state, CONFIG_SECTION_FIELDS.state) ?? {};
  const stateFile = r.string("state.file", stateSection.file);
  const cookieSecure = r.bool("cookieSecure", doc.cookieSecure);
  const clientAddress = readClientAddress(doc.clientAddress, r);

  const placed: PlacedApp[] = [];
  const pods: Record<AppKey, readonly PodEntry[]> = {};
  const apps = doc.apps ?? [];
  if (!Array.isArray(apps)) r.fail("apps", apps, `must be a list of apps, not ${typeName(apps)}`);
  else {
    (apps as unknown[]).forEach((app, i) => {
      const path = joinPath("apps", i);
      if (!isRecord(app)) {
        sink.add(path, app, `must be a mapping (an app), not ${typeName(app)}`);
        return;
      }
      const reader = new FieldReader(pathUnder(path), false, new ErrorSink());
      const result = readAppFields(app, reader, { source: "file", allowed: APP_FIELDS, ...(cookieSecure !== undefined ? { defaults: { cookieSecure } } : {}) });
      const podReader = new FieldReader(pathUnder(path), false, new ErrorSink());
      const entries = readPodEntries(app.pods, podReader) ?? [];
      sink.addAll(podReader.errors);
      if (!result.ok) sink.addAll(result.errors);
      else {
        placed.push({ spec: result.value, path, namePath: joinPath(path, "name"), prefixPath: joinPath(path, "pathPrefix") });
        pods[appKey(result.value.namespace, result.value.name)] = entries;
      }
    });
  }
  for (const clash of findClashes(placed)) sink.add(clash.error.path, clash.error.value, clash.error.rule);
  if (!sink.ok) return { ok: false, errors: sink.errors };
  return {
    ok: true,
    value: {
      filePath,
      listen,
      gateway,
      ...(keysFile !== undefined ? { keys: { file: besideConfig(filePath, keysFile) } } : {}),
      state: { file: stateFile !== undefined ? besideConfig(filePath, stateFile) : defaultStateFile(filePath) },
      clientAddress,
      apps: placed.map((p) => p.spec),
      pods,
    },
  };
}

/** A stream of TicketedApp / Deployment documents: apps only, every other setting at its default. */
function parseAppStream(docs: readonly unknown[], filePath: string): ParseResult<LocalConfig> {
  const errors: SpecError[] = [];
  const placed: PlacedApp[] = [];
  docs.forEach((doc, i) => {
    const prefix = `documents[${i}]`;
    if (detectKind(doc) === "config") {
      errors.push(specError(prefix, typeName(doc), "a config document (listen, apps, …) must be the only document in its file"));
      return;
    }
    const result = readAppDocument(doc);
    if (result.kind === "invalid") errors.push(...prefixErrors(prefix, result.errors));
    else if (result.kind === "skipped") errors.push(specError(prefix, describeObject(doc), result.reason));
    else if (result.kind === "app") {
      const paths = result.spec.source === "TicketedApp" ? { namePath: "metadata.name", prefixPath: "spec.pathPrefix" } : { namePath: 'metadata.annotations["ipb-halle.de/k8sticket.deployment.app"]', prefixPath: 'metadata.annotations["ipb-halle.de/k8sticket.deployment.app"]' };
      placed.push({ spec: result.spec, path: prefix, namePath: `${prefix}.${paths.namePath}`, prefixPath: `${prefix}.${paths.prefixPath}` });
    }
    // "disabled" Deployments accept no new users: in a file they simply contribute no app.
  });
  for (const clash of findClashes(placed)) errors.push(clash.error);
  if (errors.length > 0) return { ok: false, errors };
  const listen: ListenConfig = { authz: defaultListen("authz"), xds: defaultListen("xds"), accessLog: defaultListen("accessLog"), admin: defaultListen("admin") };
  return { ok: true, value: { filePath, listen, gateway: { ...GATEWAY_DEFAULTS }, state: { file: defaultStateFile(filePath) }, clientAddress: CLIENT_ADDRESS_DEFAULTS, apps: placed.map((p) => p.spec), pods: {} } };
}

/** `listen`: each server's HOST:PORT, at its default when absent; `keda` only when given (no KEDA scaler otherwise). */
function readListen(value: unknown, r: FieldReader): ListenConfig {
  const section = r.section("listen", value, CONFIG_SECTION_FIELDS.listen) ?? {};
  const address = (key: keyof ListenConfig, fallback: string): HostPort => {
    const given = section[key] ?? fallback;
    const parsed = parseHostPort(given, true);
    if (parsed.ok) return parsed.value;
    r.fail(`listen.${key}`, given, parsed.rule);
    return { host: "127.0.0.1", port: 0 };
  };
  return {
    authz: address("authz", LISTEN_DEFAULTS.authz),
    xds: address("xds", LISTEN_DEFAULTS.xds),
    accessLog: address("accessLog", LISTEN_DEFAULTS.accessLog),
    admin: address("admin", LISTEN_DEFAULTS.admin),
    ...(section.keda === undefined || section.keda === null ? {} : { keda: address("keda", "") }),
  };
}

function readClientAddress(value: unknown, r: FieldReader): ClientAddressConfig {
  const c = r.section("clientAddress", value, CONFIG_SECTION_FIELDS.clientAddress) ?? {};
  return { trustedHops: r.int("clientAddress.trustedHops", c.trustedHops, { min: 0, max: COUNT_BOUNDS["clientAddress.trustedHops"] }) ?? CLIENT_ADDRESS_DEFAULTS.trustedHops };
}

function defaultListen(key: keyof typeof LISTEN_DEFAULTS): HostPort {
  const parsed = parseHostPort(LISTEN_DEFAULTS[key], true);
  if (!parsed.ok) throw new Error(`bug: bad default listen address ${LISTEN_DEFAULTS[key]}`);
  return parsed.value;
}

function besideConfig(filePath: string, file: string): string {
  return isAbsolute(file) ? file : join(dirname(filePath), file);
}

function checkListenerHost(value: string): string | undefined {
  const parsed = parseHostPort(`${value.includes(":") ? `[${value}]` : value}:1`);
  return parsed.ok ? undefined : "must be an IP address or host name";
}
