/**
 * The load side of bench:resolver, run as its own process so it does not
 * share an event loop with the proxy it measures.
 *
 *   resolver-load.ts serve                     for each line `URL CONCURRENCY MS` read from stdin: keep-alive GETs
 *                                              for MS; prints {"requests","errors","p50Ms","p99Ms"}; one warm
 *                                              process whose connections to each URL stay open from line to line
 *                                              (as a client's pool would); exits when stdin ends
 *   resolver-load.ts hold URL N                N GETs at once on N connections; prints "sent" once all are written,
 *                                              then {"ok","other"} when every answer is in
 */
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";

function get(url: URL, agent: Agent | false): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

async function load(url: URL, concurrency: number, ms: number, agent: Agent): Promise<void> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const status = await get(url, agent);
      if (status === 200) latencies.push(performance.now() - t);
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ requests: latencies.length, errors, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) }));
}

async function hold(url: URL, n: number): Promise<void> {
  const answers: Promise<number>[] = [];
  for (let i = 0; i < n; i++) answers.push(get(url, false));
  console.log("sent");
  const statuses = await Promise.all(answers);
  console.log(JSON.stringify({ ok: statuses.filter((s) => s === 200).length, other: statuses.filter((s) => s !== 200).length }));
}

/** `load` for each line of stdin, one at a time, each URL's agent kept for the next line to it. */
async function serve(): Promise<void> {
  const agents = new Map<string, Agent>();
  for await (const line of createInterface({ input: process.stdin })) {
    const [target = "", concurrency = "0", ms = "0"] = line.trim().split(" ");
    let agent = agents.get(target);
    if (agent === undefined) agents.set(target, (agent = new Agent({ keepAlive: true, maxSockets: Number(concurrency) })));
    await load(new URL(target), Number(concurrency), Number(ms), agent);
  }
  for (const agent of agents.values()) agent.destroy();
}

const [mode, target = "", a = "0"] = process.argv.slice(2);
if (mode === "serve") await serve();
else if (mode === "hold") await hold(new URL(target), Number(a));
else throw new Error(`resolver-load: unknown mode ${String(mode)}`);
