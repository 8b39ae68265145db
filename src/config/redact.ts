/**
 * Secrets never reach an error message, a log line or the admin API. Every
 * SpecError is built by specError (spec-errors.ts), which passes its value
 * and rule through here:
 *
 * - an error whose path names a secret-like field (`keys[0].secret`,
 *   `…["x/clientSecret"]`) gets its value replaced whole;
 * - inside a mapping or list value, every secret-like field is replaced, at
 *   any depth;
 * - a text that holds a secret-like field (`secret: …`, as a YAML line does)
 *   is replaced whole.
 *
 * A replaced string becomes `"<redacted, N bytes>"` (its UTF-8 length as
 * written), anything else `"<redacted>"`; absent values stay absent.
 */
const SECRET_NAME = /secret|passw(?:or)?d|token|credential|private.?key|api.?key/i;
const SECRET_FIELD_IN_TEXT = /(?:secret|passw(?:or)?d|token|credential|private.?key|api.?key)[\w-]*["']?\s*[:=]/i;
const REDACTED = /^<redacted(?:, \d+ bytes)?>$/;
/** Deeper than any config; a cyclic value (YAML anchors) stops here. */
const MAX_DEPTH = 32;
/** Shorter values match words of a rule by chance; a secret that short protects nothing. */
const MIN_ECHO_LENGTH = 4;

/** True when a field name (or a path) names a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** True when a text (a YAML file, one of its lines) holds a secret-like field. */
export function mentionsSecret(text: string): boolean {
  return SECRET_FIELD_IN_TEXT.test(text);
}

/** The stand-in for a secret value. Idempotent: a stand-in stays as it is. */
export function redacted(value: unknown): unknown {
  if (value === undefined || value === null || value === "") return value;
  if (typeof value !== "string") return "<redacted>";
  return REDACTED.test(value) ? value : `<redacted, ${Buffer.byteLength(value, "utf8")} bytes>`;
}

/** An error's value with every secret in it replaced. */
export function redactValue(path: string, value: unknown): unknown {
  return isSecretName(path) ? redacted(value) : scrub(value, 0);
}

/** An error's rule with its secret value (when the path names one) replaced where the rule quotes it. */
export function redactRule(path: string, value: unknown, rule: string): string {
  if (!isSecretName(path)) return rule;
  const text = typeof value === "string" || typeof value === "number" ? String(value) : "";
  return text.length >= MIN_ECHO_LENGTH && !REDACTED.test(text) ? rule.split(text).join("<redacted>") : rule;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return mentionsSecret(value) ? redacted(value) : value;
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) return "<redacted>";
  if (Array.isArray(value)) return value.map((item: unknown) => scrub(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSecretName(key) ? redacted(item) : scrub(item, depth + 1)]));
}
