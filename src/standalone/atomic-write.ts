/**
 * Crash-safe file replacement: write a temp file in the same directory,
 * fsync it, rename it over the target, fsync the directory. A reader sees
 * either the old content or the new, never a mix; a crash leaves at most a
 * stray temp file (named `<file>.tmp-…`), which `removeStaleTempFiles` cleans.
 */
import { open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";

let counter = 0;

/** The prefix every temp file of `file` starts with. */
export function tempPrefix(file: string): string {
  return `${basename(file)}.tmp-`;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = join(dirname(file), `${tempPrefix(file)}${process.pid}-${++counter}`);
  try {
    const handle = await open(temp, "w", mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw new TicketplaneError(ERROR_CODES.IO, `cannot write ${file}`, { file }, { cause: err });
  }
  await syncDirectory(dirname(file));
}

/** Makes the rename durable. Linux allows fsync on a directory handle; where a platform refuses, the rename is still atomic. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes temp files a crashed writer left next to `file`; returns their names. */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = dirname(file);
  const prefix = tempPrefix(file);
  const stale = (await readdir(dir)).filter((n) => n.startsWith(prefix));
  for (const name of stale) await rm(join(dir, name), { force: true });
  return stale;
}
