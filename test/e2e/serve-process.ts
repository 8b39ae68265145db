/**
 * Runs the real CLI (`src/cli.ts serve`) as a child process for e2e tests:
 * waits for its four "listening" lines (bounded), keeps its output for
 * assertions, and always ends it (`kill()` is safe to call in `after` hooks).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "../support/wait-for.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "src/cli.ts");

/**
 * The config file of a `serve --kubernetes` process in the e2e tests: every
 * server on a free loopback port, the peer API too (several replicas share
 * one host, and 9005 is the peer port's default).
 */
export const KUBE_PROCESS_CONFIG = `listen:
  authz: 127.0.0.1:0
  accessLog: 127.0.0.1:0
  xds: 127.0.0.1:0
  admin: 127.0.0.1:0
  peer: 127.0.0.1:0
`;

export type ServerName = "authz" | "accesslog" | "xds" | "peer" | "keda" | "resolver" | "admin";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ServeProcess {
  readonly child: ChildProcess;
  readonly addresses: Partial<Record<ServerName, string>> = {};
  readonly stdoutLines: string[] = [];
  stderr = "";
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;

  /** `env`: added to this process's environment (POD_NAME for a replica's Lease identity). */
  constructor(args: readonly string[], env: Readonly<Record<string, string>> = {}) {
    this.child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let buffer = "";
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.stdoutLines.push(line);
        const m = /^(authz|accesslog|xds|peer|keda|resolver|admin) listening on (\S+)$/.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined) this.addresses[m[1] as ServerName] = m[2];
      }
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolveExit) =>
      this.child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        resolveExit(this.#exit);
      }),
    );
  }

  get admin(): string {
    const a = this.addresses.admin;
    if (a === undefined) throw new Error("admin address unknown (not listening yet)");
    return `http://${a}`;
  }

  /** Resolves once all four servers have printed their line; rejects on exit or timeout, with the child's stderr. */
  async listening(timeoutMs = 30_000): Promise<this> {
    await waitFor(() => (["authz", "accesslog", "xds", "admin"] as const).every((s) => this.addresses[s] !== undefined) || this.#exit !== undefined, { timeoutMs, what: () => `the listening lines; stderr:\n${this.stderr}` });
    if (this.#exit !== undefined) throw new Error(`serve exited (${JSON.stringify(this.#exit)}) before listening; stderr:\n${this.stderr}`);
    return this;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.#exit === undefined) this.child.kill(sig);
  }

  /** Waits for the exit (bounded); kills with SIGKILL when the bound passes. */
  async waitExit(timeoutMs = 20_000): Promise<Exit> {
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the process for good (for `after` hooks): SIGKILL and wait. */
  async kill(): Promise<void> {
    if (this.#exit !== undefined) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

/** Starts `serve --config file` and waits until it listens. */
export async function startServe(configFile: string, extra: readonly string[] = []): Promise<ServeProcess> {
  const p = new ServeProcess(["serve", "--config", configFile, "--log-format", "json", "--log-level", "debug", ...extra]);
  try {
    return await p.listening();
  } catch (err) {
    await p.kill();
    throw err;
  }
}

/**
 * Two `serve --kubernetes` replicas with the same `args`: the first started
 * and holding the Lease (the owner) before the second starts (a follower).
 * On failure both are ended before the error is thrown.
 */
export async function startOwnerThenFollower(args: readonly string[]): Promise<{ owner: ServeProcess; follower: ServeProcess }> {
  const started: ServeProcess[] = [];
  try {
    const owner = new ServeProcess(args);
    started.push(owner);
    await owner.listening();
    await waitFor(() => /this replica leads \(Lease/.test(owner.stderr), { what: () => `the owner leads; stderr:\n${owner.stderr}` });
    const follower = new ServeProcess(args);
    started.push(follower);
    await follower.listening();
    return { owner, follower };
  } catch (err) {
    // The caller gets no handle to end them with: end them here.
    for (const p of started) await p.kill();
    throw err;
  }
}

/** Runs the CLI to completion (e.g. `validate`), bounded. */
export async function runCli(args: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new ServeProcess(args);
  const exit = await p.waitExit(timeoutMs);
  return { code: exit.code, stdout: p.stdoutLines.join("\n"), stderr: p.stderr };
}

export interface PodLine {
  readonly name: string;
  readonly port: number;
  readonly ready: boolean;
}

/** The head of a config file for tests: every server on port 0, the gateway listener on 127.0.0.1:10080, cookies without Secure. */
export const TEST_CONFIG_HEAD = `listen:
  authz: 127.0.0.1:0
  accessLog: 127.0.0.1:0
  xds: 127.0.0.1:0
  admin: 127.0.0.1:0
gateway:
  listenerAddress: 127.0.0.1
  listenerPort: 10080
cookieSecure: false
`;

/** A standalone config with every port 0 and one app `shiny` (ticketsPerPod 1) with the given pods. */
export function configText(pods: readonly PodLine[], extra = ""): string {
  const podLines = pods.map((p) => `      - { name: ${p.name}, address: 127.0.0.1:${p.port}, ready: ${p.ready} }`).join("\n");
  return `${TEST_CONFIG_HEAD}${extra}apps:
  - name: shiny
    pathPrefix: /shiny/
    ticketsPerPod: 1
    maxPods: 4
    queue: { maxLength: 10, retryAfter: 2s }
    pods:${pods.length === 0 ? " []" : "\n" + podLines}
`;
}

export interface TempDir {
  readonly dir: string;
  file(name: string): string;
  write(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), "tp-e2e-"));
  return {
    dir,
    file: (name) => join(dir, name),
    write: async (name, text) => {
      const f = join(dir, name);
      await writeFile(f, text);
      return f;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}
