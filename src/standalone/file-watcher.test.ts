import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { waitFor } from "../../test/support/wait-for.js";
import { silentLogger } from "../common/logger.js";
import { systemClock } from "../common/clock.js";
import type { FileRead } from "./file-watcher.js";
import { FileWatcher } from "./file-watcher.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup(initial: string, pollMs = 50, watchEvents = true): Promise<{ dir: string; file: string; reads: FileRead[]; watcher: FileWatcher }> {
  const dir = await mkdtemp(join(tmpdir(), "tp-watch-"));
  dirs.push(dir);
  const file = join(dir, "tp.yaml");
  await writeFile(file, initial);
  const reads: FileRead[] = [];
  const watcher = new FileWatcher({ file, clock: systemClock, logger: silentLogger, debounceMs: 20, pollMs, watchEvents, initialText: initial, onContent: (r) => void reads.push(r) });
  await watcher.start();
  return { dir, file, reads, watcher };
}


const texts = (reads: FileRead[]): string[] => reads.map((r) => (r.ok ? r.text : "ERR"));

describe("FileWatcher", () => {
  it("reports an in-place edit", async () => {
    const { file, reads, watcher } = await setup("a: 1\n");
    try {
      await writeFile(file, "a: 2\n");
      await waitFor(() => texts(reads).includes("a: 2\n"), { timeoutMs: 5_000 });
    } finally {
      await watcher.stop();
    }
  });

  it("follows an editor's rename-replace save, and keeps following after it", async () => {
    const { dir, file, reads, watcher } = await setup("a: 1\n");
    try {
      await writeFile(join(dir, ".tp.yaml.swp"), "a: 3\n");
      await rename(join(dir, ".tp.yaml.swp"), file);
      await waitFor(() => texts(reads).includes("a: 3\n"), { timeoutMs: 5_000 });
      await writeFile(join(dir, ".tp.yaml.swp"), "a: 4\n");
      await rename(join(dir, ".tp.yaml.swp"), file);
      await waitFor(() => texts(reads).includes("a: 4\n"), { timeoutMs: 5_000 });
    } finally {
      await watcher.stop();
    }
  });

  it("does not report unchanged content, but reload() forces a report", async () => {
    const { file, reads, watcher } = await setup("a: 1\n");
    try {
      await writeFile(file, "a: 1\n");
      await watcher.reload();
      assert.deepEqual(texts(reads), ["a: 1\n"], "only the forced reload reported it");
    } finally {
      await watcher.stop();
    }
  });

  it("reports a file that cannot be read, then its return", async () => {
    const { file, reads, watcher } = await setup("a: 1\n");
    try {
      await rm(file);
      await waitFor(() => reads.some((r) => !r.ok), { timeoutMs: 5_000, what: "a read that failed" });
      await writeFile(file, "a: 5\n");
      await waitFor(() => texts(reads).includes("a: 5\n"), { timeoutMs: 5_000 });
    } finally {
      await watcher.stop();
    }
  });

  it("notices changes by polling when no event arrives", async () => {
    const { file, reads, watcher } = await setup("a: 1\n", 30, false);
    try {
      await writeFile(file, "a: 6\n");
      await waitFor(() => texts(reads).includes("a: 6\n"), { timeoutMs: 5_000 });
    } finally {
      await watcher.stop();
    }
  });
});
