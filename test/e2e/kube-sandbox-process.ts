/**
 * Runs `scripts/kube-sandbox.ts` (what `npm run kube:sandbox` runs) as a
 * child process for e2e tests: reads its kubeconfig and pod-server lines,
 * takes its API server away and back by signal, and always ends it.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { waitFor } from "../support/wait-for.js";
import { ROOT } from "./serve-process.js";

export class SandboxProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  #exited = false;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts/kube-sandbox.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let buffer = "";
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        this.lines.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.child.once("exit", () => (this.#exited = true));
  }

  /** The value of the first stdout line starting with `key ` (e.g. "kubeconfig"). */
  value(key: string): string | undefined {
    return this.lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);
  }

  /** Waits for `count` lines starting with `key `. */
  async waitLines(key: string, count = 1): Promise<string[]> {
    await waitFor(() => this.lines.filter((l) => l.startsWith(`${key} `)).length >= count || this.#exited, { what: () => `${count} "${key}" line(s) from the sandbox; stderr:\n${this.stderr}` });
    if (this.#exited) throw new Error(`the sandbox exited; stderr:\n${this.stderr}`);
    return this.lines.filter((l) => l.startsWith(`${key} `)).map((l) => l.slice(key.length + 1));
  }

  /** Takes the API server away (connection refused) and waits until it is. */
  async pauseApiServer(): Promise<void> {
    const before = this.lines.filter((l) => l === "api-server paused").length;
    this.child.kill("SIGUSR1");
    await waitFor(() => this.lines.filter((l) => l === "api-server paused").length > before, { what: "the API server paused" });
  }

  async resumeApiServer(): Promise<void> {
    const before = this.lines.filter((l) => l === "api-server resumed").length;
    this.child.kill("SIGUSR2");
    await waitFor(() => this.lines.filter((l) => l === "api-server resumed").length > before, { what: "the API server resumed" });
  }

  async kill(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGKILL");
    await exited;
  }
}

/** A TCP port free on 127.0.0.1 right now (for the sandbox pods' port). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
