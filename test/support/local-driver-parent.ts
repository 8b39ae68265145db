/**
 * A parent process for the orphan test: starts the orphan guard and a
 * ProcessDeployment of two pods that each start a grandchild, prints one
 * JSON line with every pid once the pods answer, then waits to be killed.
 * Run: node --import tsx test/support/local-driver-parent.ts
 */
import { fileURLToPath } from "node:url";
import { systemClock } from "../../src/common/clock.js";
import { silentLogger } from "../../src/common/logger.js";
import { OrphanGuard } from "../../src/local/orphan-guard.js";
import { ProcessDeployment } from "../../src/local/process-deployment.js";

const script = fileURLToPath(new URL("./local-pod.mjs", import.meta.url));
const guard = new OrphanGuard({ logger: silentLogger, graceMs: 500 });
await guard.start();
const d = new ProcessDeployment({
  app: "default/orphans",
  deployment: "orphans",
  command: { command: "node", args: [script], env: { CHILD: "1" }, cwd: process.cwd(), readinessPath: "/healthz" },
  replicas: 2,
  clock: systemClock,
  logger: silentLogger,
  guard,
  onChange: () => undefined,
  timing: { probePeriodMs: 50 },
});
d.start();
const pids: number[] = [];
while (pids.length < 4) {
  pids.length = 0;
  for (const pod of d.view()) {
    const me = await fetch(`http://127.0.0.1:${pod.port}/whoami`)
      .then((r) => r.json() as Promise<{ pid: number; child: number }>)
      .catch(() => undefined);
    if (me !== undefined) pids.push(me.pid, me.child);
  }
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write(JSON.stringify({ parent: process.pid, guard: guard.pid, pids }) + "\n");
setInterval(() => undefined, 60_000);
