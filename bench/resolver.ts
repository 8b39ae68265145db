/**
 * bench:resolver — the scale-from-zero resolver (src/resolver/), measured in
 * one run against baselines measured in the same run:
 *
 * 1. Pass-through (the app awake): keep-alive GETs (32 at a time) from a
 *    separate load process, warm for the whole part, through the resolver
 *    and through nginx `proxy_pass` (one worker, upstream keep-alive) to the
 *    same upstream process, and straight to the upstream; both proxies keep
 *    their upstream connections alive (the resolver's pool, nginx's
 *    `keepalive`); one unmeasured warm-up slice each, then five rounds, each
 *    of four 1 s slices per proxy in turn, alternating which goes first (a
 *    burst of other work on this shared machine then falls on both sides of
 *    a round, not on one). Figure: resolver/nginx requests per second, one
 *    ratio per round (goal ≥ 0.5); info: the resolver's p99 minus the
 *    direct p99, and the resolver's CPU time per request (this process's,
 *    user + system, median over the rounds: less at the mercy of what else
 *    the machine runs than requests per second are).
 * 2. Cold start: a request held at zero, then the pod "becomes Ready" (the
 *    ports report it; the upstream process already listens): the time from
 *    that moment to the response, p99 over 200 cycles, as a ratio to the
 *    p99 of one direct request on a fresh connection (goal ≤ 3).
 * 3. 10,000 requests held at once (from a separate process): the heap they
 *    add (after gc; goal ≤ 64 MiB), and once the pod is Ready none lost
 *    (goal == 0), all answered 200.
 *
 * The resolver runs here behind fixed ports (the app is at one address;
 * no ticket decision): what is measured is the resolver's own work.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { systemClock } from "../src/common/clock.js";
import type { AppKey } from "../src/config/app-spec.js";
import type { Destination, ProbeTarget, Progress, ResolverApp, ResolverPorts, ResolverRequest } from "../src/resolver/index.js";
import { ResolverServer } from "../src/resolver/index.js";
import { freePort, spawnUpstream } from "../test/support/upstream-server.js";
import { figure, info, median, report } from "./lib/rounds.js";

const KEY: AppKey = "bench/app";
const APP: ResolverApp = { key: KEY, holdTimeoutMs: 120_000 };
const LOAD = fileURLToPath(new URL("./resolver-load.ts", import.meta.url));
const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };

/** The app at one address, asleep or Ready as the bench says. */
class BenchPorts implements ResolverPorts {
  target: ProbeTarget | undefined;
  readonly #listeners = new Set<(app: AppKey) => void>();
  constructor(readonly port: number) {}
  match(_host: string, path: string): ResolverApp | undefined {
    return path.startsWith("/app/") ? APP : undefined;
  }
  progress(): Progress {
    return this.target === undefined ? "waking" : "ready";
  }
  probeTarget(): ProbeTarget | undefined {
    return this.target;
  }
  wake(): void {}
  route(_app: AppKey, r: ResolverRequest): Destination {
    return { kind: "forward", host: "127.0.0.1", port: this.port, path: "/" + r.path.slice("/app/".length), setHeaders: [], responseHeaders: [] };
  }
  serving(): void {}
  // The bench's destinations carry no ticket: no connection activity is ever reported.
  opened(): void {}
  closed(): void {}
  subscribe(listener: (app: AppKey) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  set(ready: boolean): void {
    this.target = ready ? { host: "127.0.0.1", port: this.port, path: "/" } : undefined;
    for (const l of this.#listeners) l(KEY);
  }
}

/** The load process of the pass-through part: one run at a time, each answered with its result. */
class LoadDriver {
  readonly #child = spawn(process.execPath, ["--import", "tsx", LOAD, "serve"], { stdio: ["pipe", "pipe", "inherit"] });
  readonly #waiting: { resolve(r: LoadResult): void; reject(e: Error): void }[] = [];
  readonly #exited = new Promise<void>((resolve) =>
    this.#child.once("exit", (code) => {
      // A load process that dies fails the run it was in, instead of leaving it waiting.
      for (const w of this.#waiting.splice(0)) w.reject(new Error(`the load process exited ${String(code)}`));
      resolve();
    }),
  );

