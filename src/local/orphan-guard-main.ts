/**
 * The orphan guard's own process (see orphan-guard.ts). Run by Node directly
 * (type stripping: erasable syntax only, Node built-ins only, no imports of
 * ours). Reads lines from stdin: `watch PGID` and `unwatch PGID`. When stdin
 * ends — the parent closed it, or the parent died and the kernel closed it,
 * SIGKILL included — it sends SIGTERM to every process group it watches,
 * then SIGKILL to those still there after the grace period, and exits.
 * SIGINT is ignored: Ctrl-C reaches the parent, which stops its pods itself.
 */
import { createInterface } from "node:readline";

const graceMs = Number(process.argv[2] ?? "2000");
const groups = new Set<number>();

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: the group is gone already, which is what we want.
    return false;
  }
}

function reap(): void {
  const alive = [...groups].filter((g) => signalGroup(g, "SIGTERM"));
  if (alive.length === 0) process.exit(0);
  setTimeout(() => {
    for (const g of alive) signalGroup(g, "SIGKILL");
    process.exit(0);
  }, graceMs);
}

process.on("SIGINT", () => undefined);
process.on("SIGTERM", reap);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const [verb, id] = line.trim().split(/\s+/);
  const pgid = Number(id);
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (verb === "watch") groups.add(pgid);
  else if (verb === "unwatch") groups.delete(pgid);
});
lines.on("close", reap);
process.stdout.write("ready\n");
