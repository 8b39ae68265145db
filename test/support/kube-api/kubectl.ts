/**
 * Runs the real kubectl against the test API server, bounded: every run has
 * a deadline (then SIGKILL), its own HOME and discovery cache (nothing is
 * read from or written to the user's ~/.kube), and a long-running
 * `get -w` is a handle the test kills.
 *
 * `/usr/bin/kubectl` is the Cloud SDK's dispatcher: it reads the server's
 * `/version` and runs the matching client (1.32 for our default version).
 * The versioned binaries beside it are run directly.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../wait-for.ts";
import type { KubeApiServer } from "./server.ts";

export const KUBECTL = "/usr/bin/kubectl";
export const VERSIONED_KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin";

/** The versioned binary (`kubectl.1.27` …) or the default one; throws a clear error when it is missing. */
export function kubectlBinary(version?: string): string {
  const path = version === undefined ? KUBECTL : join(VERSIONED_KUBECTL_DIR, `kubectl.${version}`);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`kubectl is missing: no executable ${path}. These tests run the real kubectl (v1.32 at ${KUBECTL}, versioned binaries kubectl.1.27 … kubectl.1.33 in ${VERSIONED_KUBECTL_DIR}); install the Cloud SDK's kubectl components.`);
  }
  return path;
}

export interface KubectlResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A kubectl bound to one kubeconfig, with its own HOME and cache directory. */
export class Kubectl {
  readonly #children = new Set<ChildProcess>();

  private constructor(
    readonly kubeconfig: string,
    readonly home: string,
  ) {}

  /** A HOME directory of its own, holding a kubeconfig that points at `server` (both removed by dispose()). */
  static async create(server: Pick<KubeApiServer, "writeKubeconfig">): Promise<Kubectl> {
    const home = await mkdtemp(join(tmpdir(), "kubectl-home-"));
    return new Kubectl(await server.writeKubeconfig(join(home, "kubeconfig")), home);
  }

  #spawn(binary: string, args: readonly string[]): ChildProcess {
    const child = spawn(binary, ["--kubeconfig", this.kubeconfig, "--cache-dir", join(this.home, "cache"), "--request-timeout=5s", ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: this.home, KUBECONFIG: this.kubeconfig },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#children.add(child);
    child.once("exit", () => this.#children.delete(child));
    return child;
  }

  /** Runs `kubectl ARGS` to completion (SIGKILL after `timeoutMs`), optionally feeding `input` on stdin. */
  async run(args: readonly string[], options: { binary?: string; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    const child = this.#spawn(options.binary ?? kubectlBinary(), args);
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdin?.end(options.input ?? "");
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("close", (c, s) => resolve([c, s])));
    clearTimeout(timer);
    if (signal === "SIGKILL") throw new Error(`kubectl ${args.join(" ")} did not finish within ${timeoutMs} ms; stderr:\n${stderr}`);
    return { code, signal, stdout, stderr };
  }

  /** Runs and expects exit code 0; returns stdout. */
  async ok(args: readonly string[], options: { binary?: string; input?: string } = {}): Promise<string> {
    const r = await this.run(args, options);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${String(r.code)}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Starts a long-running kubectl (e.g. `get -w`) whose output lines the test reads. */
  stream(args: readonly string[]): KubectlStream {
    return new KubectlStream(this.#spawn(kubectlBinary(), args));
  }

  /** Kills whatever is still running and removes the HOME directory. */
  async dispose(): Promise<void> {
    await Promise.all(
      [...this.#children].map(async (c) => {
        const closed = new Promise((resolve) => c.once("close", resolve));
        c.kill("SIGKILL");
        await closed;
      }),
    );
    await rm(this.home, { recursive: true, force: true });
  }
}

export class KubectlStream {
  readonly lines: string[] = [];
  stderr = "";
  readonly #child: ChildProcess;
  readonly #closed: Promise<void>;

  constructor(child: ChildProcess) {
    this.#child = child;
    let buffer = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      buffer += c;
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      this.lines.push(...parts);
    });
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (this.stderr += c));
    child.stdin?.end();
    this.#closed = new Promise((resolve) => child.once("close", () => resolve()));
  }

  /** Waits (bounded) for an output line matching `pattern`. */
  async line(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    await waitFor(() => this.lines.some((l) => pattern.test(l)), { timeoutMs, what: () => `a kubectl line matching ${String(pattern)}; got:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}` });
    return this.lines.find((l) => pattern.test(l)) ?? "";
  }

  /** Ends it (SIGTERM, as Ctrl-C would; SIGKILL if it lingers) and waits for the exit. */
  async kill(): Promise<void> {
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 3_000);
    await this.#closed;
    clearTimeout(timer);
  }
}
