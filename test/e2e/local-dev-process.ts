/**
 * `ticketplane dev` as a child process for the e2e and browser tests: a
 * local-mode config with every server on port 0 (the demo app, one ticket
 * per pod, at most two pods, from zero, short timeouts so pods come and go
 * and users wait and get in within seconds) and the dev gateway on a free
 * port, read from its startup line.
 */
import assert from "node:assert/strict";
import { eventually } from "../support/wait-for.js";
import { ROOT, ServeProcess, TEST_CONFIG_HEAD, type TempDir } from "./serve-process.js";

const LONG = { timeoutMs: 60_000, intervalMs: 100 };

export function localConfig(): string {
  return `${TEST_CONFIG_HEAD}apps:
  - name: demo
    pathPrefix: /demo/
    ticketsPerPod: 1
    spareTickets: 0
    minPods: 0
    maxPods: 2
    podCooldown: 2s
    ticket: { probation: 4s, idleTimeout: 4s }
    queue: { retryAfter: 1s, reservation: 10s }
    scaleUp: { pods: 2, period: 1s }
    scaleDown: { pods: 2, period: 1s, stabilizationWindow: 0s }
    resolver: { waitingPageAfter: 0s }
    run:
      command: node
      args: [${ROOT}/examples/demo-app.mjs]
      readinessPath: /healthz
`;
}

export interface Dev {
  readonly process: ServeProcess;
  /** `http://host:port` of the dev gateway. */
  readonly gateway: string;
}

export async function startDev(dir: TempDir): Promise<Dev> {
  const file = await dir.write("local.yaml", localConfig());
  const p = new ServeProcess(["dev", "--config", file, "--gateway-port", "0", "--log-format", "json", "--log-level", "debug"]);
  try {
    await p.listening(60_000);
    const line = await eventually(() => p.stdoutLines.find((l) => l.startsWith("gateway listening on ")), { ...LONG, what: () => `the gateway line; stderr:\n${p.stderr.slice(-3000)}` });
    assert.match(line, /^gateway listening on 127\.0\.0\.1:\d+$/);
    return { process: p, gateway: `http://${line.slice("gateway listening on ".length)}` };
  } catch (err) {
    await p.kill();
    throw err;
  }
}
