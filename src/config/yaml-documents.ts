/**
 * YAML text → plain JS documents, or syntax errors with line and column.
 * Never throws: every YAML problem (syntax, duplicate keys, alias bombs)
 * becomes a SpecError whose path is `line L, column C` (1-based).
 */
import { LineCounter, parseAllDocuments } from "yaml";
import type { SpecError } from "./app-spec.js";
import { mentionsSecret, redacted } from "./redact.js";
import { specError } from "./spec-errors.js";

export type YamlDocumentsResult = { readonly ok: true; readonly documents: readonly unknown[] } | { readonly ok: false; readonly errors: readonly SpecError[] };

/** Parses every document of a YAML stream. Empty documents (e.g. a trailing `---`) are dropped. */
export function parseYamlDocuments(text: string): YamlDocumentsResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lines = text.split(/\r?\n/);
  // A line may be the middle of a multi-line secret: a file that holds secrets gets no line echoed.
  const hideLines = mentionsSecret(text);
  const lineAt = (line: number): unknown => {
    const source = (lines[line - 1] ?? "").trim();
    return hideLines ? redacted(source) : source;
  };
  const errors: SpecError[] = [];
  const documents: unknown[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      errors.push(specError(`line ${line}, column ${col}`, lineAt(line), `YAML ${e.code}: ${firstLine(e.message)}`));
    }
    if (doc.errors.length > 0) continue;
    try {
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      if (value !== null && value !== undefined) documents.push(value);
    } catch (err) {
      // toJS throws on alias expansion beyond maxAliasCount (a "billion laughs" file): report it as bad input.
      const { line, col } = lineCounter.linePos(doc.range[0]);
      errors.push(specError(`line ${line}, column ${col}`, lineAt(line), `YAML: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
  return errors.length === 0 ? { ok: true, documents } : { ok: false, errors };
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}
