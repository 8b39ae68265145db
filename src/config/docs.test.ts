/** docs/config.md stays in step with the code: every known field and default key is documented. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { APP_FIELDS, SECTION_FIELDS } from "./app-fields.js";
import { DEFAULTS } from "./app-spec.js";
import { COUNT_BOUNDS, DURATION_BOUNDS, NUMBER_BOUNDS, countBoundText, durationBoundText, numberBoundText } from "./bounds.js";
import { formatDuration } from "./duration.js";
import { CONFIG_FIELDS, CONFIG_SECTION_FIELDS, GATEWAY_DEFAULTS, LISTEN_DEFAULTS } from "./config-file.js";
import { K8STICKET_DEPLOYMENT_ANNOTATIONS, K8STICKET_POD_PATH, K8STICKET_POD_PORT } from "./k8sticket.js";
import { KEY_FIELDS, KEY_FILE_FIELDS } from "./key-file.js";

const doc = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");

function assertDocumented(name: string): void {
  assert.ok(doc.includes(`\`${name}\``), `\`${name}\` missing from docs/config.md`);
}

/** The table row documenting `field` (the first, in the app or config-file table). */
function rowOf(field: string): string | undefined {
  return doc.split("\n").find((line) => line.startsWith(`| \`${field}\` |`));
}

describe("docs/config.md", () => {
  it("documents every app field and section field", () => {
    for (const f of APP_FIELDS) if (!(f in SECTION_FIELDS)) assertDocumented(f);
    for (const [section, fields] of Object.entries(SECTION_FIELDS)) {
      for (const f of fields) assertDocumented(section === "pods" ? `pods[i].${f}` : `${section}.${f}`);
    }
  });

  it("documents every config-file and key-file field", () => {
    for (const f of CONFIG_FIELDS) if (!(f in CONFIG_SECTION_FIELDS)) assertDocumented(f);
    for (const [section, fields] of Object.entries(CONFIG_SECTION_FIELDS)) for (const f of fields) assertDocumented(`${section}.${f}`);
    for (const f of KEY_FILE_FIELDS) assertDocumented(f);
    for (const f of KEY_FIELDS) assertDocumented(`keys[i].${f}`);
  });

  it("documents every k8sTicket key", () => {
    for (const k of [...K8STICKET_DEPLOYMENT_ANNOTATIONS, K8STICKET_POD_PORT, K8STICKET_POD_PATH]) assertDocumented(k);
  });

  it("states the default values the code uses", () => {
    for (const v of Object.values(LISTEN_DEFAULTS)) assertDocumented(v);
    assertDocumented(`${GATEWAY_DEFAULTS.listenerPort}`);
    assertDocumented(DEFAULTS.ticket.cookieName);
    assertDocumented(DEFAULTS.ticket.queueCookieName);
    for (const n of [DEFAULTS.queue.maxLength, DEFAULTS.scaleUp.pods, DEFAULTS.ticketsPerPod, DEFAULTS.podPort]) assertDocumented(String(n));
    for (const [field, v] of Object.entries({ policy: DEFAULTS.scaling.policy, metric: DEFAULTS.scaling.metric, target: DEFAULTS.scaling.target, tolerance: DEFAULTS.scaling.tolerance })) {
      assert.ok(rowOf(`scaling.${field}`)?.includes(`| \`${v}\` |`), `docs/config.md: row of scaling.${field} should state its default ${v}`);
    }
    for (const [field, n] of Object.entries(DEFAULTS.limits)) assert.ok(rowOf(`limits.${field}`)?.includes(`\`${n}\``), `docs/config.md: row of limits.${field} should state ${n}`);
  });

  it("states each duration default in its field's row", () => {
    const rows: [string, number][] = [
      ["podCooldown", DEFAULTS.podCooldownMs],
      ["ticket.probation", DEFAULTS.ticket.probationMs],
      ["ticket.idleTimeout", DEFAULTS.ticket.idleTimeoutMs],
      ["ticket.maxLifetime", DEFAULTS.ticket.maxLifetimeMs],
      ["ticket.connectionTimeout", DEFAULTS.ticket.connectionTimeoutMs],
      ["queue.retryAfter", DEFAULTS.queue.retryAfterMs],
      ["queue.reservation", DEFAULTS.queue.reservationMs],
      ["drainTimeout", DEFAULTS.drainTimeoutMs],
      ["scaleUp.period", DEFAULTS.scaleUp.periodMs],
      ["scaleUp.stabilizationWindow", DEFAULTS.scaleUp.stabilizationMs],
      ["scaleDown.period", DEFAULTS.scaleDown.periodMs],
      ["scaleDown.stabilizationWindow", DEFAULTS.scaleDown.stabilizationMs],
      ["scaling.increaseCooldown", DEFAULTS.scaling.increaseCooldownMs],
      ["scaling.decreaseCooldown", DEFAULTS.scaling.decreaseCooldownMs],
      ["resolver.holdTimeout", DEFAULTS.resolverHoldTimeoutMs],
      ["resolver.waitingPageAfter", DEFAULTS.resolverWaitingPageAfterMs],
      ["gateway.authzTimeout", GATEWAY_DEFAULTS.authzTimeoutMs],
    ];
    for (const [field, ms] of rows) {
      const row = rowOf(field);
      assert.ok(row?.includes(`\`${formatDuration(ms)}\``), `docs/config.md: row of ${field} should state ${formatDuration(ms)}`);
    }
  });

  it("states each upper bound and its reason in its field's row", () => {
    for (const [field, bound] of Object.entries(COUNT_BOUNDS)) assert.ok(rowOf(field)?.includes(countBoundText(bound)), `docs/config.md: row of ${field} should state ${countBoundText(bound)}`);
    for (const [field, bound] of Object.entries(NUMBER_BOUNDS)) assert.ok(rowOf(field)?.includes(numberBoundText(bound)), `docs/config.md: row of ${field} should state ${numberBoundText(bound)}`);
    for (const [field, bound] of Object.entries(DURATION_BOUNDS)) assert.ok(rowOf(field)?.includes(durationBoundText(bound)), `docs/config.md: row of ${field} should state ${durationBoundText(bound)}`);
  });
});