  constructor() {
    createInterface({ input: this.#child.stdout }).on("line", (line) => this.#waiting.shift()?.resolve(JSON.parse(line) as LoadResult));
  }

  /** GETs to `url`, 32 at a time for `ms`. */
  measure(url: string, ms: number): Promise<LoadResult> {
    if (this.#child.exitCode !== null) return Promise.reject(new Error(`the load process exited ${String(this.#child.exitCode)}`));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#child.stdin?.write(`${url} 32 ${String(ms)}\n`);
    });
  }

  async stop(): Promise<void> {
    this.#child.stdin?.end();
    await this.#exited;
  }
}

function run(args: readonly string[], onLine?: (line: string) => void): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", LOAD, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    for (const line of d.toString().split("\n")) if (line !== "") onLine?.(line);
  });
  const done = new Promise<string>((resolve, reject) => child.once("exit", (code) => (code === 0 ? resolve(out.trim().split("\n").at(-1) ?? "") : reject(new Error(`load exited ${String(code)}`)))));
  return { child, done };
}

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function startNginx(upstreamPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "tp-nginx-"));
  const port = await freePort();
  const conf = `worker_processes 1; daemon off; master_process off; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${String(upstreamPort)}; keepalive 64; }
  server { listen 127.0.0.1:${String(port)}; location /app/ { proxy_pass http://app/; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf")], { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 200; i++) {
    if ((await getStatus(`http://127.0.0.1:${String(port)}/app/`)) === 200) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill("SIGQUIT");
      }),
  };
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.end();
  });
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? Number.NaN;
}

const SLICES = 4;
const SLICE_MS = 1_000;

interface Urls {
  readonly direct: string;
  readonly nginx: string;
  readonly resolver: string;
}

/** One slice through `url` and the CPU time this process spent meanwhile: the resolver's, as this process does nothing else while the load runs. */
async function slice(driver: LoadDriver, url: string): Promise<LoadResult & { readonly cpuUs: number }> {
  const before = process.cpuUsage();
  const r = await driver.measure(url, SLICE_MS);
  const used = process.cpuUsage(before);
  if (r.errors > 0) throw new Error(`errors under load through ${url}: ${JSON.stringify(r)}`);
  return { ...r, cpuUs: used.user + used.system };
}

/** One round: SLICES slices through each proxy in turn, alternating which goes first. */
async function proxyRound(driver: LoadDriver, url: Urls, round: number): Promise<{ nginx: number; resolver: number; resolverCpuUs: number; resolverP99Ms: number }> {
  const sum = { nginx: 0, resolver: 0, resolverCpuUs: 0 };
  const p99s: number[] = [];
  for (let i = 0; i < SLICES; i++) {
    const order = (round * SLICES + i) % 2 === 0 ? (["nginx", "resolver"] as const) : (["resolver", "nginx"] as const);
    for (const who of order) {
      const r = await slice(driver, url[who]);
      sum[who] += r.requests;
      if (who !== "resolver") continue;
      sum.resolverCpuUs += r.cpuUs;
      p99s.push(r.p99Ms);
    }
  }
  return { ...sum, resolverP99Ms: median(p99s) };
}

