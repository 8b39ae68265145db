/**
 * The one place the AppSpec rules live. Every source (TicketedApp spec,
 * k8sTicket annotations, config-file app) first gathers its values into the
 * camelCase spec shape below, then calls readAppFields, which applies
 * DEFAULTS and every rule, and reports each broken rule with the source's
 * own path for the field.
 */
import { isIPv4 } from "node:net";
import type { AppSource, AppSpec, CanarySpec, ClientLimits, ParseResult, PodEntry, RateSettings, ScalingMetric, ScalingPolicy, ScalingSettings, TicketSettings } from "./app-spec.js";
import { DEFAULTS } from "./app-spec.js";
import { parsePodAddress } from "./address.js";
import { CONNECTION_TIMEOUT_FLOOR, COUNT_BOUNDS, DURATION_BOUNDS, NUMBER_BOUNDS } from "./bounds.js";
import { formatDuration } from "./duration.js";
import type { FieldReader } from "./field-reader.js";
import { checkCookieName, checkDnsLabel, checkDnsSubdomain, checkHostName, checkPath, checkPathPrefix } from "./names.js";
import { isRecord, typeName } from "./spec-errors.js";

/** Top-level fields of the spec shape (TicketedApp `spec`, config-file app). */
export const APP_FIELDS = [
  "name",
  "namespace",
  "deployment",
  "service",
  "port",
  "path",
  "pathPrefix",
  "host",
  "gateway",
  "ticketsPerPod",
  "minPods",
  "maxPods",
  "spareTickets",
  "podCooldown",
  "ticket",
  "queue",
  "limits",
  "drainTimeout",
  "scaleUp",
  "scaleDown",
  "scaling",
  "canary",
  "resolver",
  "pods",
] as const;

/** Fields of each nested section. */
export const SECTION_FIELDS = {
  ticket: ["probation", "idleTimeout", "maxLifetime", "connectionTimeout", "cookieName", "queueCookieName", "cookieSecure"],
  queue: ["maxLength", "retryAfter", "reservation"],
  limits: ["ticketsPerClient", "queuePerClient"],
  scaleUp: ["pods", "period", "stabilizationWindow"],
  scaleDown: ["pods", "period", "stabilizationWindow"],
  scaling: ["policy", "metric", "target", "increaseCooldown", "decreaseCooldown", "tolerance"],
  canary: ["deployment", "weight"],
  resolver: ["holdTimeout", "waitingPage", "waitingPageAfter", "virtualService"],
  pods: ["name", "address", "ready"],
} as const satisfies Record<string, readonly string[]>;

/** Why a field of the spec shape may be missing from a source. */
export const NOT_HERE: Readonly<Record<string, string>> = {
  pods: "not allowed here: only config-file apps list pods",
  namespace: "not allowed here: the namespace comes from metadata.namespace",
  name: "not allowed here: the name comes from metadata.name",
};

export interface AppFieldsOptions {
  readonly source: AppSource;
  /** Fields of APP_FIELDS this source accepts (the rest are unknown here). Default: all but `pods` and `namespace`. */
  readonly allowed?: readonly string[];
  /** Defaults that differ by source or by file (config-file `cookieSecure`, k8sTicket's spareTickets 2, …). */
  readonly defaults?: {
    readonly namespace?: string;
    readonly cookieSecure?: boolean;
    readonly spareTickets?: number;
    readonly minPods?: number;
  };
  /** Check unknown top-level fields (off when the source built the object itself, e.g. from annotations). */
  readonly checkUnknown?: boolean;
}

type Fields = Readonly<Record<string, unknown>>;

