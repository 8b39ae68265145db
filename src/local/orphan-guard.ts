/**
 * No orphans, even when ticketplane is SIGKILLed. Every pod runs in its own
 * process group (spawned detached), and one small guard process watches
 * them: it holds the read end of a pipe whose write end only ticketplane
 * holds. When ticketplane exits for any reason the kernel closes that pipe,
 * and the guard kills every process group it was told about (SIGTERM, then
 * SIGKILL after a grace period) — the pod and anything the pod started.
 * A clean stop unwatches each pod as it stops it, so the guard then has
 * nothing to do and exits.
 *
 * The one window left: a pod spawned in the instant before ticketplane dies,
 * before its `watch` line reached the pipe.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once as onceEvent } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ERROR_CODES, TicketplaneError } from "../common/errors.js";
import type { Logger } from "../common/logger.js";

// Beside this module: .ts from the sources (Node strips the types), .js from the build (dist/).
const GUARD_MAIN = fileURLToPath(new URL(`./orphan-guard-main${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));

export interface OrphanGuardOptions {
  readonly logger: Logger;
  /** How long the guard waits between SIGTERM and SIGKILL (default 2 s). */
  readonly graceMs?: number;
}

export class OrphanGuard {
  readonly #o: OrphanGuardOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> | undefined;

  constructor(options: OrphanGuardOptions) {
    this.#o = options;
  }

  /** The guard's pid (for tests), once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the guard process; resolves once it reads its pipe. Rejects (TP_UNAVAILABLE) if it cannot start. */
  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    // process.execPath: the Node running ticketplane, which strips the guard's types itself (no loader, no tsx).
    const child = spawn(process.execPath, [GUARD_MAIN, String(this.#o.graceMs ?? 2000)], { stdio: ["pipe", "pipe", "inherit"] });
    this.#child = child;
    this.#exited = onceEvent(child, "exit").catch(() => undefined);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    try {
      await Promise.race([
        onceEvent(lines, "line"),
        onceEvent(child, "error").then(([err]) => Promise.reject(err as Error)),
        onceEvent(child, "exit").then(([code]) => Promise.reject(new Error(`exited with code ${String(code)}`))),
      ]);
    } catch (err) {
      this.#child = undefined;
      throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `the orphan guard process did not start: ${(err as Error).message}`, { file: GUARD_MAIN }, { cause: err });
    } finally {
      lines.close();
    }
    // A guard that dies leaves pods unguarded, but running: say so, do not stop the demo.
    child.once("exit", (code, signal) => {
      if (this.#child === child) this.#o.logger.warn("the orphan guard exited; pods are no longer killed if ticketplane dies", { code, signal });
    });
  }

  /** Kill this process group if ticketplane dies. */
  watch(pgid: number): void {
    this.#send(`watch ${pgid}`);
  }

  /** The group is stopped (or stopping) by ticketplane itself. */
  unwatch(pgid: number): void {
    this.#send(`unwatch ${pgid}`);
  }

  /** Closes the pipe: the guard kills what it still watches and exits. Idempotent. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) return;
    child.stdin?.end();
    await this.#exited;
  }

  #send(line: string): void {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || stdin === null || stdin.destroyed) return;
    stdin.write(`${line}\n`);
  }
}
