import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppSpec, ParseResult, PodEntry, SpecError } from "./app-spec.js";
import { DEFAULTS } from "./app-spec.js";
import { APP_FIELDS, readAppFields, readPodEntries } from "./app-fields.js";
import { COUNT_BOUNDS, DURATION_BOUNDS, countBoundText, durationBoundText } from "./bounds.js";
import { FieldReader, pathUnder } from "./field-reader.js";

const POD_ADDRESS_RULE = 'must be "IPv4:PORT" or "[IPv6]:PORT" with a port 1–65535 (an IP address, not a host name: Envoy\'s EDS takes IP addresses only)';
const NUMERIC_HOST_RULE = "must be a host name, whose last label is not all digits (such a name reads as an IPv4 address, RFC 1123)";

/** A config-file app as config-file.ts reads one: the spec, and its pods apart (pod errors make the whole read fail). */
function read(fields: Record<string, unknown>, defaults?: { cookieSecure?: boolean }): ParseResult<AppSpec & { pods?: readonly PodEntry[] }> {
  const spec = readAppFields(fields, new FieldReader(pathUnder("apps[1]")), { source: "file", allowed: APP_FIELDS, ...(defaults ? { defaults } : {}) });
  const podReader = new FieldReader(pathUnder("apps[1]"));
  const pods = readPodEntries(fields["pods"], podReader);
  if (!spec.ok || podReader.errors.length > 0) return { ok: false, errors: [...(spec.ok ? [] : spec.errors), ...podReader.errors] };
  return { ok: true, value: pods === undefined ? spec.value : { ...spec.value, pods } };
}

function errorsOf(fields: Record<string, unknown>): readonly SpecError[] {
  const r = read({ name: "shiny", ...fields });
  assert.equal(r.ok, false, `expected errors for ${JSON.stringify(fields)}`);
  return r.ok ? [] : r.errors;
}

