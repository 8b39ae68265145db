/**
 * Flood generator for bench/abuse.ts, in its own process: sends `rate`
 * cookieless CheckRequests per second (pre-encoded, each from another source
 * address, as a crawler or a botnet would) for `durationMs`, never returning
 * a cookie, and prints one JSON line: {"sent":N,"errors":E}.
 *
 * argv[2]: JSON {address, requestsBase64: string[], rate, durationMs}
 */
import * as grpc from "@grpc/grpc-js";

interface FloodOptions {
  readonly address: string;
  readonly requestsBase64: readonly string[];
  readonly rate: number;
  readonly durationMs: number;
}

const METHOD = "/envoy.service.auth.v3.Authorization/Check";
const identity = (b: Buffer): Buffer => b;
const TICK_MS = 10;

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? "{}") as FloodOptions;
  const requests = o.requestsBase64.map((r) => Buffer.from(r, "base64"));
  const client = new grpc.Client(o.address, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())));
  let sent = 0;
  let errors = 0;
  let inFlight = 0;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - started;
      if (elapsed >= o.durationMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Catch up to the rate (bounded: never more than 200 calls in flight).
      const due = Math.floor((elapsed / 1000) * o.rate);
      for (; sent < due && inFlight < 200; sent++) {
        inFlight++;
        client.makeUnaryRequest(METHOD, identity, identity, requests[sent % requests.length] ?? Buffer.alloc(0), (err) => {
          inFlight--;
          if (err !== null) errors++;
        });
      }
    }, TICK_MS);
  });
  client.close();
  process.stdout.write(JSON.stringify({ sent, errors }) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`abuse-flood: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
