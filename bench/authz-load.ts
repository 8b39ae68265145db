/**
 * Load generator for bench/authz.ts, run in its own process so that client
 * work does not share the server's event loop. Sends one pre-encoded
 * CheckRequest (raw bytes, no (de)serialisation on this side) with
 * `concurrency` calls in flight over `channels` channels, counts completed
 * calls during `durationMs` after `warmupMs`, then prints one JSON line:
 * {"calls":N,"seconds":S,"callsPerSecond":R,"errors":E}.
 *
 * argv[2]: JSON {address, requestBase64, durationMs, warmupMs, concurrency, channels}
 */
import * as grpc from "@grpc/grpc-js";

interface LoadOptions {
  readonly address: string;
  readonly requestBase64: string;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
  readonly channels: number;
}

const METHOD = "/envoy.service.auth.v3.Authorization/Check";
const identity = (b: Buffer): Buffer => b;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "{}") as LoadOptions;
  const request = Buffer.from(options.requestBase64, "base64");
  const clients = Array.from(
    { length: options.channels },
    // A local subchannel pool per client: really separate HTTP/2 connections.
    () => new grpc.Client(options.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
  );
  await Promise.all(clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))));

  let measuring = false;
  let stopped = false;
  let calls = 0;
  let errors = 0;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const fire = (client: grpc.Client): void => {
    inFlight++;
    client.makeUnaryRequest(METHOD, identity, identity, request, (err) => {
      inFlight--;
      if (measuring) {
        if (err === null) calls++;
        else errors++;
      }
      if (!stopped) fire(client);
      else if (inFlight === 0) drained?.();
    });
  };
  for (let i = 0; i < options.concurrency; i++) fire(clients[i % clients.length]);

  await sleep(options.warmupMs);
  measuring = true;
  const started = process.hrtime.bigint();
  await sleep(options.durationMs);
  measuring = false;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  stopped = true;
  await new Promise<void>((resolve) => {
    drained = resolve;
    if (inFlight === 0) resolve();
  });
  for (const c of clients) c.close();
  process.stdout.write(JSON.stringify({ calls, seconds, callsPerSecond: calls / seconds, errors }) + "\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((err: unknown) => {
  process.stderr.write(`authz-load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
