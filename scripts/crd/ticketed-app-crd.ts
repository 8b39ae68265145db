/**
 * The TicketedApp CustomResourceDefinition, built from the field reader's
 * tables: the field set (TICKETED_APP_SPEC_FIELDS, SECTION_FIELDS), the
 * defaults (DEFAULTS), the bounds (COUNT_BOUNDS, DURATION_BOUNDS,
 * CONNECTION_TIMEOUT_FLOOR), and each field's rule text from docs/config.md's
 * "App fields" table (which src/config/docs.test.ts keeps in step with the
 * reader). What the tables cannot say — each field's type, lower bound and
 * pattern — is in FIELD_TYPES below; test/deploy/crd.test.ts feeds the same
 * sample objects to this schema and to parseTicketedApp and fails when they
 * disagree. A field the reader gains without an entry here fails the build
 * of the CRD, naming it.
 *
 * No `scale` subresource: a TicketedApp has no replicas of its own (its
 * Deployment has, and is scaled through its own `scale` subresource).
 */
import { DEFAULTS } from "../../src/config/app-spec.js";
import { SCALING_METRICS, SCALING_POLICIES, SECTION_FIELDS } from "../../src/config/app-fields.js";
import { CONNECTION_TIMEOUT_FLOOR, COUNT_BOUNDS, DURATION_BOUNDS, NUMBER_BOUNDS, type Bound } from "../../src/config/bounds.js";
import { formatDuration } from "../../src/config/duration.js";
import { TICKETED_APP_KIND, TICKETED_APP_SPEC_FIELDS } from "../../src/config/ticketed-app.js";

export const GROUP = "ticketplane.dev";
export const VERSION = "v1alpha1";
export const PLURAL = "ticketedapps";
export const SHORT_NAMES = ["tapp"];
export const CATEGORIES = ["ticketplane"];

/** A JSON-schema node as CRDs take it (apiextensions.k8s.io/v1 JSONSchemaProps, the subset we use). */
export type Schema = { [key: string]: unknown };

// Patterns are RE2 (the API server's regexp engine): no look-around, no back-references.
const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const PATH_CHARS = "[A-Za-z0-9\\-._~!$&'()*+,;=:@%/]";
const HOST_LABEL = "[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?";
const COOKIE_NAME = "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$";
/** A duration string as parseDuration reads it: "250ms", "10s", "1h30m", "1.5h", or a number of seconds. */
export const DURATION_PATTERN = "^\\s*([0-9]+(\\.[0-9]+)?|([0-9]+(\\.[0-9]+)?(ms|h|m|s))+)\\s*$";

