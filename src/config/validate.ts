/**
 * `ticketplane validate FILE…`, as pure functions: the CLI reads the files
 * and prints the lines. A file may be a config file, a keys file, a
 * TicketedApp, a k8sTicket Deployment, or a stream of the last two, or a
 * local mode file (apps with `run`); the same rules as `serve` and `dev`
 * apply (validation runs parseConfigFile / parseLocalFile / parseKeyRing).
 */
import type { KeyRing } from "./key-ring.js";
import type { ParseResult, SpecError } from "./app-spec.js";
import { formatSpecError } from "./app-spec.js";
import type { LocalConfig } from "./config-file.js";
import { CONFIG_FIELDS, parseConfigFile } from "./config-file.js";
import { parseKeyRing } from "./key-file.js";
import { parseLocalFile } from "./local-file.js";
import { isRecord } from "./spec-errors.js";
import { parseYamlDocuments } from "./yaml-documents.js";

export type CheckedDocument = { readonly kind: "keys"; readonly result: ParseResult<KeyRing> } | { readonly kind: "config"; readonly result: ParseResult<LocalConfig> };

/** Reads one file's text as a keys file when it is one, else as a config file (or TicketedApp/Deployment stream). */
export function checkDocumentText(text: string, filePath: string): CheckedDocument {
  const yaml = parseYamlDocuments(text);
  const only = yaml.ok && yaml.documents.length === 1 ? yaml.documents[0] : undefined;
  if (isKeyDocument(only)) return { kind: "keys", result: parseKeyRing(only) };
  if (isLocalDocument(only)) {
    const local = parseLocalFile(text, filePath);
    return { kind: "config", result: local.ok ? { ok: true, value: local.value.config } : local };
  }
  return { kind: "config", result: parseConfigFile(text, filePath) };
}

/** A local mode file (`ticketplane dev`): a config document whose apps say how to start their pods (`run`). */
export function isLocalDocument(document: unknown): boolean {
  return isRecord(document) && Array.isArray(document.apps) && (document.apps as unknown[]).some((app) => isRecord(app) && app.run !== undefined);
}

/**
 * A keys document: `keys` is a list (in a config file it is a mapping
 * `{ file }`), beside `active` or beside no config-file field.
 */
export function isKeyDocument(document: unknown): boolean {
  if (!isRecord(document) || !Array.isArray(document.keys)) return false;
  return document.active !== undefined || !CONFIG_FIELDS.some((field) => field !== "keys" && document[field] !== undefined);
}

/** Every error in the text of one file; an empty list means the file is valid. */
export function validateDocumentText(text: string, filePath: string): SpecError[] {
  const { result } = checkDocumentText(text, filePath);
  return result.ok ? [] : [...result.errors];
}

/** One line per error: `FILE: path: value — rule` (path omitted when the error is about the whole file). */
export function formatFileErrors(filePath: string, errors: readonly SpecError[]): string[] {
  return errors.map((e) => (e.path === "" ? `${filePath}: ${formatSpecError(e).slice(2)}` : `${filePath}: ${formatSpecError(e)}`));
}
