/**
 * One run of a pod's command as a child process: in its own process group
 * (so stopping it stops whatever it started, and the orphan guard can kill
 * the group if ticketplane dies), with PORT and POD_NAME in its
 * environment, its output logged line by line under the pod's name.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Clock } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { PodCommand } from "../config/local-file.js";

/** How a run ended: an exit code, a signal, or a failure to start at all (ENOENT, EACCES). */
export type PodExit = { readonly code: number | null; readonly signal: NodeJS.Signals | null } | { readonly error: string };

export interface PodProcessOptions {
  readonly pod: string;
  readonly port: number;
  readonly command: PodCommand;
  readonly logger: Logger;
}

export class PodProcess {
  /** Settles once the process is gone (never rejects). */
  readonly exited: Promise<PodExit>;
  readonly #child: ChildProcess;
  #gone = false;

  constructor(options: PodProcessOptions) {
    const { command, pod, port, logger } = options;
    // `node` is the Node running ticketplane: the demo works with whatever `node` is (or is not) on PATH.
    const program = command.command === "node" ? process.execPath : command.command;
    this.#child = spawn(program, [...command.args], {
      cwd: command.cwd,
      env: { ...process.env, ...command.env, PORT: String(port), POD_NAME: pod },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const [stream, level] of [[this.#child.stdout, "info"], [this.#child.stderr, "warn"]] as const) {
      if (stream !== null) createInterface({ input: stream }).on("line", (line) => logger[level](line, { pod, stream: level === "info" ? "stdout" : "stderr" }));
    }
    this.exited = new Promise<PodExit>((resolve) => {
      this.#child.on("error", (err) => {
        // A spawn failure emits no exit: this is the end of the run.
        if (this.#child.pid === undefined) resolve({ error: err.message });
      });
      this.#child.once("exit", (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      this.#gone = true;
    });
  }

  /** The process (and group) id; undefined when the spawn failed. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  get gone(): boolean {
    return this.#gone;
  }

  /** Sends `signal` to the pod's whole process group. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined || this.#gone) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group ended between the check and the kill; `exited` tells the rest.
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs` on `clock`; resolves once the process has exited. */
  async stop(clock: Clock, graceMs: number): Promise<PodExit> {
    this.signal("SIGTERM");
    const kill = clock.setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      kill.cancel();
    }
  }
}