describe("readAppFields: defaults", () => {
  it("fills every default from DEFAULTS, pathPrefix from the name", () => {
    const r = read({ name: "shiny" });
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      source: "file",
      namespace: DEFAULTS.namespace,
      name: "shiny",
      podPort: 80,
      podPath: "/",
      pathPrefix: "/shiny/",
      gateway: "default",
      ticketsPerPod: 1,
      minPods: 0,
      maxPods: 1,
      spareTickets: 0,
      podCooldownMs: 10_000,
      ticket: DEFAULTS.ticket,
      queue: DEFAULTS.queue,
      limits: { ticketsPerClient: 20, queuePerClient: 20 },
      drainTimeoutMs: DEFAULTS.drainTimeoutMs,
      scaleUp: DEFAULTS.scaleUp,
      scaleDown: DEFAULTS.scaleDown,
      scaling: { policy: "tickets", metric: "requestsPerSecond", target: 100, increaseCooldownMs: 0, decreaseCooldownMs: 0, tolerance: 0.1 },
      resolverHoldTimeoutMs: DEFAULTS.resolverHoldTimeoutMs,
      resolverWaitingPage: true,
      resolverWaitingPageAfterMs: 3_000,
    });
  });

  it("takes a file-wide cookieSecure default, which an app may override", () => {
    const off = read({ name: "a" }, { cookieSecure: false });
    assert.ok(off.ok && off.value.ticket.cookieSecure === false);
    const on = read({ name: "a", ticket: { cookieSecure: true } }, { cookieSecure: false });
    assert.ok(on.ok && on.value.ticket.cookieSecure === true);
  });

  it("reads every field when given", () => {
    const r = read({
      name: "shiny",
      namespace: "team-a",
      deployment: "shiny-v1",
      service: "shiny-headless",
      port: 3838,
      path: "/app",
      pathPrefix: "/apps/shiny/",
      host: "Shiny.Example.com",
      gateway: "edge",
      ticketsPerPod: 3,
      minPods: 1,
      maxPods: 5,
      spareTickets: 2,
      podCooldown: "90s",
      ticket: { probation: "5s", idleTimeout: "2m", maxLifetime: "8h", connectionTimeout: "30s", cookieName: "tk", queueCookieName: "tq", cookieSecure: false },
      queue: { maxLength: 0, retryAfter: 3, reservation: "0s" },
      limits: { ticketsPerClient: 3, queuePerClient: 0 },
      drainTimeout: "10m",
      scaleUp: { pods: 2, period: "30s", stabilizationWindow: "0s" },
      scaleDown: { pods: 1, period: "1m", stabilizationWindow: "5m" },
      scaling: { policy: "hpa", metric: "connections", target: 2.5, increaseCooldown: "1m", decreaseCooldown: "2m", tolerance: 0.2 },
      canary: { deployment: "shiny-v2", weight: 10 },
      resolver: { holdTimeout: "45s", waitingPage: false, waitingPageAfter: "5s", virtualService: "shiny-vs" },
      pods: [
        { name: "shiny-0", address: "127.0.0.1:3838", ready: false },
        { name: "shiny-1", address: "[2001:db8::7]:3838" },
      ],
    });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value, {
      source: "file",
      namespace: "team-a",
      name: "shiny",
      deployment: "shiny-v1",
      service: "shiny-headless",
      podPort: 3838,
      podPath: "/app",
      pathPrefix: "/apps/shiny/",
      host: "shiny.example.com",
      gateway: "edge",
      ticketsPerPod: 3,
      minPods: 1,
      maxPods: 5,
      spareTickets: 2,
      podCooldownMs: 90_000,
      ticket: { probationMs: 5000, idleTimeoutMs: 120_000, maxLifetimeMs: 8 * 3_600_000, connectionTimeoutMs: 30_000, cookieName: "tk", queueCookieName: "tq", cookieSecure: false },
      queue: { maxLength: 0, retryAfterMs: 3000, reservationMs: 0 },
      limits: { ticketsPerClient: 3, queuePerClient: 0 },
      drainTimeoutMs: 600_000,
      scaling: { policy: "hpa", metric: "connections", target: 2.5, increaseCooldownMs: 60_000, decreaseCooldownMs: 120_000, tolerance: 0.2 },
      scaleUp: { pods: 2, periodMs: 30_000, stabilizationMs: 0 },
      scaleDown: { pods: 1, periodMs: 60_000, stabilizationMs: 300_000 },
      canary: { deployment: "shiny-v2", weight: 10 },
      resolverHoldTimeoutMs: 45_000,
      resolverWaitingPage: false,
      resolverWaitingPageAfterMs: 5_000,
      resolverVirtualService: "shiny-vs",
      pods: [
        { name: "shiny-0", host: "127.0.0.1", port: 3838, ready: false },
        { name: "shiny-1", host: "2001:db8::7", port: 3838, ready: true },
      ],
    });
  });
});

