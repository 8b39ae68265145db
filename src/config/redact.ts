/**
 * Secrets never reach an error message, a log line or the admin API. Every
 * SpecError is built by specError (spec-errors.ts), which passes its value
 * and rule through here. A value is replaced whole when its error is about a
 * secret:
 *
 * - the path names a secret-like field (`keys[0].secret`, `…["x/clientSecret"]`);
 * - the path is inside a key entry, other than its id (`keys[0]`,
 *   `keys[0].alg`): a key entry holds a secret, whatever its field is called;
 * - the rule suggests a secret-like field (`did you mean "secret"?`): a
 *   misspelt `secret:` holds one.
 *
 * Otherwise, inside a mapping or list value every secret-like field and every
 * key entry of a `keys` list is replaced, at any depth, and a text that holds
 * a secret-like field (`secret: …`, as a YAML line does) is replaced whole.
 * A replaced string becomes `"<redacted, N bytes>"` (its UTF-8 length as
 * written), anything else `"<redacted>"`; absent values stay absent.
 */
const NAMES = "secret|passw(?:or)?d|token|credential|private.?key|api.?key";
const SECRET_NAME = new RegExp(NAMES, "i");
const SECRET_FIELD_IN_TEXT = new RegExp(`(?:${NAMES})[\\w-]*["']?\\s*[:=]`, "i");
const SUGGESTS_SECRET = new RegExp(`did you mean "[^"]*(?:${NAMES})`, "i");
/** A key entry (`keys[0]`) or any of its fields but `id`. */
const IN_KEY_ENTRY = /(?:^|\.)keys\[\d+\](?!\.id$)/;
/** A `keys` field (its value, when a list, holds key entries). */
const KEYS_FIELD = /(?:^|\.)keys$/;
const REDACTED = /^<redacted(?:, \d+ bytes)?>$/;
/** Deeper than any config; a cyclic value (YAML anchors) stops here. */
const MAX_DEPTH = 32;
/** Shorter values match words of a rule by chance; a secret that short protects nothing. */
const MIN_ECHO_LENGTH = 4;

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

/** True when an error (its path and rule) is about a secret value. */
function isAboutSecret(path: string, rule: string): boolean {
  return SECRET_NAME.test(path) || IN_KEY_ENTRY.test(path) || SUGGESTS_SECRET.test(rule);
}

/** An error's value with every secret in it replaced. */
export function redactValue(path: string, value: unknown, rule: string): unknown {
  if (isAboutSecret(path, rule)) return redacted(value);
  return KEYS_FIELD.test(path) && Array.isArray(value) ? value.map(keyEntry) : scrub(value, 0);
}

/** An error's rule, with its secret value replaced where the rule quotes it. */
export function redactRule(path: string, value: unknown, rule: string): string {
  if (!isAboutSecret(path, rule)) return rule;
  const text = typeof value === "string" || typeof value === "number" ? String(value) : "";
  return text.length >= MIN_ECHO_LENGTH && !REDACTED.test(text) ? rule.split(text).join("<redacted>") : rule;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === "string") return mentionsSecret(value) ? redacted(value) : value;
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) return "<redacted>";
  if (Array.isArray(value)) return value.map((item: unknown) => scrub(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubField(key, item, depth)]));
}

function scrubField(key: string, item: unknown, depth: number): unknown {
  if (SECRET_NAME.test(key)) return redacted(item);
  if (key === "keys" && Array.isArray(item)) return item.map(keyEntry);
  return scrub(item, depth + 1);
}

/** A key entry with everything but its id replaced. */
function keyEntry(entry: unknown): unknown {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return redacted(entry);
  return Object.fromEntries(Object.entries(entry).map(([key, item]) => [key, key === "id" ? item : redacted(item)]));
}
