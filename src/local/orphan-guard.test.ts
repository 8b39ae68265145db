import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { isAlive } from "../../test/support/process-liveness.js";
import { waitFor } from "../../test/support/wait-for.js";

const PARENT = fileURLToPath(new URL("../../test/support/local-driver-parent.ts", import.meta.url));

describe("OrphanGuard", () => {
  it("kills every pod and its children when the parent is SIGKILLed, then exits", async () => {
    const parent = spawn(process.execPath, ["--import", "tsx", PARENT], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(parent, "exit");
    const [line] = (await once(createInterface({ input: parent.stdout }), "line")) as [string];
    const { guard, pids } = JSON.parse(line) as { guard: number; pids: number[] };
    assert.equal(pids.length, 4, "two pods, each with a grandchild");
    assert.ok(pids.every(isAlive) && isAlive(guard));
    parent.kill("SIGKILL");
    await exited;
    await waitFor(() => pids.every((pid) => !isAlive(pid)), { what: `pods ${pids.join(", ")} to die with their parent` });
    await waitFor(() => !isAlive(guard), { what: `the guard (pid ${guard}) to exit` });
  });
});