describe("readAppFields: rules (path, value, rule)", () => {
  const cases: [string, Record<string, unknown>, SpecError][] = [
    ["name required", { name: undefined }, { path: "apps[1].name", value: undefined, rule: "is required" }],
    ["name a DNS label", { name: "My_App" }, { path: "apps[1].name", value: "My_App", rule: "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)" }],
    ["namespace a DNS label", { namespace: "Team A" }, { path: "apps[1].namespace", value: "Team A", rule: "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)" }],
    ["deployment a subdomain", { deployment: "Shiny" }, { path: "apps[1].deployment", value: "Shiny", rule: "must be a DNS-1123 subdomain (dot-separated DNS-1123 labels, at most 253 characters)" }],
    ["service a label", { service: "svc.x" }, { path: "apps[1].service", value: "svc.x", rule: "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)" }],
    ["port ≥ 1", { port: 0 }, { path: "apps[1].port", value: 0, rule: "must be an integer 1–65535" }],
    ["port ≤ 65535", { port: 70000 }, { path: "apps[1].port", value: 70000, rule: "must be an integer 1–65535" }],
    ["port an integer, not a string", { port: "80" }, { path: "apps[1].port", value: "80", rule: "must be an integer 1–65535" }],
    ["path starts with /", { path: "app" }, { path: "apps[1].path", value: "app", rule: 'must start with "/"' }],
    ["pathPrefix ends with /", { pathPrefix: "/shiny" }, { path: "apps[1].pathPrefix", value: "/shiny", rule: 'must start and end with "/"' }],
    ["pathPrefix starts with /", { pathPrefix: "shiny/" }, { path: "apps[1].pathPrefix", value: "shiny/", rule: 'must start and end with "/"' }],
    ["host a host name", { host: "not a host" }, { path: "apps[1].host", value: "not a host", rule: "must be a host name (dot-separated labels of letters, digits and '-', at most 253 characters; \"*.\" may lead)" }],
    ["gateway a label", { gateway: "Edge" }, { path: "apps[1].gateway", value: "Edge", rule: "must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)" }],
    ["ticketsPerPod ≥ 1", { ticketsPerPod: 0 }, { path: "apps[1].ticketsPerPod", value: 0, rule: "must be an integer ≥ 1" }],
    ["ticketsPerPod an integer", { ticketsPerPod: 1.5 }, { path: "apps[1].ticketsPerPod", value: 1.5, rule: "must be an integer ≥ 1" }],
    ["minPods ≥ 0", { minPods: -1 }, { path: "apps[1].minPods", value: -1, rule: "must be an integer ≥ 0" }],
    ["maxPods ≥ 1", { maxPods: 0 }, { path: "apps[1].maxPods", value: 0, rule: "must be an integer ≥ 1" }],
    ["minPods ≤ maxPods", { minPods: 4, maxPods: 3 }, { path: "apps[1].minPods", value: 4, rule: "must be ≤ maxPods (3)" }],
    ["spareTickets ≥ 0", { spareTickets: -2 }, { path: "apps[1].spareTickets", value: -2, rule: "must be an integer ≥ 0" }],
    ["podCooldown a duration", { podCooldown: "ten" }, { path: "apps[1].podCooldown", value: "ten", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["podCooldown not negative", { podCooldown: -10 }, { path: "apps[1].podCooldown", value: -10, rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds, not negative' }],
    ["ticket a mapping", { ticket: "x" }, { path: "apps[1].ticket", value: "x", rule: "must be a mapping, not a string" }],
    ["ticket.idleTimeout > 0", { ticket: { idleTimeout: "0s" } }, { path: "apps[1].ticket.idleTimeout", value: "0s", rule: "must be a duration greater than zero" }],
    ["ticket.maxLifetime a duration", { ticket: { maxLifetime: true } }, { path: "apps[1].ticket.maxLifetime", value: true, rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["ticket.cookieName a token", { ticket: { cookieName: "a b" } }, { path: "apps[1].ticket.cookieName", value: "a b", rule: "must be a cookie name (RFC 6265 token: letters, digits and !#$%&'*+-.^_`|~)" }],
    ["cookie names differ", { ticket: { cookieName: "t", queueCookieName: "t" } }, { path: "apps[1].ticket.queueCookieName", value: "t", rule: 'must differ from ticket.cookieName ("t")' }],
    ["ticket.cookieSecure a boolean", { ticket: { cookieSecure: "yes" } }, { path: "apps[1].ticket.cookieSecure", value: "yes", rule: "must be true or false" }],
    ["ticket.probation > 0", { ticket: { probation: "0s" } }, { path: "apps[1].ticket.probation", value: "0s", rule: "must be a duration greater than zero" }],
    ["ticket.probation a duration", { ticket: { probation: "soon" } }, { path: "apps[1].ticket.probation", value: "soon", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["ticket.probation ≤ ticket.idleTimeout", { ticket: { probation: "2m", idleTimeout: "1m30s" } }, { path: "apps[1].ticket.probation", value: "2m", rule: "must be ≤ ticket.idleTimeout (1m30s)" }],
    ["ticket.probation ≤ the default ticket.idleTimeout", { ticket: { probation: "61s" } }, { path: "apps[1].ticket.probation", value: "61s", rule: "must be ≤ ticket.idleTimeout (1m)" }],
    ["ticket.probation < ticket.maxLifetime", { ticket: { probation: "1m", idleTimeout: "2m", maxLifetime: "1m" } }, { path: "apps[1].ticket.probation", value: "1m", rule: "must be < ticket.maxLifetime (1m)" }],
    ["no rule against an idleTimeout that broke its own", { ticket: { probation: "2m", idleTimeout: "often" } }, { path: "apps[1].ticket.idleTimeout", value: "often", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    [
      "ticket.connectionTimeout ≥ 5s",
      { ticket: { connectionTimeout: "4999ms" } },
      { path: "apps[1].ticket.connectionTimeout", value: "4999ms", rule: "must be ≥ 5s (gateways report open connections every second; a shorter timeout would count a live WebSocket as closed after a few late reports)" },
    ],
    [
      "ticket.connectionTimeout not zero",
      { ticket: { connectionTimeout: 0 } },
      { path: "apps[1].ticket.connectionTimeout", value: 0, rule: "must be ≥ 5s (gateways report open connections every second; a shorter timeout would count a live WebSocket as closed after a few late reports)" },
    ],
    ["ticket.connectionTimeout a duration", { ticket: { connectionTimeout: "1 min" } }, { path: "apps[1].ticket.connectionTimeout", value: "1 min", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["limits a mapping", { limits: 5 }, { path: "apps[1].limits", value: 5, rule: "must be a mapping, not a number" }],
    ["limits.ticketsPerClient ≥ 0", { limits: { ticketsPerClient: -1 } }, { path: "apps[1].limits.ticketsPerClient", value: -1, rule: "must be an integer ≥ 0" }],
    ["limits.ticketsPerClient an integer", { limits: { ticketsPerClient: 2.5 } }, { path: "apps[1].limits.ticketsPerClient", value: 2.5, rule: "must be an integer ≥ 0" }],
    ["limits.queuePerClient ≥ 0", { limits: { queuePerClient: -3 } }, { path: "apps[1].limits.queuePerClient", value: -3, rule: "must be an integer ≥ 0" }],
    ["limits.queuePerClient a number, not a string", { limits: { queuePerClient: "5" } }, { path: "apps[1].limits.queuePerClient", value: "5", rule: "must be an integer ≥ 0" }],
    ["unknown limits field", { limits: { ticketsPerClients: 2 } }, { path: "apps[1].limits.ticketsPerClients", value: 2, rule: 'unknown field (did you mean "ticketsPerClient"?)' }],
    ["queue.maxLength ≥ 0", { queue: { maxLength: -1 } }, { path: "apps[1].queue.maxLength", value: -1, rule: "must be an integer ≥ 0" }],
    ["queue.retryAfter > 0", { queue: { retryAfter: 0 } }, { path: "apps[1].queue.retryAfter", value: 0, rule: "must be a duration greater than zero" }],
    ["queue.reservation a duration", { queue: { reservation: "1x" } }, { path: "apps[1].queue.reservation", value: "1x", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["drainTimeout a duration", { drainTimeout: "-1s" }, { path: "apps[1].drainTimeout", value: "-1s", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds, not negative' }],
    ["scaleUp.pods ≥ 1", { scaleUp: { pods: 0 } }, { path: "apps[1].scaleUp.pods", value: 0, rule: "must be an integer ≥ 1" }],
    ["scaleDown.period > 0", { scaleDown: { period: "0s" } }, { path: "apps[1].scaleDown.period", value: "0s", rule: "must be a duration greater than zero" }],
    ["scaleDown.stabilizationWindow a duration", { scaleDown: { stabilizationWindow: [] } }, { path: "apps[1].scaleDown.stabilizationWindow", value: [], rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["canary.weight ≤ 100", { canary: { deployment: "b", weight: 101 } }, { path: "apps[1].canary.weight", value: 101, rule: "must be an integer 0–100" }],
    ["canary.weight ≥ 0", { canary: { deployment: "b", weight: -1 } }, { path: "apps[1].canary.weight", value: -1, rule: "must be an integer 0–100" }],
    ["canary.weight required", { canary: { deployment: "b" } }, { path: "apps[1].canary.weight", value: undefined, rule: "is required" }],
    ["canary.deployment required", { canary: { weight: 5 } }, { path: "apps[1].canary.deployment", value: undefined, rule: "is required" }],
    ["canary differs from deployment", { deployment: "a", canary: { deployment: "a", weight: 5 } }, { path: "apps[1].canary.deployment", value: "a", rule: 'must differ from deployment ("a")' }],
    ["resolver.holdTimeout > 0", { resolver: { holdTimeout: "0ms" } }, { path: "apps[1].resolver.holdTimeout", value: "0ms", rule: "must be a duration greater than zero" }],
    ["pods a list", { pods: { a: 1 } }, { path: "apps[1].pods", value: { a: 1 }, rule: "must be a list, not a mapping" }],
    ["pod a mapping", { pods: ["x"] }, { path: "apps[1].pods[0]", value: "x", rule: "must be a mapping { name, address, ready }, not a string" }],
    ["pod name required", { pods: [{ address: "1.2.3.4:80" }] }, { path: "apps[1].pods[0].name", value: undefined, rule: "is required" }],
    ["pod address required", { pods: [{ name: "a" }] }, { path: "apps[1].pods[0].address", value: undefined, rule: "is required" }],
    ["pod address needs a port", { pods: [{ name: "a", address: "1.2.3.4" }] }, { path: "apps[1].pods[0].address", value: "1.2.3.4", rule: POD_ADDRESS_RULE }],
    ["pod address an IP, not a host name", { pods: [{ name: "a", address: "localhost:8081" }] }, { path: "apps[1].pods[0].address", value: "localhost:8081", rule: POD_ADDRESS_RULE }],
    ["pod address a real IPv4 address", { pods: [{ name: "a", address: "300.1.1.1:80" }] }, { path: "apps[1].pods[0].address", value: "300.1.1.1:80", rule: POD_ADDRESS_RULE }],
    ["host not a broken IPv4 address", { host: "300.1.1.1" }, { path: "apps[1].host", value: "300.1.1.1", rule: NUMERIC_HOST_RULE }],
    ["pod ready a boolean", { pods: [{ name: "a", address: "10.0.0.1:1", ready: "yes" }] }, { path: "apps[1].pods[0].ready", value: "yes", rule: "must be true or false" }],
    ["pod names unique", { pods: [{ name: "a", address: "10.0.0.1:1" }, { name: "a", address: "10.0.0.1:2" }] }, { path: "apps[1].pods[1].name", value: "a", rule: "must be unique within the app (also pods[0])" }],
    ["unknown field, with a suggestion", { maxPod: 3 }, { path: "apps[1].maxPod", value: 3, rule: 'unknown field (did you mean "maxPods"?)' }],
    ["unknown field, case only", { ticketsperpod: 3 }, { path: "apps[1].ticketsperpod", value: 3, rule: 'unknown field (did you mean "ticketsPerPod"?)' }],
    ["unknown field, no close name", { frobnicate: 1 }, { path: "apps[1].frobnicate", value: 1, rule: "unknown field" }],
    ["unknown nested field", { queue: { maxLen: 3 } }, { path: "apps[1].queue.maxLen", value: 3, rule: 'unknown field (did you mean "maxLength"?)' }],
    ["scaling.policy one of three", { scaling: { policy: "kapacitor" } }, { path: "apps[1].scaling.policy", value: "kapacitor", rule: 'must be one of "tickets", "formula", "hpa"' }],
    ["scaling.metric one of three", { scaling: { policy: "formula", metric: "cpu" } }, { path: "apps[1].scaling.metric", value: "cpu", rule: 'must be one of "requestsPerSecond", "tickets", "connections"' }],
    ["scaling.target > 0", { scaling: { policy: "formula", target: 0 } }, { path: "apps[1].scaling.target", value: 0, rule: "must be a number > 0" }],
    ["scaling.target a number", { scaling: { policy: "formula", target: "100" } }, { path: "apps[1].scaling.target", value: "100", rule: "must be a number" }],
    ["scaling.tolerance ≥ 0", { scaling: { policy: "hpa", tolerance: -0.1 } }, { path: "apps[1].scaling.tolerance", value: -0.1, rule: "must be a number ≥ 0" }],
    ["scaling.tolerance ≤ 1", { scaling: { policy: "hpa", tolerance: 1.5 } }, { path: "apps[1].scaling.tolerance", value: 1.5, rule: "must be ≤ 1 (a ratio: 1 would ignore every change up to doubling)" }],
    ["scaling.target means nothing to the tickets policy", { scaling: { target: 5 } }, { path: "apps[1].scaling.target", value: 5, rule: 'only the formula and hpa policies use it (scaling.policy is "tickets")' }],
    ["scaling.tolerance means nothing to the formula policy", { scaling: { policy: "formula", tolerance: 0.2 } }, { path: "apps[1].scaling.tolerance", value: 0.2, rule: 'only the hpa policy uses it (scaling.policy is "formula")' }],
    ["scaling.decreaseCooldown a duration", { scaling: { decreaseCooldown: "soon" } }, { path: "apps[1].scaling.decreaseCooldown", value: "soon", rule: 'must be a duration such as "250ms", "10s", "5m", "1h30m", or a number of seconds' }],
    ["unknown scaling field", { scaling: { cooldwn: "1m" } }, { path: "apps[1].scaling.cooldwn", value: "1m", rule: "unknown field" }],
    ["unknown pod field", { pods: [{ name: "a", address: "10.0.0.1:1", weight: 2 }] }, { path: "apps[1].pods[0].weight", value: 2, rule: "unknown field" }],
  ];
  for (const [title, fields, expected] of cases) {
    it(title, () => assert.deepEqual(errorsOf(fields), [expected]));
  }

  it("returns every error, not the first", () => {
    const errors = errorsOf({ ticketsPerPod: 0, maxPods: 0, queue: { maxLength: -1 }, extra: 1 });
    assert.deepEqual(errors.map((e) => e.path).sort(), ["apps[1].extra", "apps[1].maxPods", "apps[1].queue.maxLength", "apps[1].ticketsPerPod"]);
  });

  it("ticket.probation breaks both rules at once when over idleTimeout and maxLifetime", () => {
    assert.deepEqual(errorsOf({ ticket: { probation: "2h", maxLifetime: "1h" } }).map((e) => e.rule), ["must be ≤ ticket.idleTimeout (1m)", "must be < ticket.maxLifetime (1h)"]);
  });

  it("ticket.probation may equal ticket.idleTimeout; connectionTimeout may be 5s; limits may be 0 (no bound)", () => {
    const r = read({ name: "a", ticket: { probation: "1m", connectionTimeout: "5s" }, limits: { ticketsPerClient: 0, queuePerClient: 0 } });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual([r.value.ticket.probationMs, r.value.ticket.connectionTimeoutMs, r.value.limits], [60_000, 5000, { ticketsPerClient: 0, queuePerClient: 0 }]);
  });

  it("the default ticket.probation shortens to fit a shorter idleTimeout or maxLifetime", () => {
    const short = read({ name: "a", ticket: { idleTimeout: "4s" } });
    assert.ok(short.ok && short.value.ticket.probationMs === 4000, JSON.stringify(short));
    const brief = read({ name: "a", ticket: { maxLifetime: "3s" } });
    assert.ok(brief.ok && brief.value.ticket.probationMs === 2999, JSON.stringify(brief));
  });

  it("an app host may be an IPv4 address (the Host header of requests sent to an IP)", () => {
    const r = read({ name: "a", host: "10.0.0.1" });
    assert.ok(r.ok && r.value.host === "10.0.0.1", JSON.stringify(r));
  });

  it("only the fields a source allows are known", () => {
    const r = readAppFields({ name: "a", pods: [] }, new FieldReader(pathUnder("spec")), { source: "TicketedApp" });
    assert.deepEqual(r, { ok: false, errors: [{ path: "spec.pods", value: [], rule: "not allowed here: only config-file apps list pods" }] });
  });
});

/** `fields` with `value` set at a dotted field: `queue.maxLength`, 3 → `{ …fields, queue: { …fields.queue, maxLength: 3 } }`. */
function withField(fields: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const [first = "", ...rest] = field.split(".");
  if (rest.length === 0) return { ...fields, [first]: value };
  const inner = fields[first];
  return { ...fields, [first]: withField(typeof inner === "object" && inner !== null ? { ...inner } : {}, rest.join("."), value) };
}

describe("readAppFields: upper bounds (the bound accepted, just over it refused with the bound and its reason)", () => {
  // [field, its bound, fields it needs beside]
  const counts: [keyof typeof COUNT_BOUNDS, number, Record<string, unknown>][] = [
    ["ticketsPerPod", 1000, {}],
    ["minPods", 10_000, { maxPods: 10_000 }],
    ["maxPods", 10_000, {}],
    ["spareTickets", 100_000, {}],
    ["queue.maxLength", 100_000, {}],
    ["limits.ticketsPerClient", 100_000, {}],
    ["limits.queuePerClient", 100_000, {}],
    ["scaleUp.pods", 10_000, {}],
    ["scaleDown.pods", 10_000, {}],
  ];
  for (const [field, bound, beside] of counts) {
    it(`${field} ≤ ${bound}`, () => {
      assert.ok(read(withField({ name: "shiny", ...beside }, field, bound)).ok, `${field}: ${bound} accepted`);
      assert.deepEqual(errorsOf(withField(beside, field, bound + 1)), [{ path: `apps[1].${field}`, value: bound + 1, rule: `must be ${countBoundText(COUNT_BOUNDS[field])}` }]);
    });
  }

  // [field, its bound as written, just over it, fields it needs beside]
  const durations: [keyof typeof DURATION_BOUNDS, string, string, Record<string, unknown>][] = [
    ["podCooldown", "720h", "720h1ms", {}],
    ["ticket.probation", "720h", "720h1ms", { ticket: { idleTimeout: "720h", maxLifetime: "8760h" } }],
    ["ticket.connectionTimeout", "720h", "720h1ms", {}],
    ["ticket.idleTimeout", "720h", "720h1ms", {}],
    ["ticket.maxLifetime", "8760h", "8760h1ms", {}],
    ["queue.retryAfter", "1h", "3601s", {}],
    ["queue.reservation", "720h", "720h1ms", {}],
    ["drainTimeout", "720h", "720h1ms", {}],
    ["scaleUp.period", "720h", "720h1ms", {}],
    ["scaleUp.stabilizationWindow", "720h", "720h1ms", {}],
    ["scaleDown.period", "720h", "720h1ms", {}],
    ["scaleDown.stabilizationWindow", "720h", "720h1ms", {}],
    ["scaling.increaseCooldown", "720h", "720h1ms", {}],
    ["scaling.decreaseCooldown", "720h", "720h1ms", {}],
    ["resolver.holdTimeout", "60m", "60m1ms", {}],
    ["resolver.waitingPageAfter", "60m", "60m1ms", {}],
  ];
  for (const [field, bound, over, beside] of durations) {
    it(`${field} ≤ ${bound}`, () => {
      assert.ok(read(withField({ name: "shiny", ...beside }, field, bound)).ok, `${field}: ${bound} accepted`);
      assert.deepEqual(errorsOf(withField(beside, field, over)), [{ path: `apps[1].${field}`, value: over, rule: `must be ${durationBoundText(DURATION_BOUNDS[field])}` }]);
    });
  }

  it("refuses maxLifetime: 80000000h, which the ticket token cannot hold, saying why", () => {
    assert.deepEqual(errorsOf({ ticket: { maxLifetime: "80000000h" } }), [
      {
        path: "apps[1].ticket.maxLifetime",
        value: "80000000h",
        rule: "must be ≤ 8760h (365 days; a year outlasts any session, and a ticket's expiry must fit its token's 48-bit milliseconds)",
      },
    ]);
  });

  it("a bare number of seconds is bounded too", () => {
    assert.deepEqual(errorsOf({ podCooldown: 2_592_001 }).map((e) => [e.path, e.rule]), [["apps[1].podCooldown", `must be ${durationBoundText(DURATION_BOUNDS.podCooldown)}`]]);
  });

  it("every bound is tested here", () => {
    assert.deepEqual([...counts.map(([f]) => f)].sort(), Object.keys(COUNT_BOUNDS).filter((f) => !f.startsWith("clientAddress.")).sort());
    assert.deepEqual([...durations.map(([f]) => f)].sort(), Object.keys(DURATION_BOUNDS).filter((f) => !f.startsWith("gateway.")).sort());
  });
});