/** Reads a spec-shaped object into an AppSpec, or every error found. Never throws on bad input. */
export function readAppFields(fields: Fields, r: FieldReader, options: AppFieldsOptions): ParseResult<AppSpec> {
  const allowed = options.allowed ?? APP_FIELDS.filter((f) => f !== "pods" && f !== "namespace");
  if (options.checkUnknown !== false) r.checkUnknown(fields, "", allowed, NOT_HERE);
  const d = options.defaults ?? {};

  const id = readIdentity(fields, r, d.namespace);
  const capacity = readCapacity(fields, r, d);
  const spec: AppSpec = {
    source: options.source,
    ...id,
    ...capacity,
    ticket: readTicket(fields.ticket, r, d.cookieSecure),
    queue: readQueue(fields.queue, r),
    limits: readLimits(fields.limits, r),
    drainTimeoutMs: r.duration("drainTimeout", fields.drainTimeout, { max: DURATION_BOUNDS.drainTimeout }) ?? DEFAULTS.drainTimeoutMs,
    scaleUp: readRate("scaleUp", fields.scaleUp, r, DEFAULTS.scaleUp),
    scaleDown: readRate("scaleDown", fields.scaleDown, r, DEFAULTS.scaleDown),
    scaling: readScaling(fields.scaling, r),
    ...optional("canary", readCanary(fields.canary, r, id.deployment)),
    ...readResolver(fields.resolver, r),
  };
  return r.errors.length === 0 ? { ok: true, value: spec } : { ok: false, errors: [...r.errors] };
}

type Identity = Pick<AppSpec, "namespace" | "name" | "deployment" | "service" | "podPort" | "podPath" | "pathPrefix" | "host" | "gateway">;

function readIdentity(fields: Fields, r: FieldReader, namespaceDefault: string | undefined): Identity {
  const name = r.required("name", fields.name, (v) => r.string("name", v, checkDnsLabel));
  const deployment = r.string("deployment", fields.deployment, checkDnsSubdomain);
  const service = r.string("service", fields.service, checkDnsLabel);
  const host = r.string("host", fields.host, checkVirtualHost)?.toLowerCase();
  return {
    namespace: r.string("namespace", fields.namespace, checkDnsLabel) ?? namespaceDefault ?? DEFAULTS.namespace,
    name: name ?? "",
    ...optional("deployment", deployment),
    ...optional("service", service),
    podPort: r.int("port", fields.port, { min: 1, max: 65535 }) ?? DEFAULTS.podPort,
    podPath: r.string("path", fields.path, checkPath) ?? DEFAULTS.podPath,
    pathPrefix: r.string("pathPrefix", fields.pathPrefix, checkPathPrefix) ?? `/${name ?? "app"}/`,
    ...optional("host", host),
    gateway: r.string("gateway", fields.gateway, checkDnsLabel) ?? DEFAULTS.gateway,
  };
}

type Capacity = Pick<AppSpec, "ticketsPerPod" | "minPods" | "maxPods" | "spareTickets" | "podCooldownMs">;

function readCapacity(fields: Fields, r: FieldReader, d: NonNullable<AppFieldsOptions["defaults"]>): Capacity {
  const maxPods = r.int("maxPods", fields.maxPods, { min: 1, max: COUNT_BOUNDS.maxPods }) ?? DEFAULTS.maxPods;
  const minPodsGiven = r.int("minPods", fields.minPods, { min: 0, max: COUNT_BOUNDS.minPods });
  if (minPodsGiven !== undefined && minPodsGiven > maxPods) r.fail("minPods", fields.minPods, `must be ≤ maxPods (${maxPods})`);
  return {
    ticketsPerPod: r.int("ticketsPerPod", fields.ticketsPerPod, { min: 1, max: COUNT_BOUNDS.ticketsPerPod }) ?? DEFAULTS.ticketsPerPod,
    // A source default (k8sTicket: the Deployment's replicas) never exceeds maxPods.
    minPods: minPodsGiven ?? Math.min(d.minPods ?? DEFAULTS.minPods, maxPods),
    maxPods,
    spareTickets: r.int("spareTickets", fields.spareTickets, { min: 0, max: COUNT_BOUNDS.spareTickets }) ?? d.spareTickets ?? DEFAULTS.spareTickets,
    podCooldownMs: r.duration("podCooldown", fields.podCooldown, { max: DURATION_BOUNDS.podCooldown }) ?? DEFAULTS.podCooldownMs,
  };
}

