/**
 * The I/O half of `ticketplane validate FILE…` (the pure half is
 * config/validate.ts): reads each file and, for a valid config file, the
 * files it references, as `serve` would at start-up — `keys.file` must be a
 * readable, valid keys file, and `state.file`'s directory must exist. Errors
 * about a referenced file are printed under the config file that names it:
 * `FILE: keys.file: KEYS-FILE: path: value — rule`.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { errorMessage } from "./common/errors.js";
import type { LocalConfig } from "./config/index.js";
import { checkDocumentText, formatFileErrors, parseKeyFile, specError } from "./config/index.js";

export interface ValidateReport {
  /** Every error line, and `FILE: ok` for each valid file, in the order of the files. */
  readonly lines: readonly string[];
  readonly failed: boolean;
}

export async function validateFiles(files: readonly string[]): Promise<ValidateReport> {
  const lines: string[] = [];
  let failed = false;
  for (const file of files) {
    const errors = await fileErrors(file);
    lines.push(...(errors.length === 0 ? [`${file}: ok`] : errors));
    failed ||= errors.length > 0;
  }
  return { lines, failed };
}

/** The error lines of one file (and of the files it references); empty when valid. */
async function fileErrors(file: string): Promise<string[]> {
  const read = await readText(file);
  if ("error" in read) return [`${file}: cannot read: ${read.error}`];
  const checked = checkDocumentText(read.text, file);
  if (!checked.result.ok) return formatFileErrors(file, checked.result.errors);
  return checked.kind === "config" ? referencedFileErrors(file, checked.result.value) : [];
}

async function referencedFileErrors(file: string, config: LocalConfig): Promise<string[]> {
  return [...(config.keys === undefined ? [] : await keysFileErrors(file, config.keys.file)), ...(await stateDirectoryErrors(file, config.state.file))];
}

async function keysFileErrors(file: string, keysFile: string): Promise<string[]> {
  const read = await readText(keysFile);
  if ("error" in read) return formatFileErrors(file, [specError("keys.file", keysFile, `must name a readable keys file (${read.error})`)]);
  const parsed = parseKeyFile(read.text);
  return parsed.ok ? [] : formatFileErrors(`${file}: keys.file: ${keysFile}`, parsed.errors);
}

/** The state file itself may be missing (first start), but it is written atomically beside itself. */
async function stateDirectoryErrors(file: string, stateFile: string): Promise<string[]> {
  const directory = dirname(stateFile);
  let problem: string | undefined;
  try {
    if (!(await stat(directory)).isDirectory()) problem = `${directory} is not a directory`;
  } catch (err) {
    problem = errorMessage(err);
  }
  return problem === undefined ? [] : formatFileErrors(file, [specError("state.file", stateFile, `its directory must exist (${problem})`)]);
}

/** A file's text, or why it cannot be read. */
async function readText(file: string): Promise<{ readonly text: string } | { readonly error: string }> {
  try {
    return { text: await readFile(file, "utf8") };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}