type FieldType =
  | { readonly kind: "count"; readonly min: number; readonly bound: keyof typeof COUNT_BOUNDS }
  | { readonly kind: "range"; readonly min: number; readonly max: number }
  | { readonly kind: "duration"; readonly bound: keyof typeof DURATION_BOUNDS; readonly positive?: boolean; readonly atLeast?: Bound }
  | { readonly kind: "string"; readonly pattern: string; readonly maxLength?: number }
  | { readonly kind: "bool" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  /** A number that may have a fraction: `> 0` when exclusive, else `≥ min`. */
  | { readonly kind: "number"; readonly min: number; readonly exclusive: boolean; readonly bound: keyof typeof NUMBER_BOUNDS };

const dnsLabel: FieldType = { kind: "string", pattern: DNS_LABEL, maxLength: 63 };
const dnsSubdomain: FieldType = { kind: "string", pattern: DNS_SUBDOMAIN, maxLength: 253 };
const cookie: FieldType = { kind: "string", pattern: COOKIE_NAME };

/** Each leaf of the spec shape, by its dotted name; the reader's lower bounds and patterns. */
export const FIELD_TYPES: Readonly<Record<string, FieldType>> = {
  deployment: dnsSubdomain,
  service: dnsLabel,
  port: { kind: "range", min: 1, max: 65535 },
  path: { kind: "string", pattern: `^/${PATH_CHARS}*$` },
  pathPrefix: { kind: "string", pattern: `^/(${PATH_CHARS}*/)?$` },
  // A host name ("*." may lead) or an IPv4 address; the reader also refuses an all-digit last label.
  host: { kind: "string", pattern: `^(\\*\\.)?(${HOST_LABEL}\\.)*${HOST_LABEL}$`, maxLength: 255 },
  gateway: dnsLabel,
  ticketsPerPod: { kind: "count", min: 1, bound: "ticketsPerPod" },
  minPods: { kind: "count", min: 0, bound: "minPods" },
  maxPods: { kind: "count", min: 1, bound: "maxPods" },
  spareTickets: { kind: "count", min: 0, bound: "spareTickets" },
  podCooldown: { kind: "duration", bound: "podCooldown" },
  "ticket.probation": { kind: "duration", bound: "ticket.probation", positive: true },
  "ticket.idleTimeout": { kind: "duration", bound: "ticket.idleTimeout", positive: true },
  "ticket.maxLifetime": { kind: "duration", bound: "ticket.maxLifetime", positive: true },
  "ticket.connectionTimeout": { kind: "duration", bound: "ticket.connectionTimeout", atLeast: CONNECTION_TIMEOUT_FLOOR },
  "ticket.cookieName": cookie,
  "ticket.queueCookieName": cookie,
  "ticket.cookieSecure": { kind: "bool" },
  "queue.maxLength": { kind: "count", min: 0, bound: "queue.maxLength" },
  "queue.retryAfter": { kind: "duration", bound: "queue.retryAfter", positive: true },
  "queue.reservation": { kind: "duration", bound: "queue.reservation" },
  "limits.ticketsPerClient": { kind: "count", min: 0, bound: "limits.ticketsPerClient" },
  "limits.queuePerClient": { kind: "count", min: 0, bound: "limits.queuePerClient" },
  drainTimeout: { kind: "duration", bound: "drainTimeout" },
  "scaleUp.pods": { kind: "count", min: 1, bound: "scaleUp.pods" },
  "scaleUp.period": { kind: "duration", bound: "scaleUp.period", positive: true },
  "scaleUp.stabilizationWindow": { kind: "duration", bound: "scaleUp.stabilizationWindow" },
  "scaleDown.pods": { kind: "count", min: 1, bound: "scaleDown.pods" },
  "scaleDown.period": { kind: "duration", bound: "scaleDown.period", positive: true },
  "scaleDown.stabilizationWindow": { kind: "duration", bound: "scaleDown.stabilizationWindow" },
  "canary.deployment": dnsSubdomain,
  "canary.weight": { kind: "range", min: 0, max: 100 },
  "resolver.holdTimeout": { kind: "duration", bound: "resolver.holdTimeout", positive: true },
  "resolver.waitingPage": { kind: "bool" },
  "resolver.waitingPageAfter": { kind: "duration", bound: "resolver.waitingPageAfter" },
  "resolver.virtualService": dnsSubdomain,
  "scaling.policy": { kind: "enum", values: SCALING_POLICIES },
  "scaling.metric": { kind: "enum", values: SCALING_METRICS },
  "scaling.target": { kind: "number", min: 0, exclusive: true, bound: "scaling.target" },
  "scaling.increaseCooldown": { kind: "duration", bound: "scaling.increaseCooldown" },
  "scaling.decreaseCooldown": { kind: "duration", bound: "scaling.decreaseCooldown" },
  "scaling.tolerance": { kind: "number", min: 0, exclusive: false, bound: "scaling.tolerance" },
};

/** Sections whose fields are all required when the section is given (no default object). */
const REQUIRED_SECTIONS: Readonly<Record<string, readonly string[]>> = { canary: ["deployment", "weight"] };

/**
 * Defaults the API server may fill in: DEFAULTS where the reader's default is
 * a constant. Not here: pathPrefix (`/<name>/`), ticket.probation (shortened
 * to fit the idle timeout and lifetime), cookieSecure (a config file may
 * change it; a TicketedApp's is DEFAULTS'), and the canary.
 */
export function defaultOf(field: string): unknown {
  const D = DEFAULTS;
  const table: Readonly<Record<string, unknown>> = {
    port: D.podPort,
    path: D.podPath,
    gateway: D.gateway,
    ticketsPerPod: D.ticketsPerPod,
    minPods: D.minPods,
    maxPods: D.maxPods,
    spareTickets: D.spareTickets,
    podCooldown: formatDuration(D.podCooldownMs),
    "ticket.idleTimeout": formatDuration(D.ticket.idleTimeoutMs),
    "ticket.maxLifetime": formatDuration(D.ticket.maxLifetimeMs),
    "ticket.connectionTimeout": formatDuration(D.ticket.connectionTimeoutMs),
    "ticket.cookieName": D.ticket.cookieName,
    "ticket.queueCookieName": D.ticket.queueCookieName,
    "ticket.cookieSecure": D.ticket.cookieSecure,
    "queue.maxLength": D.queue.maxLength,
    "queue.retryAfter": formatDuration(D.queue.retryAfterMs),
    "queue.reservation": formatDuration(D.queue.reservationMs),
    "limits.ticketsPerClient": D.limits.ticketsPerClient,
    "limits.queuePerClient": D.limits.queuePerClient,
    drainTimeout: formatDuration(D.drainTimeoutMs),
    "scaleUp.pods": D.scaleUp.pods,
    "scaleUp.period": formatDuration(D.scaleUp.periodMs),
    "scaleUp.stabilizationWindow": formatDuration(D.scaleUp.stabilizationMs),
    "scaleDown.pods": D.scaleDown.pods,
    "scaleDown.period": formatDuration(D.scaleDown.periodMs),
    "scaleDown.stabilizationWindow": formatDuration(D.scaleDown.stabilizationMs),
    "resolver.holdTimeout": formatDuration(D.resolverHoldTimeoutMs),
    "resolver.waitingPage": D.resolverWaitingPage,
    "resolver.waitingPageAfter": formatDuration(D.resolverWaitingPageAfterMs),
    // Not metric, target, tolerance: the reader refuses them under the default policy (tickets).
    "scaling.policy": D.scaling.policy,
    "scaling.increaseCooldown": formatDuration(D.scaling.increaseCooldownMs),
    "scaling.decreaseCooldown": formatDuration(D.scaling.decreaseCooldownMs),
  };
  return table[field];
}

/** Rule text per field from docs/config.md's "App fields" table (`| \`field\` | default | rule |`). */
export function docRules(configMd: string): ReadonlyMap<string, string> {
  const start = configMd.indexOf("## App fields");
  if (start < 0) throw new Error('docs/config.md has no "## App fields" section');
  const rules = new Map<string, string>();
  for (const line of configMd.slice(start).split("\n").slice(1)) {
    if (line.startsWith("## ") || line.startsWith("### ")) break;
    const m = /^\| `([\w.]+)` \| (.*) \| (.*) \|$/.exec(line);
    if (m?.[1] !== undefined && m[3] !== undefined) rules.set(m[1], m[3].replaceAll("`", ""));
  }
  return rules;
}

/** One leaf of the spec: its type, bounds and pattern, its rule text, its default. Throws for a field without an entry (a new field must be described here). */
export function fieldSchema(field: string, rules: ReadonlyMap<string, string>): Schema {
  const type = FIELD_TYPES[field];
  if (type === undefined) throw new Error(`no schema for spec.${field}: the field reader has it; add it to FIELD_TYPES in scripts/crd/ticketed-app-crd.ts`);
  const rule = rules.get(field);
  if (rule === undefined) throw new Error(`docs/config.md's App fields table has no row for ${field}`);
  const node: Schema = { ...typeSchema(type), description: rule };
  const d = defaultOf(field);
  if (d !== undefined) node.default = d;
  return node;
}

function typeSchema(t: FieldType): Schema {
  switch (t.kind) {
    case "count":
      return { type: "integer", minimum: t.min, maximum: COUNT_BOUNDS[t.bound].value };
    case "range":
      return { type: "integer", minimum: t.min, maximum: t.max };
    case "bool":
      return { type: "boolean" };
    case "enum":
      return { type: "string", enum: [...t.values] };
    case "number":
      return { type: "number", minimum: t.min, ...(t.exclusive ? { exclusiveMinimum: true } : {}), maximum: NUMBER_BOUNDS[t.bound].value };
    case "string":
      return { type: "string", pattern: t.pattern, ...(t.maxLength === undefined ? {} : { maxLength: t.maxLength }) };
    case "duration": {
      // A whole number of seconds, or a duration string. The API server has no "number or string" (a fractional
      // number of seconds is written "1.5s"); minimum and maximum apply to the number, pattern to the string.
      const min = t.atLeast !== undefined ? Math.ceil(t.atLeast.value / 1000) : t.positive === true ? 1 : 0;
      return { "x-kubernetes-int-or-string": true, minimum: min, maximum: Math.floor(DURATION_BOUNDS[t.bound].value / 1000), pattern: DURATION_PATTERN };
    }
  }
}

function specSchema(rules: ReadonlyMap<string, string>): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of TICKETED_APP_SPEC_FIELDS) {
    const section = (SECTION_FIELDS as Readonly<Record<string, readonly string[]>>)[field];
    if (section === undefined) {
      properties[field] = fieldSchema(field, rules);
      continue;
    }
    const inner: Record<string, Schema> = {};
    for (const f of section) inner[f] = fieldSchema(`${field}.${f}`, rules);
    const required = REQUIRED_SECTIONS[field];
    properties[field] = {
      type: "object",
      description: SECTION_DESCRIPTIONS[field] ?? `${field} settings.`,
      properties: inner,
      ...(required === undefined ? { default: {} } : { required: [...required] }),
    };
  }
  return {
    type: "object",
    description: "The app: its Deployment, how requests reach it, its capacity and scaling. Rules across fields (minPods ≤ maxPods, ticket.probation ≤ ticket.idleTimeout, distinct cookie names, duration bounds) are checked by ticketplane, which reports a broken one as a Warning Event and a status condition naming the field.",
    properties,
  };
}

