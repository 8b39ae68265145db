/**
 * The ticket signing key file:
 *
 * ```yaml
 * active: k2            # the key that signs new tickets
 * keys:                 # every key listed verifies; keep an old key for a grace period after rotating
 *   - { id: k1, secret: <base64, ≥ 32 bytes> }
 *   - { id: k2, secret: <base64, ≥ 32 bytes> }
 * ```
 *
 * Rotation: add a new key, make it `active`, keep the old one until the
 * longest ticket lifetime has passed, then remove it.
 */
import { KEY_ID_PATTERN, KEY_ID_RULE, MIN_SECRET_BYTES, type KeyRing, type SigningKey } from "./key-ring.js";
import type { ParseResult } from "./app-spec.js";
import { FieldReader, pathUnder } from "./field-reader.js";
import { isRecord, specError, typeName } from "./spec-errors.js";
import { parseYamlDocuments } from "./yaml-documents.js";

export const KEY_FILE_FIELDS = ["active", "keys"] as const;
export const KEY_FIELDS = ["id", "secret"] as const;
export { MIN_SECRET_BYTES };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

export function parseKeyFile(text: string): ParseResult<KeyRing> {
  const yaml = parseYamlDocuments(text);
  if (!yaml.ok) return yaml;
  if (yaml.documents.length !== 1) return { ok: false, errors: [specError("", `${yaml.documents.length} documents`, "must be exactly one YAML document { active, keys }")] };
  return parseKeyRing(yaml.documents[0]);
}

/** The same rules on an already-parsed object (e.g. keys embedded elsewhere). */
export function parseKeyRing(doc: unknown): ParseResult<KeyRing> {
  if (!isRecord(doc)) return { ok: false, errors: [specError("", doc, `must be a mapping { active, keys }, not ${typeName(doc)}`)] };
  const r = new FieldReader(pathUnder(""));
  r.checkUnknown(doc, "", KEY_FILE_FIELDS);
  const keys: SigningKey[] = [];
  const seen = new Map<string, number>();
  if (!Array.isArray(doc.keys) || doc.keys.length === 0) r.fail("keys", doc.keys, "must be a non-empty list of { id, secret }");
  else {
    (doc.keys as unknown[]).forEach((item, i) => {
      const at = `keys.${i}`;
      if (!isRecord(item)) {
        r.fail(at, item, `must be a mapping { id, secret }, not ${typeName(item)}`);
        return;
      }
      r.checkUnknown(item, at, KEY_FIELDS);
      const id = r.required(`${at}.id`, item.id, (v) => r.string(`${at}.id`, v, (s) => (KEY_ID_PATTERN.test(s) ? undefined : KEY_ID_RULE)));
      if (id !== undefined) {
        const first = seen.get(id);
        if (first !== undefined) r.fail(`${at}.id`, id, `must be unique (also keys[${first}])`);
        else seen.set(id, i);
      }
      // Errors never echo the secret: specError redacts every value under a `secret` path.
      const secret = item.secret === undefined || item.secret === null || item.secret === "" ? r.fail(`${at}.secret`, item.secret, "is required") : decodeSecret(item.secret);
      if (secret === "not-base64") r.fail(`${at}.secret`, item.secret, "must be base64 (or base64url)");
      else if (secret instanceof Uint8Array && secret.length < MIN_SECRET_BYTES) {
        r.fail(`${at}.secret`, item.secret, `must decode to at least ${MIN_SECRET_BYTES} bytes (decodes to ${secret.length})`);
      }
      if (id !== undefined && secret instanceof Uint8Array && secret.length >= MIN_SECRET_BYTES) keys.push({ id, secret });
    });
  }
  const active = r.required("active", doc.active, (v) => r.string("active", v));
  if (active !== undefined && Array.isArray(doc.keys) && !seen.has(active)) {
    r.fail("active", active, `must name a key in keys (${[...seen.keys()].map((k) => `"${k}"`).join(", ") || "none"})`);
  }
  if (r.errors.length > 0 || active === undefined) return { ok: false, errors: [...r.errors] };
  return { ok: true, value: { active, keys } };
}

function decodeSecret(value: unknown): Uint8Array | "not-base64" {
  if (typeof value !== "string") return "not-base64";
  const text = value.trim();
  if (BASE64.test(text)) return new Uint8Array(Buffer.from(text, "base64"));
  if (BASE64URL.test(text)) return new Uint8Array(Buffer.from(text, "base64url"));
  return "not-base64";
}

