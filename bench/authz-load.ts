/**
 * Open-loop load for bench/authz.ts, in its own process so that client work
 * does not share the server's event loop: sends pre-encoded CheckRequests
 * (raw bytes, in turn; no (de)serialisation on this side) at a fixed offered `rate`
 * per second, whatever the answers, over `channels` channels. After
 * `warmupMs` it prints {"event":"start"}, measures for `durationMs`, prints
 * {"event":"end", …counts and latencies}, and waits for the calls still in
 * flight before it exits.
 *
 * stdin: JSON {address, requestsBase64, rate, durationMs, warmupMs, channels}
 */
import * as grpc from "@grpc/grpc-js";

interface LoadOptions {
  readonly address: string;
  readonly requestsBase64: readonly string[];
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly channels: number;
}

const METHOD = "/envoy.service.auth.v3.Authorization/Check";
const identity = (b: Buffer): Buffer => b;
const MAX_IN_FLIGHT = 20_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += String(chunk);
  const o = JSON.parse(input) as LoadOptions;
  const requests = o.requestsBase64.map((r) => Buffer.from(r, "base64"));
  const clients = Array.from({ length: o.channels }, () => new grpc.Client(o.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }));
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))));

  let sent = 0;
  let inFlight = 0;
  let measuring = false;
  let windowOpened = false;
  let completed = 0;
  let errors = 0;
  let dropped = 0;
  const latencies: number[] = [];
  const started = performance.now();
  const end = o.warmupMs + o.durationMs;
  const send = (): void => {
    if (inFlight >= MAX_IN_FLIGHT) {
      dropped++;
      return;
    }
    inFlight++;
    const counted = measuring;
    const t0 = performance.now();
    const client = clients[sent % clients.length];
    client.makeUnaryRequest(METHOD, identity, identity, requests[sent % requests.length] ?? Buffer.alloc(0), (err) => {
      inFlight--;
      if (!counted) return;
      if (err !== null) errors++;
      else {
        completed++;
        latencies.push(performance.now() - t0);
      }
    });
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      // A tick that jumps past the whole window (a starved machine) still starts it: the run then reports few calls, not none.
      if (!windowOpened && elapsed >= o.warmupMs) {
        measuring = true;
        windowOpened = true;
        process.stdout.write(JSON.stringify({ event: "start" }) + "\n");
      }
      if (elapsed >= end) {
        clearInterval(timer);
        measuring = false;
        resolve();
        return;
      }
      for (const due = Math.floor((elapsed / 1000) * o.rate); sent < due; sent++) send();
    }, 1);
  });
  const sorted = latencies.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ event: "end", completed, errors, dropped, seconds: o.durationMs / 1000, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) }) + "\n");
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  for (const c of clients) c.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`authz-load: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