async function passThrough(resolverPort: number, nginxPort: number, upstreamPort: number): Promise<void> {
  const url: Urls = { direct: `http://127.0.0.1:${String(upstreamPort)}/x`, nginx: `http://127.0.0.1:${String(nginxPort)}/app/x`, resolver: `http://127.0.0.1:${String(resolverPort)}/app/x` };
  const driver = new LoadDriver();
  const ratios: number[] = [];
  const added: number[] = [];
  const cpuPerRequest: number[] = [];
  try {
    // One unmeasured slice through each side first: the resolver is a JIT-compiled process that serves warm in
    // production, so its first seconds of compiling are not its throughput (nginx has nothing to warm up); so is the load.
    for (const u of [url.direct, url.nginx, url.resolver]) await driver.measure(u, 2 * SLICE_MS);
    for (let round = 0; round < 5; round++) {
      const direct = await slice(driver, url.direct);
      const r = await proxyRound(driver, url, round);
      ratios.push(r.resolver / r.nginx);
      added.push(r.resolverP99Ms - direct.p99Ms);
      cpuPerRequest.push(r.resolverCpuUs / r.resolver);
      console.error(`round ${String(round)}: direct ${String(direct.requests)} requests in one slice; nginx ${String(r.nginx)}, resolver ${String(r.resolver)} in ${String(SLICES)} slices of ${String(SLICE_MS)} ms; resolver p99 ${r.resolverP99Ms.toFixed(2)} ms, direct p99 ${direct.p99Ms.toFixed(2)} ms`);
    }
  } finally {
    await driver.stop();
  }
  report(figure("resolver.passthrough_vs_nginx", ratios, { op: ">=", limit: 0.5 }));
  report(info("resolver.passthrough_p99_added_ms", median(added), "ms"));
  report(info("resolver.passthrough_cpu_us_per_request", median(cpuPerRequest), "us"));
}

function timedGet(port: number, path: string): Promise<{ status: number; at: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, at: performance.now() }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function coldStart(resolver: ResolverServer, ports: BenchPorts, resolverPort: number, upstreamPort: number): Promise<void> {
  const cold: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 200; i++) {
    ports.set(false);
    const answer = timedGet(resolverPort, "/app/cold");
    while (resolver.heldCount(KEY) < 1) await new Promise((r) => setImmediate(r));
    const readyAt = performance.now();
    ports.set(true);
    const a = await answer;
    if (a.status !== 200) throw new Error(`cold start answered ${String(a.status)}`);
    cold.push(a.at - readyAt);
    const t = performance.now();
    await timedGet(upstreamPort, "/direct");
    direct.push(performance.now() - t);
  }
  report(figure("resolver.cold_start_p99_vs_direct", [p99(cold) / p99(direct)], { op: "<=", limit: 3 }));
  report(info("resolver.cold_start_p99_ms", p99(cold), "ms"));
  report(info("resolver.direct_request_p99_ms", p99(direct), "ms"));
}

async function manyHeld(resolver: ResolverServer, ports: BenchPorts, resolverPort: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc (npm run bench:resolver does)");
  const N = 10_000;
  ports.set(false);
  gc();
  const before = process.memoryUsage().heapUsed;
  const { done } = run(["hold", `http://127.0.0.1:${String(resolverPort)}/app/held`, String(N)]);
  const deadline = Date.now() + 120_000;
  while (resolver.heldCount(KEY) < N) {
    if (Date.now() > deadline) throw new Error(`only ${String(resolver.heldCount(KEY))} of ${String(N)} held`);
    await new Promise((r) => setTimeout(r, 50));
  }
  gc();
  const extraMiB = (process.memoryUsage().heapUsed - before) / (1024 * 1024);
  ports.set(true);
  const result = JSON.parse(await done) as { ok: number; other: number };
  report(figure("resolver.held_10k_extra_heap_mib", [extraMiB], { op: "<=", limit: 64 }, "MiB"));
  report(figure("resolver.held_10k_lost", [N - result.ok], { op: "==", limit: 0 }));
}

const upstreamPort = await freePort();
const upstream = await spawnUpstream("bench", upstreamPort);
const nginx = await startNginx(upstreamPort);
const ports = new BenchPorts(upstreamPort);
ports.set(true);
const resolver = new ResolverServer({ ports, listen: { host: "127.0.0.1", port: 0 }, clock: systemClock, logger: silentLogger, registry: new Registry(), maxHeldPerApp: 20_000 });
await resolver.start();
const resolverPort = resolver.address().port;
try {
  await passThrough(resolverPort, nginx.port, upstreamPort);
  await coldStart(resolver, ports, resolverPort, upstreamPort);
  await manyHeld(resolver, ports, resolverPort);
} finally {
  await resolver.stop();
  await nginx.stop();
  await upstream.stop();
}