/** An app's external host: a host name, or an IPv4 address (requests sent to the gateway's IP carry it as Host). */
function checkVirtualHost(value: string): string | undefined {
  return isIPv4(value) ? undefined : checkHostName(value);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function readTicket(value: unknown, r: FieldReader, cookieSecureDefault: boolean | undefined): TicketSettings {
  const t = r.section("ticket", value, SECTION_FIELDS.ticket) ?? {};
  const D = DEFAULTS.ticket;
  const times = readTicketTimes(t, r);
  const cookieName = r.string("ticket.cookieName", t.cookieName, checkCookieName) ?? D.cookieName;
  const queueCookieName = r.string("ticket.queueCookieName", t.queueCookieName, checkCookieName) ?? D.queueCookieName;
  if (cookieName === queueCookieName) r.fail("ticket.queueCookieName", queueCookieName, `must differ from ticket.cookieName ("${cookieName}")`);
  const cookieSecure = r.bool("ticket.cookieSecure", t.cookieSecure) ?? cookieSecureDefault ?? D.cookieSecure;
  return { ...times, cookieName, queueCookieName, cookieSecure };
}

type TicketTimes = Pick<TicketSettings, "probationMs" | "idleTimeoutMs" | "maxLifetimeMs" | "connectionTimeoutMs">;

function readTicketTimes(t: Fields, r: FieldReader): TicketTimes {
  const D = DEFAULTS.ticket;
  const idleTimeoutMs = r.duration("ticket.idleTimeout", t.idleTimeout, { positive: true, max: DURATION_BOUNDS["ticket.idleTimeout"] }) ?? D.idleTimeoutMs;
  const maxLifetimeMs = r.duration("ticket.maxLifetime", t.maxLifetime, { positive: true, max: DURATION_BOUNDS["ticket.maxLifetime"] }) ?? D.maxLifetimeMs;
  return {
    probationMs: readProbation(t, r, idleTimeoutMs, maxLifetimeMs),
    idleTimeoutMs,
    maxLifetimeMs,
    connectionTimeoutMs: r.duration("ticket.connectionTimeout", t.connectionTimeout, { atLeast: CONNECTION_TIMEOUT_FLOOR, max: DURATION_BOUNDS["ticket.connectionTimeout"] }) ?? D.connectionTimeoutMs,
  };
}

/**
 * ticket.probation: > 0, ≤ ticket.idleTimeout (an unconfirmed ticket never
 * outlives an idle one) and < ticket.maxLifetime. Absent, the default is
 * shortened to fit a shorter idle timeout or lifetime, as minPods' default
 * fits maxPods. No rule is checked against a field that broke its own.
 */
function readProbation(t: Fields, r: FieldReader, idleTimeoutMs: number, maxLifetimeMs: number): number {
  const given = r.duration("ticket.probation", t.probation, { positive: true, max: DURATION_BOUNDS["ticket.probation"] });
  if (given === undefined) return Math.max(1, Math.min(DEFAULTS.ticket.probationMs, idleTimeoutMs, maxLifetimeMs - 1));
  if (given > idleTimeoutMs && !r.failed("ticket.idleTimeout")) r.fail("ticket.probation", t.probation, `must be ≤ ticket.idleTimeout (${formatDuration(idleTimeoutMs)})`);
  if (given >= maxLifetimeMs && !r.failed("ticket.maxLifetime")) r.fail("ticket.probation", t.probation, `must be < ticket.maxLifetime (${formatDuration(maxLifetimeMs)})`);
  return given;
}

function readQueue(value: unknown, r: FieldReader): AppSpec["queue"] {
  const q = r.section("queue", value, SECTION_FIELDS.queue) ?? {};
  const D = DEFAULTS.queue;
  return {
    maxLength: r.int("queue.maxLength", q.maxLength, { min: 0, max: COUNT_BOUNDS["queue.maxLength"] }) ?? D.maxLength,
    retryAfterMs: r.duration("queue.retryAfter", q.retryAfter, { positive: true, max: DURATION_BOUNDS["queue.retryAfter"] }) ?? D.retryAfterMs,
    reservationMs: r.duration("queue.reservation", q.reservation, { max: DURATION_BOUNDS["queue.reservation"] }) ?? D.reservationMs,
  };
}

function readLimits(value: unknown, r: FieldReader): ClientLimits {
  const l = r.section("limits", value, SECTION_FIELDS.limits) ?? {};
  const D = DEFAULTS.limits;
  return {
    ticketsPerClient: r.int("limits.ticketsPerClient", l.ticketsPerClient, { min: 0, max: COUNT_BOUNDS["limits.ticketsPerClient"] }) ?? D.ticketsPerClient,
    queuePerClient: r.int("limits.queuePerClient", l.queuePerClient, { min: 0, max: COUNT_BOUNDS["limits.queuePerClient"] }) ?? D.queuePerClient,
  };
}

function readRate(field: "scaleUp" | "scaleDown", value: unknown, r: FieldReader, D: RateSettings): RateSettings {
  const s = r.section(field, value, SECTION_FIELDS[field]) ?? {};
  return {
    pods: r.int(`${field}.pods`, s.pods, { min: 1, max: COUNT_BOUNDS[`${field}.pods`] }) ?? D.pods,
    periodMs: r.duration(`${field}.period`, s.period, { positive: true, max: DURATION_BOUNDS[`${field}.period`] }) ?? D.periodMs,
    stabilizationMs: r.duration(`${field}.stabilizationWindow`, s.stabilizationWindow, { max: DURATION_BOUNDS[`${field}.stabilizationWindow`] }) ?? D.stabilizationMs,
  };
}

export const SCALING_POLICIES: readonly ScalingPolicy[] = ["tickets", "formula", "hpa"];
export const SCALING_METRICS: readonly ScalingMetric[] = ["requestsPerSecond", "tickets", "connections"];

/**
 * `scaling`: the policy and its parameters. `metric`, `target` and
 * `tolerance` mean nothing to the tickets policy, so giving them there is
 * an error rather than a setting silently ignored.
 */
function readScaling(value: unknown, r: FieldReader): ScalingSettings {
  const s = r.section("scaling", value, SECTION_FIELDS.scaling) ?? {};
  const D = DEFAULTS.scaling;
  const policy = r.string("scaling.policy", s.policy, oneOf(SCALING_POLICIES)) as ScalingPolicy | undefined;
  const settings: ScalingSettings = {
    policy: policy ?? D.policy,
    metric: (r.string("scaling.metric", s.metric, oneOf(SCALING_METRICS)) as ScalingMetric | undefined) ?? D.metric,
    target: r.number("scaling.target", s.target, { above: 0, max: NUMBER_BOUNDS["scaling.target"] }) ?? D.target,
    increaseCooldownMs: r.duration("scaling.increaseCooldown", s.increaseCooldown, { max: DURATION_BOUNDS["scaling.increaseCooldown"] }) ?? D.increaseCooldownMs,
    decreaseCooldownMs: r.duration("scaling.decreaseCooldown", s.decreaseCooldown, { max: DURATION_BOUNDS["scaling.decreaseCooldown"] }) ?? D.decreaseCooldownMs,
    tolerance: r.number("scaling.tolerance", s.tolerance, { atLeast: 0, max: NUMBER_BOUNDS["scaling.tolerance"] }) ?? D.tolerance,
  };
  if (settings.policy === "tickets") {
    for (const f of ["metric", "target", "tolerance"] as const) {
      if (s[f] !== undefined && s[f] !== null) r.fail(`scaling.${f}`, s[f], 'only the formula and hpa policies use it (scaling.policy is "tickets")');
    }
  } else if (settings.policy === "formula" && s.tolerance !== undefined && s.tolerance !== null) {
    r.fail("scaling.tolerance", s.tolerance, 'only the hpa policy uses it (scaling.policy is "formula")');
  }
  return settings;
}

function oneOf(values: readonly string[]): (s: string) => string | undefined {
  return (s) => (values.includes(s) ? undefined : `must be one of ${values.map((v) => `"${v}"`).join(", ")}`);
}

function readCanary(value: unknown, r: FieldReader, deployment: string | undefined): CanarySpec | undefined {
  const c = r.section("canary", value, SECTION_FIELDS.canary);
  if (c === undefined) return undefined;
  const canaryDeployment = r.required("canary.deployment", c.deployment, (v) => r.string("canary.deployment", v, checkDnsSubdomain));
  if (canaryDeployment !== undefined && canaryDeployment === deployment) {
    r.fail("canary.deployment", canaryDeployment, `must differ from deployment ("${deployment}")`);
  }
  const weight = r.required("canary.weight", c.weight, (v) => r.int("canary.weight", v, { min: 0, max: 100 }));
  if (canaryDeployment === undefined || weight === undefined) return undefined;
  return { deployment: canaryDeployment, weight };
}

type ResolverFields = Pick<AppSpec, "resolverHoldTimeoutMs" | "resolverWaitingPage" | "resolverWaitingPageAfterMs" | "resolverVirtualService">;

function readResolver(value: unknown, r: FieldReader): ResolverFields {
  const s = r.section("resolver", value, SECTION_FIELDS.resolver) ?? {};
  const virtualService = r.string("resolver.virtualService", s.virtualService, checkDnsSubdomain);
  return {
    resolverHoldTimeoutMs: r.duration("resolver.holdTimeout", s.holdTimeout, { positive: true, max: DURATION_BOUNDS["resolver.holdTimeout"] }) ?? DEFAULTS.resolverHoldTimeoutMs,
    resolverWaitingPage: r.bool("resolver.waitingPage", s.waitingPage) ?? DEFAULTS.resolverWaitingPage,
    resolverWaitingPageAfterMs: r.duration("resolver.waitingPageAfter", s.waitingPageAfter, { max: DURATION_BOUNDS["resolver.waitingPageAfter"] }) ?? DEFAULTS.resolverWaitingPageAfterMs,
    ...optional("resolverVirtualService", virtualService),
  };
}

/**
 * Standalone backends, the `pods` field of a config-file app (read apart from
 * the AppSpec, which describes the app, not what runs):
 * `{ name, address: "IPv4:PORT" | "[IPv6]:PORT", ready (default true) }`, names unique.
 */
export function readPodEntries(value: unknown, r: FieldReader): readonly PodEntry[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return r.fail("pods", value, `must be a list, not ${typeName(value)}`);
  const pods: PodEntry[] = [];
  const seen = new Map<string, number>();
  (value as unknown[]).forEach((item, i) => {
    const at = `pods.${i}`;
    if (!isRecord(item)) {
      r.fail(at, item, `must be a mapping { name, address, ready }, not ${typeName(item)}`);
      return;
    }
    r.checkUnknown(item, at, SECTION_FIELDS.pods);
    const name = r.required(`${at}.name`, item.name, (v) => r.string(`${at}.name`, v, checkDnsSubdomain));
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined) r.fail(`${at}.name`, name, `must be unique within the app (also pods[${first}])`);
      else seen.set(name, i);
    }
    const address = r.required(`${at}.address`, item.address, (v) => {
      const parsed = parsePodAddress(v);
      return parsed.ok ? parsed.value : r.fail(`${at}.address`, v, parsed.rule);
    });
    const ready = r.bool(`${at}.ready`, item.ready) ?? true;
    if (name !== undefined && address !== undefined) pods.push({ name, host: address.host, port: address.port, ready });
  });
  return pods;
}
