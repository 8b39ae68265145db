import { createHash } from "node:crypto";

/**
 * A short content hash: the version of one resource (its encoded bytes) or of
 * a set of resources (their names and versions). Deterministic, so every
 * replica and every restart names the same content with the same version.
 */
export function contentVersion(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("base64url").slice(0, 16);
}

/** The version of a set of resources: a hash over their sorted `name=version` pairs. */
export function setVersion(entries: Iterable<{ readonly name: string; readonly version: string }>): string {
  const parts: string[] = [];
  for (const e of entries) parts.push(`${e.name}=${e.version}`);
  parts.sort();
  return contentVersion(parts.join("\n"));
}
