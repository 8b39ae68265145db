import assert from "node:assert/strict";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { silentLogger } from "../common/logger.js";
import type { FileRead } from "./config-watcher.js";
import { ConfigWatcher } from "./config-watcher.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup(initial: string, pollMs = 50, watchEvents = true): Promise<{ dir: string; file: string; reads: FileRead[]; watcher: ConfigWatcher }> {
  const dir = await mkdtemp(join(tmpdir(), "tp-watch-"));
  dirs.push(dir);
  const file = join(dir, "tp.yaml");
  await writeFile(file, initial);
  const reads: FileRead[] = [];
  const watcher = new ConfigWatcher({ file, logger: silentLogger, debounceMs: 20, pollMs, watchEvents, initialText: initial, onContent: (r) => void reads.push(r) });
  await watcher.start(new AbortController().signal);
  return { dir, file, reads, watcher };
}

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const texts = (reads: FileRead[]): string[] => reads.map((r) => (r.ok ? r.text : "ERR"));

describe("ConfigWatcher", () => {
  it("reports an in-place edit", async () => {
    const { file, reads, watcher } = await setup("a: 1\n");
    try {
      await writeFile(file, "a: 2\n");
      await waitFor(() => texts(reads).includes("a: 2\n"));
    } finally {
      await watcher.stop();
    }
  });

  it("follows an editor's rename-replace save, and keeps following after it", async () => {
    const { dir, file, reads, watcher } = await setup("a: 1\n");
    try {
      await writeFile(join(dir, ".tp.yaml.swp"), "a: 3\n");
      await rename(join(dir, ".tp.yaml.swp"), file);
      await waitFor(() => texts(reads).includes("a: 3\n"));
      await writeFile(join(dir, ".tp.yaml.swp"), "a: 4\n");
      await rename(join(dir, ".tp.yaml.swp"), file);
      await waitFor(() => texts(reads).includes("a: 4\n"));
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
      await waitFor(() => reads.some((r) => !r.ok));
      await writeFile(file, "a: 5\n");
      await waitFor(() => texts(reads).includes("a: 5\n"));
    } finally {
      await watcher.stop();
    }
  });

  it("notices changes by polling when no event arrives", async () => {
    const { file, reads, watcher } = await setup("a: 1\n", 30, false);
    try {
      await writeFile(file, "a: 6\n");
      await waitFor(() => texts(reads).includes("a: 6\n"));
    } finally {
      await watcher.stop();
    }
  });
});
