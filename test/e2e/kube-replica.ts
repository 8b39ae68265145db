/**
 * One replica of `ticketplane serve --kubernetes` for tests and benches
 * that run several: its own kubeconfig (token) and Lease identity
 * (POD_NAME), started and ready (`/readyz` 200) before it joins the
 * round-robin, killed or stopped by signal, restarted as a new generation.
 */
import type * as grpc from "@grpc/grpc-js";
import { checkClient } from "./check-client.js";
import { ServeProcess, getJson } from "./serve-process.js";
import { waitFor } from "../support/wait-for.js";

/** One replica: a serve process with its own kubeconfig token and Lease identity (POD_NAME). */
export class Replica {
  serve: ServeProcess | undefined;
  client: grpc.Client | undefined;
  /** In the round-robin: started, ready, not being stopped. */
  live = false;
  generation = 0;

  /** `args`: what follows `serve --kubernetes` (kubeconfig, namespaces, --config, Lease timing). */
  constructor(
    readonly name: string,
    readonly args: readonly string[],
  ) {}

  /** Every generation's stderr, for TP_CHAOS_LOGS. */
  readonly logs: string[] = [];

  async start(): Promise<void> {
    if (this.serve !== undefined) this.logs.push(this.serve.stderr);
    this.generation++;
    this.serve = new ServeProcess(["serve", "--kubernetes", ...this.args, "--log-format", "json", "--log-level", "info"], { POD_NAME: this.name });
    await this.serve.listening(60_000);
    const admin = this.serve.admin;
    await waitFor(async () => (await getJson(`${admin}/readyz`)).status === 200, { timeoutMs: 30_000, what: () => `${this.name} ready; stderr:\n${this.serve?.stderr.slice(-2000) ?? ""}` });
    this.client = checkClient(this.serve.addresses.authz ?? "");
    this.live = true;
  }

  leads(): boolean {
    const child = this.serve?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null && /ticketplane: this replica leads/.test(this.serve?.stderr ?? "");
  }

  async kill(signal: "SIGKILL" | "SIGTERM"): Promise<number | null> {
    this.live = false;
    this.client?.close();
    const serve = this.serve;
    if (serve === undefined) return null;
    serve.signal(signal);
    return (await serve.waitExit(30_000)).code;
  }
}

