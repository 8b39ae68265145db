/**
 * The whole stack in one process for the dev gateway's tests: real pods
 * (test/support/pod-server.ts), ticketplane in standalone mode with every
 * server on port 0 (createTicketplane over a config file in a temp dir), and
 * the dev gateway on port 0 pointed at its ADS. A Browser keeps cookies.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createTicketplane, type Ticketplane } from "../../app.js";
import { systemClock } from "../../common/clock.js";
import { parseConfigFile } from "../../config/index.js";
import { createStandaloneMode } from "../../standalone/index.js";
import { RecordingLogger } from "../../../test/support/recording-logger.js";
import { type PodServer, startPodServer } from "../../../test/support/pod-server.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { createDevGateway, type DevGateway } from "./index.js";

export interface Stack {
  readonly ticketplane: Ticketplane;
  readonly gateway: DevGateway;
  readonly pods: readonly PodServer[];
  readonly addresses: Readonly<Record<string, string>>;
  readonly logger: RecordingLogger;
  readonly url: (path: string) => string;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly pods?: number;
  readonly ticketsPerPod?: number;
  /** Where the gateway sends its access log (default: the cluster the listener names, our service). */
  readonly accessLog?: string;
}

function configYaml(pods: readonly PodServer[], options: StackOptions): string {
  return [
    "listen: { authz: 127.0.0.1:0, accessLog: 127.0.0.1:0, xds: 127.0.0.1:0, admin: 127.0.0.1:0 }",
    "gateway: { listenerAddress: 127.0.0.1, listenerPort: 8080, authzTimeout: 2s }",
    "cookieSecure: false",
    "apps:",
    "  - name: shiny",
    "    pathPrefix: /shiny/",
    "    path: /",
    `    ticketsPerPod: ${options.ticketsPerPod ?? 1}`,
    "    queue: { maxLength: 10, retryAfter: 1s }",
    "    pods:",
    ...pods.map((p) => `      - { name: ${p.name}, address: ${p.address}, ready: true }`),
    "",
  ].join("\n");
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "tp-devgw-"));
  const pods = await Promise.all(Array.from({ length: options.pods ?? 2 }, (_, i) => startPodServer(`pod-${String.fromCharCode(97 + i)}`)));
  const file = join(dir, "tp.yaml");
  const text = configYaml(pods, options);
  await writeFile(file, text);
  const parsed = parseConfigFile(text, file);
  if (!parsed.ok) throw new Error(`fixture config does not parse: ${JSON.stringify(parsed)}`);
  const logger = new RecordingLogger();
  const mode = createStandaloneMode({ configFile: file, configText: text, config: parsed.value, clock: systemClock, logger });
  const ticketplane = await createTicketplane(mode, { logger, clock: systemClock, registry: new Registry(), ledgerDebounceMs: 10 });
  const addresses: Record<string, string> = {};
  await ticketplane.start((server, address) => {
    addresses[server] = address;
  });
  const gateway = createDevGateway({ listen: { port: 0 }, ads: addresses["xds"] ?? "", ...(options.accessLog === undefined ? {} : { accessLog: options.accessLog }), logger, clock: systemClock, registry: new Registry() });
  await gateway.start(new AbortController().signal);
  await waitFor(() => gateway.status().configured, { what: "the dev gateway's listener and routes" });
  return {
    ticketplane,
    gateway,
    pods,
    addresses,
    logger,
    url: (path) => `http://${gateway.address()}${path}`,
    stop: async () => {
      await gateway.stop();
      await ticketplane.stop();
      await Promise.all(pods.map((p) => p.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request; resolves with status, headers and body. */
export function request(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A client that keeps the cookies it is given (name=value only). */
export class Browser {
  readonly cookies = new Map<string, string>();

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
    const cookie = this.cookieHeader();
    const reply = await request(url, { ...(cookie === "" ? {} : { cookie }), ...headers });
    this.keep(reply.headers["set-cookie"] ?? []);
    return reply;
  }

  keep(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const pair = line.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}
