/**
 * `ticketplane validate FILE…`, as pure functions: the CLI reads the files
 * and prints the lines. A file may be a config file, a TicketedApp, a
 * k8sTicket Deployment, or a stream of the last two; the same rules as
 * `serve` apply (validation runs parseConfigFile).
 */
import type { SpecError } from "./app-spec.js";
import { formatSpecError } from "./app-spec.js";
import { parseConfigFile } from "./config-file.js";

/** Every error in the text of one file; an empty list means the file is valid. */
export function validateDocumentText(text: string, filePath: string): SpecError[] {
  const result = parseConfigFile(text, filePath);
  return result.ok ? [] : [...result.errors];
}

/** One line per error: `FILE: path: value — rule` (path omitted when the error is about the whole file). */
export function formatFileErrors(filePath: string, errors: readonly SpecError[]): string[] {
  return errors.map((e) => (e.path === "" ? `${filePath}: ${formatSpecError(e).slice(2)}` : `${filePath}: ${formatSpecError(e)}`));
}