const SECTION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  ticket: "Ticket lifetime and cookies.",
  queue: "The waiting queue for users who find no free slot.",
  limits: "Per-client bounds (a client is an address); 0 means no bound.",
  scaling: "How the desired pod count is computed: the policy (tickets, formula, hpa) and its parameters.",
  scaleUp: "Scale-up rate limit and stabilization.",
  scaleDown: "Scale-down rate limit and stabilization.",
  canary: "A second Deployment that gets a share of new tickets.",
  resolver: "The scale-from-zero resolver.",
};

/**
 * The status ticketplane writes (subresource). Typed where it is known and
 * open to fields a newer ticketplane adds (x-kubernetes-preserve-unknown-fields),
 * so a controller upgrade never has its status pruned.
 */
export function statusSchema(): Schema {
  const count = (description: string): Schema => ({ type: "integer", minimum: 0, description });
  // Follows AppStatus (src/reconcile/status.ts), which the Kubernetes adapter writes; test/deploy/crd.test.ts checks one against the other.
  return {
    type: "object",
    description: "What ticketplane observes and decides for the app.",
    properties: {
      observedGeneration: { type: "integer", format: "int64", minimum: 0, description: "The spec generation this status was computed from." },
      pods: count("Pods of the app (both Deployments of a canary)."),
      readyPods: count("Pods that are Ready."),
      usedSlots: count("Slots held by tickets."),
      freeSlots: count("Free slots on pods that take new tickets."),
      queueLength: count("Users waiting in the queue."),
      desiredPods: count("Pods the scaling policy recommends."),
      mode: { type: "string", enum: ["Serve", "Proxy"], description: "Serve (requests go to the pods) or Proxy (the app is at zero; the resolver holds requests)." },
      policy: { type: "string", enum: [...SCALING_POLICIES], description: "The scaling policy in force." },
      replicasOwner: { type: "string", enum: ["ticketplane", "hpa", "keda"], description: "Who sets the Deployment's replicas: ticketplane, or an HPA / KEDA ScaledObject (then ticketplane only sets deletion costs and drains)." },
      lastScale: {
        type: "object",
        description: "The last replica change ticketplane made, and why.",
        properties: {
          time: { type: "string", format: "date-time" },
          deployment: { type: "string" },
          from: { type: "integer", minimum: 0 },
          to: { type: "integer", minimum: 0 },
          reason: { type: "string" },
        },
      },
      conditions: {
        type: "array",
        description: "Standard conditions: Ready, ScalingActive, ScalingLimited, ScaleToZeroReady.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        items: {
          type: "object",
          required: ["type", "status"],
          properties: {
            type: { type: "string", maxLength: 316 },
            status: { type: "string", enum: ["True", "False", "Unknown"] },
            observedGeneration: { type: "integer", format: "int64", minimum: 0 },
            lastTransitionTime: { type: "string", format: "date-time" },
            reason: { type: "string", maxLength: 1024 },
            message: { type: "string", maxLength: 32768 },
          },
        },
      },
    },
  };
}

/** The CRD as an object, ready to be written as YAML. */
export function buildTicketedAppCrd(configMd: string): Schema {
  const rules = docRules(configMd);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { kind: TICKETED_APP_KIND, listKind: `${TICKETED_APP_KIND}List`, plural: PLURAL, singular: TICKETED_APP_KIND.toLowerCase(), shortNames: SHORT_NAMES, categories: CATEGORIES },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Pods", type: "integer", jsonPath: ".status.pods" },
            { name: "Used", type: "integer", jsonPath: ".status.usedSlots" },
            { name: "Free", type: "integer", jsonPath: ".status.freeSlots" },
            { name: "Queue", type: "integer", jsonPath: ".status.queueLength" },
            { name: "Mode", type: "string", jsonPath: ".status.mode" },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: "A ticketed application: each user gets one exclusive slot on one pod through a ticket; ticketplane keeps spare slots warm, removes idle pods and scales to zero and back.",
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: specSchema(rules),
                status: statusSchema(),
              },
            },
          },
        },
      ],
    },
  };
}
