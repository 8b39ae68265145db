/**
 * The ticketplane command line. The only place that reads argv and the
 * environment, sets up logging and signal handling, and exits the process.
 *
 *   ticketplane serve --config FILE   standalone control plane from a config file
 *   ticketplane serve --kubernetes    apps and pods from a Kubernetes cluster
 *   ticketplane dev [--config FILE]   local mode: apps as local processes, the dev gateway (examples/local.yaml)
 *   ticketplane validate FILE…        print every config error; exit 1 on any
 *   ticketplane version
 */
import { readFile, realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { systemClock } from "./common/clock.js";
import { errorMessage } from "./common/errors.js";
import { createLogger } from "./common/logger.js";
import type { LogFormat, LogLevel, Logger } from "./common/logger.js";
import { CLIENT_ADDRESS_DEFAULTS, GATEWAY_DEFAULTS, LISTEN_DEFAULTS, PEER_LISTEN_DEFAULT, formatDuration, formatFileErrors, formatHostPort, parseConfigFile, parseDuration, parseHostPort } from "./config/index.js";
import type { HostPort, LocalConfig } from "./config/index.js";
import { createTicketplane } from "./app.js";
import type { Ticketplane } from "./app.js";
import type { KubeConnection } from "./kube/index.js";
import type { ReconcilePorts } from "./reconcile/index.js";
import type { Leadership, Mode, RouteModes, RuntimeHooks } from "./runtime/index.js";
import type { Runnable } from "./common/runnable.js";
import { createStandaloneMode } from "./standalone/index.js";
import { parseLocalFile } from "./config/index.js";
import { createLocalMode } from "./local/index.js";
import { validateFiles } from "./validate-command.js";
import { adminBaseUrl, DEFAULT_ADMIN, fetchStatus, renderStatus } from "./status-command.js";

/** How long SIGTERM/SIGINT may take before the process is forced down. */
const SHUTDOWN_GRACE_MS = 10_000;
const LOCAL_EXAMPLE = fileURLToPath(new URL("../examples/local.yaml", import.meta.url));

const HELP: Record<string, string> = {
  main: `ticketplane — exclusive per-user slots on stateful web apps, as an Envoy control plane

Usage:
  ticketplane serve --config FILE   run the control plane from a config file (no Kubernetes)
  ticketplane serve --kubernetes    run it with apps and pods from a Kubernetes cluster
  ticketplane dev [--config FILE]   try it on this machine: local pods, a dev gateway (no cluster, no Envoy)
  ticketplane validate FILE...      check config files; print every error; exit 1 on any
  ticketplane status                print a running ticketplane's apps, pods, queue and gateways
  ticketplane version               print the version

Run "ticketplane COMMAND --help" for a command's options.
`,
  serve: `Usage: ticketplane serve --config FILE [--log-format json|pretty] [--log-level LEVEL]
       ticketplane serve --kubernetes [--namespace NS]... | --all-namespaces
                         [--kubeconfig FILE] [--context NAME] [--config FILE]
                         [--lease-namespace NS] [--lease-name NAME] [--keys-secret NAME]
                         [--lease-duration D] [--renew-deadline D] [--retry-period D]
                         [--peer-listen HOST:PORT] [--peer-host HOST]

Serves ext_authz Check, access logs and ADS from FILE, with an admin HTTP
server (the dashboard at /, /healthz, /readyz, /metrics, /api/config,
/api/apps, /api/status, /api/events, /api/xds), KEDA's external scaler
where the file sets listen.keda, and the scale-from-zero resolver where it
sets listen.resolver.
Prints one line per server to stdout once it listens, e.g.
  authz listening on 127.0.0.1:9001
The file is watched; a valid edit is applied, an invalid one is refused and
reported (the last good config stays). SIGHUP reloads at once; SIGTERM or
SIGINT shuts down gracefully and saves the ledger.

Kubernetes mode (--kubernetes) takes apps from TicketedApps and k8sTicket
Deployments and pods from their Deployments, in the namespaces named (or all).
It connects in-cluster in a pod, else through --kubeconfig, KUBECONFIG or
~/.kube/config (--context picks a context); it checks the API server answers
before anything else and exits 1 naming the server and the cause if not.
--config then gives only the process settings (listen, gateway,
clientAddress): apps come from the cluster, and its state and keys are not
used. The control plane's own objects live in one namespace (--lease-namespace,
else POD_NAMESPACE, else the service account's namespace in a pod, else
ticketplane-system): the leader Lease (replicas campaign; only the leader
keeps the ledger, sweeps, scales and records Events; one that loses the lead
exits 1), the ledger as one ConfigMap per app, and the signing keys in a
Secret (created with a generated key when missing; checked every 10 s for
rotation). The Lease holder is POD_NAME (else the hostname) plus a random
suffix. The admin server also serves POST /drain/NAMESPACE/POD (preStop).
Every replica answers Check for valid tickets from its own copy of the
ledger (the ConfigMaps, watched); only the leader issues tickets. SIGTERM
saves the ledger and releases the Lease, and a follower watching it takes over at once; a crashed
leader is replaced after --lease-duration. Lease timing (client-go's
defaults): --lease-duration 15s, --renew-deadline 10s, --retry-period 2s;
retry period < renew deadline < lease duration.
Replicas that do not hold the Lease forward issuing and queueing to the one
that does, over the internal peer API (--peer-listen, else listen.peer, else
0.0.0.0:9005), authenticated with a credential derived from the key Secret;
the holder writes its address (--peer-host, else POD_IP, else the listen
host or the hostname, and the bound port) on the Lease.

Options:
  -c, --config FILE      the config file (required without --kubernetes)
      --kubernetes       apps and pods from a Kubernetes cluster
  -n, --namespace NS     watch this namespace (repeat for more)
  -A, --all-namespaces   watch every namespace (the default without --namespace)
      --kubeconfig FILE  the kubeconfig (default: KUBECONFIG, then ~/.kube/config)
      --context NAME     a context of the kubeconfig other than its current one
      --lease-namespace NS  the control plane's namespace (Lease, ledger, keys)
      --lease-name NAME  the leader Lease (default ticketplane-leader)
      --keys-secret NAME the signing keys Secret (default ticketplane-keys)
      --lease-duration D how long a silent leader's Lease holds (default 15s)
      --renew-deadline D a leader that could not renew for this long steps down (default 10s)
      --retry-period D   time between Lease attempts (default 2s)
      --peer-listen HOST:PORT  the internal peer API (default listen.peer, else 0.0.0.0:9005)
      --peer-host HOST   where other replicas reach this one (default POD_IP)
      --log-format F     json or pretty (default: pretty on a terminal, else json)
      --log-level L      error, warn, info or debug (default: info)
  -h, --help             show this help
`,
  dev: `Usage: ticketplane dev [--config FILE] [--log-format json|pretty] [--log-level LEVEL]

Local mode, for trying ticketplane on one machine: no cluster, no Envoy.
Runs the control plane with the apps of FILE (default examples/local.yaml),
starts each app's pods as local processes with the app's run command (each
on a free port of 127.0.0.1, PORT and POD_NAME in its environment, ready
when its readinessPath answers 2xx/3xx), and scales them with the same
reconciler as Kubernetes mode: pods start as tickets are handed out, the
pod the reconciler chose is drained and stopped when idle, a crashed pod
restarts with a backoff, minPods: 0 takes an app to zero.
The dev gateway (a demo and test tool; production goes through Envoy)
plays Envoy's part in front: it takes its routes, clusters and endpoints
over ADS, asks Check for every request, forwards HTTP and WebSockets to the
pod Check names, and reports to the access-log service. Prints
"gateway listening on HOST:PORT" on stdout after the four server lines.
Ctrl-C stops every pod; if ticketplane is killed, its pods die with it.
The file is read once, at start.

Options:
  -c, --config FILE      the local file (default examples/local.yaml)
      --gateway-port N   where the dev gateway listens (default: the file's
                         gateway.listenerPort, 8080 in the example; 0: any free port)
      --log-format F     json or pretty (default: pretty on a terminal, else json)
      --log-level L      error, warn, info or debug (default: info)
  -h, --help             show this help
`,
  validate: `Usage: ticketplane validate FILE...

Checks each file (standalone config, keys file, TicketedApp or k8sTicket
Deployment YAML) and prints every error as "FILE: path: value — rule"; secrets
are never printed. A config file's keys.file is read and checked too, and
state.file's directory must exist, as serve needs them. Exit 1 on any error,
0 (printing "FILE: ok") otherwise.
`,
  version: `Usage: ticketplane version\n\nPrints the version.\n`,
  status: `Usage: ticketplane status [--admin URL] [--json]

Prints what the dashboard shows, from a running ticketplane's admin server
(GET /api/status): each app with its mode, pods and their slots (used, free,
draining), WebSockets, the queue and recent scale decisions, and the
gateways with the xDS versions they ACKed.

Options:
      --admin URL   the admin server (default: TICKETPLANE_ADMIN, else ${DEFAULT_ADMIN})
      --json        print the status view as JSON
  -h, --help        show this help
Exit 1 when the admin server cannot be reached or answers something else.
`,
};

interface Io {
  out(line: string): void;
  err(line: string): void;
}

const io: Io = {
  out: (line) => void process.stdout.write(line + "\n"),
  err: (line) => void process.stderr.write(line + "\n"),
};

/** Runs one command; resolves to the exit code (serve resolves when the process should exit). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      io.out(HELP["main"] ?? "");
      return command === undefined ? 1 : 0;
    case "version":
    case "--version":
      if (rest.includes("--help") || rest.includes("-h")) return help("version");
      io.out(await version());
      return 0;
    case "validate":
      return validate(rest);
    case "status":
      return status(rest);
    case "serve":
      return serve(rest);
    case "dev":
      return dev(rest);
    default:
      io.err(`ticketplane: unknown command "${command}"\n`);
      io.err(HELP["main"] ?? "");
      return 2;
  }
}

function help(command: string): number {
  io.out(HELP[command] ?? "");
  return 0;
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
  return `ticketplane ${pkg.version ?? "unknown"}`;
}

async function validate(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], allowPositionals: true, options: { help: { type: "boolean", short: "h" } } });
  } catch (err) {
    return usageError("validate", err);
  }
  if (parsed.values.help === true) return help("validate");
  if (parsed.positionals.length === 0) return usageError("validate", "name at least one FILE");
  const report = await validateFiles(parsed.positionals);
  for (const line of report.lines) io.out(line);
  return report.failed ? 1 : 0;
}

async function status(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { admin: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  } catch (err) {
    return usageError("status", err);
  }
  if (parsed.values.help === true) return help("status");
  const admin = parsed.values.admin ?? nonEmpty(process.env["TICKETPLANE_ADMIN"]) ?? DEFAULT_ADMIN;
  const base = adminBaseUrl(admin);
  if (base === undefined) return usageError("status", `--admin ${JSON.stringify(admin)} is not a URL or HOST:PORT`);
  const fetched = await fetchStatus(base);
  if (!fetched.ok) {
    io.err(`ticketplane status: ${fetched.error}`);
    return 1;
  }
  if (parsed.values.json === true) io.out(JSON.stringify(fetched.status, null, 2));
  else for (const line of renderStatus(fetched.status)) io.out(line);
  return 0;
}

function usageError(command: string, err: unknown): number {
  io.err(`ticketplane ${command}: ${errorMessage(err)}\n`);
  io.err(HELP[command] ?? "");
  return 2;
}

interface ServeArgs {
  readonly config: string;
  readonly format: LogFormat;
  readonly level: LogLevel;
}

interface KubeServeArgs {
  readonly kubernetes: true;
  readonly config?: string;
  readonly format: LogFormat;
  readonly level: LogLevel;
  readonly namespaces: readonly string[];
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly leaseNamespace?: string;
  readonly leaseName?: string;
  readonly keysSecret?: string;
  readonly peerListen?: string;
  readonly peerHost?: string;
  readonly leaseTiming: Partial<LeaseTimingArgs>;
}

/** The Lease timing flags, in milliseconds (kube's LeaseTiming, which the CLI does not import eagerly). */
interface LeaseTimingArgs {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

const SERVE_OPTIONS = {
  config: { type: "string", short: "c" },
  kubernetes: { type: "boolean" },
  namespace: { type: "string", short: "n", multiple: true },
  "all-namespaces": { type: "boolean", short: "A" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  "lease-namespace": { type: "string" },
  "lease-name": { type: "string" },
  "keys-secret": { type: "string" },
  "lease-duration": { type: "string" },
  "renew-deadline": { type: "string" },
  "retry-period": { type: "string" },
  "peer-listen": { type: "string" },
  "peer-host": { type: "string" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const KUBE_ONLY = ["namespace", "all-namespaces", "kubeconfig", "context", "lease-namespace", "lease-name", "keys-secret", "lease-duration", "renew-deadline", "retry-period", "peer-listen", "peer-host"] as const;

type ServeValues = ReturnType<typeof parseArgs<{ options: typeof SERVE_OPTIONS }>>["values"];

function parseServeArgs(args: readonly string[]): ServeArgs | KubeServeArgs | number {
  const command = "serve";
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: SERVE_OPTIONS });
  } catch (err) {
    return usageError(command, err);
  }
  const v = parsed.values;
  if (v.help === true) return help(command);
  const log = logOptions(v);
  if (typeof log === "string") return usageError(command, log);
  if (v.kubernetes === true) {
    const timing = leaseTimingArgs(v);
    if (typeof timing === "string") return usageError(command, timing);
    return kubeArgs(v, log, timing) ?? usageError(command, "--namespace and --all-namespaces exclude each other");
  }
  const stray = KUBE_ONLY.find((k) => v[k] !== undefined);
  if (stray !== undefined) return usageError(command, `--${stray} needs --kubernetes`);
  const config = v.config;
  if (config === undefined) return usageError(command, "--config FILE is required (or --kubernetes)");
  return { config, ...log };
}

function logOptions(v: ServeValues): { format: LogFormat; level: LogLevel } | string {
  const format = v["log-format"] ?? (process.stderr.isTTY ? "pretty" : "json");
  if (format !== "json" && format !== "pretty") return `--log-format must be json or pretty, not "${format}"`;
  const level = v["log-level"] ?? "info";
  if (!["error", "warn", "info", "debug"].includes(level)) return `--log-level must be error, warn, info or debug, not "${level}"`;
  return { format, level: level as LogLevel };
}

/** client-go's defaults, which the flags override one by one. */
const LEASE_DEFAULTS: LeaseTimingArgs = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** --lease-duration, --renew-deadline, --retry-period: each a duration; together 0 < retry period < renew deadline < lease duration. A string is the error. */
function leaseTimingArgs(v: ServeValues): Partial<LeaseTimingArgs> | string {
  const flags = [["lease-duration", "leaseDurationMs"], ["renew-deadline", "renewDeadlineMs"], ["retry-period", "retryPeriodMs"]] as const;
  const timing: { -readonly [K in keyof LeaseTimingArgs]?: number } = {};
  for (const [flag, key] of flags) {
    const text = v[flag];
    if (text === undefined) continue;
    const parsed = parseDuration(text);
    if (!parsed.ok) return `--${flag} ${text}: ${parsed.rule}`;
    timing[key] = parsed.ms;
  }
  const t = { ...LEASE_DEFAULTS, ...timing };
  if (!(t.retryPeriodMs > 0 && t.retryPeriodMs < t.renewDeadlineMs && t.renewDeadlineMs < t.leaseDurationMs)) {
    return `lease timing must satisfy 0 < --retry-period < --renew-deadline < --lease-duration (got ${formatDuration(t.retryPeriodMs)}, ${formatDuration(t.renewDeadlineMs)}, ${formatDuration(t.leaseDurationMs)})`;
  }
  return timing;
}

function kubeArgs(v: ServeValues, log: { format: LogFormat; level: LogLevel }, leaseTiming: Partial<LeaseTimingArgs>): KubeServeArgs | undefined {
  if (v.namespace !== undefined && v["all-namespaces"] === true) return undefined;
  return {
    kubernetes: true,
    ...log,
    leaseTiming,
    namespaces: [...new Set(v.namespace ?? [])],
    ...defined({ config: v.config, kubeconfig: v.kubeconfig, context: v.context, leaseNamespace: v["lease-namespace"], leaseName: v["lease-name"], keysSecret: v["keys-secret"], peerListen: v["peer-listen"], peerHost: v["peer-host"] }),
  };
}

/** The entries whose value is defined (for exactOptionalPropertyTypes). */
function defined<T extends Record<string, string | undefined>>(values: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: string };
}

async function serve(args: readonly string[]): Promise<number> {
  const opts = parseServeArgs(args);
  if (typeof opts === "number") return opts;
  if ("kubernetes" in opts) return serveKubernetes(opts);
  const logger = createLogger({ format: opts.format, level: opts.level });

  let text: string;
  try {
    text = await readFile(opts.config, "utf8");
  } catch (err) {
    io.err(`${opts.config}: cannot read: ${errorMessage(err)}`);
    return 1;
  }
  const parsed = parseConfigFile(text, opts.config);
  if (!parsed.ok) {
    for (const line of formatFileErrors(opts.config, parsed.errors)) io.err(line);
    logger.error("config file is invalid; not starting", { file: opts.config, errors: parsed.errors.length });
    return 1;
  }

  const mode = createStandaloneMode({ configFile: opts.config, configText: text, config: parsed.value, clock: systemClock, logger });
  return build(mode, logger);
}

const DEV_OPTIONS = {
  config: { type: "string", short: "c" },
  "gateway-port": { type: "string" },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `ticketplane dev`: local mode from a local file (default examples/local.yaml). */
async function dev(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: DEV_OPTIONS });
  } catch (err) {
    return usageError("dev", err);
  }
  if (parsed.values.help === true) return help("dev");
  const log = logOptions(parsed.values);
  if (typeof log === "string") return usageError("dev", log);
  // Absolute, so that run.cwd and the state file do not depend on where the process was started.
  const file = resolve(parsed.values.config ?? LOCAL_EXAMPLE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    io.err(`${file}: cannot read: ${errorMessage(err)}`);
    return 1;
  }
  const local = parseLocalFile(text, file);
  if (!local.ok) {
    for (const line of formatFileErrors(file, local.errors)) io.err(line);
    return 1;
  }
  const gatewayPort = parsed.values["gateway-port"];
  if (gatewayPort !== undefined && !/^\d{1,5}$/.test(gatewayPort)) return usageError("dev", `--gateway-port must be a port number (0: any free port), not "${gatewayPort}"`);
  const logger = createLogger(log);
  const registry = new Registry();
  const { mode, reconcilePorts } = createLocalMode({
    local: local.value,
    clock: systemClock,
    logger,
    registry,
    ...(gatewayPort === undefined ? {} : { gatewayListen: { port: Number(gatewayPort) } }),
    onGatewayListening: (address) => io.out(`gateway listening on ${address}`),
  });
  return build(mode, logger, registry, reconcilePorts);
}

/**
 * Kubernetes mode: the connection first (a clear error and exit 1 when the
 * API server cannot be used), then the process settings, then the control
 * plane's own objects (Lease, ledger ConfigMaps, key Secret, Events), the
 * mode and the reconciler's ports.
 */
async function serveKubernetes(opts: KubeServeArgs): Promise<number> {
  // Loaded only here: @kubernetes/client-node is large, and version, validate and standalone serve never need it.
  const kube = await import("./kube/index.js");
  const logger = createLogger({ format: opts.format, level: opts.level });
  const settings = await processSettings(opts);
  if (typeof settings === "string") {
    io.err(`ticketplane serve --kubernetes: ${settings}`);
    return settings.startsWith("usage: ") ? 2 : 1;
  }
  let connection: KubeConnection;
  try {
    connection = kube.loadConnection({ env: process.env, ...defined({ kubeconfig: opts.kubeconfig, context: opts.context }) });
    const version = await kube.checkServer(connection);
    logger.info("Kubernetes API server answers", { server: connection.server, context: connection.context, source: connection.source, version: version.gitVersion });
  } catch (err) {
    logger.error("cannot use the Kubernetes API server; not starting", { error: errorMessage(err) });
    io.err(`ticketplane: ${errorMessage(err)}`);
    return 1;
  }
  const registry = new Registry();
  const controlNamespace = opts.leaseNamespace ?? nonEmpty(process.env["POD_NAMESPACE"]) ?? (connection.context === "in-cluster" ? connection.namespace : undefined) ?? kube.DEFAULT_CONTROL_NAMESPACE;
  const identity = kube.leaseIdentity(nonEmpty(process.env["POD_NAME"]) ?? hostname());
  const leaseName = opts.leaseName ?? kube.DEFAULT_LEASE_NAME;
  const peer = peerSettings(opts, settings.listen.peer);
  if (typeof peer === "string") {
    io.err(`ticketplane serve --kubernetes: ${peer}`);
    return 2;
  }
  let peerPort: number | undefined;
  const control = kube.createKubeControlPlane({
    peerAddress: () => (peerPort === undefined ? undefined : formatHostPort({ host: peer.host, port: peerPort })),
    kubeConfig: connection.kubeConfig,
    namespace: controlNamespace,
    leaseName,
    identity,
    keysSecret: opts.keysSecret ?? kube.DEFAULT_KEYS_SECRET,
    leaseTiming: opts.leaseTiming,
    clock: systemClock,
    logger,
    registry,
  });
  io.err(`ticketplane: Kubernetes mode, cluster ${connection.server} (context ${connection.context}, from ${connection.source}), watching ${kube.describeNamespaces(opts.namespaces)}`);
  io.err(`ticketplane: control plane namespace ${controlNamespace}: Lease ${leaseName} (identity ${identity}), ledger in ${control.ledgerStore.description}, keys from ${control.keys.where}`);
  logger.info("Kubernetes mode", { server: connection.server, context: connection.context, namespaces: opts.namespaces.length === 0 ? "all" : opts.namespaces.join(","), controlNamespace, lease: leaseName, identity });
  const base = kube.createKubernetesMode({
    connection,
    namespaces: opts.namespaces,
    listen: settings.listen,
    gateway: settings.gateway,
    trustedHops: settings.clientAddress.trustedHops,
    ...(settings.check === undefined ? {} : { unmatched: settings.check.unmatched }),
    ledgerStore: control.ledgerStore,
    ledgerMirror: control.ledgerMirror,
    keys: control.keys,
    leadership: control.leadership,
    control: () => control.status(),
    clock: systemClock,
    logger,
    replicas: { ownership: kube.leaseOwnership(control.leadership), listen: peer.listen, identity, onPeerBound: (port) => {
      peerPort = port;
      // Bound after the campaign started: write it on the Lease now, not at the next renewal.
      control.leadership.announcePeer();
    } },
  });
  // With listen.resolver, minPods-0 apps flip their VirtualService to this Service (deploy/'s name for ticketplane) and port.
  const resolverHost = `ticketplane.${controlNamespace}.svc.cluster.local`;
  const resolver = settings.listen.resolver === undefined ? {} : { resolver: { host: resolverHost, port: settings.listen.resolver.port } };
  const ports = kube.createKubeReconcilePorts({ kubeConfig: connection.kubeConfig, inventory: base.inventory, events: control.events, namespaces: opts.namespaces, clock: systemClock, logger: logger.child({ component: "reconcile-ports" }), registry, ...resolver });
  const invalidAppEvents = new kube.InvalidAppEvents({ inventory: base.inventory, events: control.events });
  // The Event recorder and the ports' watches start before the reconciler and stop after it.
  const withControl: Mode = { ...base, parts: { ...control.parts, leaderOnly: [...(control.parts.leaderOnly ?? []), invalidAppEvents, ports] } };
  const mode = settings.listen.resolver === undefined ? withControl : withEntryModes(withControl, new kube.VirtualServiceModes({ kubeConfig: connection.kubeConfig, namespaces: opts.namespaces, resolverHost, specOf: (app) => base.inventory.app(app)?.spec, clock: systemClock, logger: logger.child({ component: "virtual-service-modes" }) }));
  announceLeadership(control.leadership, leaseName);
  return build(mode, logger, registry, ports);
}

/** Every replica follows the apps' VirtualServices (started with its every-replica parts): Check lets an app routed to the resolver (at zero) through untouched. */
function withEntryModes(mode: Mode, entryModes: RouteModes & Runnable): Mode {
  const everyReplica = (hooks: RuntimeHooks): readonly Runnable[] => [...(mode.parts?.everyReplica?.(hooks) ?? []), entryModes];
  return { ...mode, entryModes, parts: { ...mode.parts, everyReplica } };
}

/** Startup lines: whether this replica leads, and when that changes. */
function announceLeadership(leadership: Leadership, lease: string): void {
  io.err(`ticketplane: campaigning for Lease ${lease}; leader-only parts (ledger, sweeper, reconciler, Events) wait until this replica leads`);
  leadership.elected.then(
    () => io.err(`ticketplane: this replica leads (Lease ${lease})`),
    () => undefined,
  );
}

/** Where the peer API listens and the host other replicas reach it at; a string is a usage error. */
function peerSettings(opts: KubeServeArgs, fromFile: HostPort | undefined): { listen: HostPort; host: string } | string {
  let listen = fromFile ?? hostPort(PEER_LISTEN_DEFAULT);
  if (opts.peerListen !== undefined) {
    const parsed = parseHostPort(opts.peerListen, true);
    if (!parsed.ok) return `usage: --peer-listen ${JSON.stringify(opts.peerListen)}: ${parsed.rule}`;
    listen = parsed.value;
  }
  const wildcard = listen.host === "0.0.0.0" || listen.host === "::";
  return { listen, host: opts.peerHost ?? nonEmpty(process.env["POD_IP"]) ?? (wildcard ? hostname() : listen.host) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Kubernetes mode's process settings: --config's (apps refused: they come from the cluster; its state and keys are not used), defaults otherwise. A string is the error. */
async function processSettings(opts: KubeServeArgs): Promise<Pick<LocalConfig, "listen" | "gateway" | "clientAddress" | "check"> | string> {
  const base: Pick<LocalConfig, "listen" | "gateway" | "clientAddress" | "check"> = {
    listen: { authz: hostPort(LISTEN_DEFAULTS.authz), xds: hostPort(LISTEN_DEFAULTS.xds), accessLog: hostPort(LISTEN_DEFAULTS.accessLog), admin: hostPort(LISTEN_DEFAULTS.admin) },
    gateway: { ...GATEWAY_DEFAULTS },
    clientAddress: { ...CLIENT_ADDRESS_DEFAULTS },
  };
  if (opts.config === undefined) return base;
  let text: string;
  try {
    text = await readFile(opts.config, "utf8");
  } catch (err) {
    return `${opts.config}: cannot read: ${errorMessage(err)}`;
  }
  const parsed = parseConfigFile(text, opts.config);
  if (!parsed.ok) return formatFileErrors(opts.config, parsed.errors).join("\n");
  if (parsed.value.apps.length > 0) return `${opts.config}: apps: in Kubernetes mode apps come from the cluster (TicketedApps, k8sTicket Deployments); remove them from the file`;
  return { listen: parsed.value.listen, gateway: parsed.value.gateway, clientAddress: parsed.value.clientAddress, ...(parsed.value.check === undefined ? {} : { check: parsed.value.check }) };
}

function hostPort(text: string): HostPort {
  const parsed = parseHostPort(text, true);
  if (!parsed.ok) throw new Error(`default address ${text} does not parse`);
  return parsed.value;
}

/** Builds ticketplane for a mode and runs it until a signal. */
async function build(mode: Mode, logger: Logger, registry = new Registry(), reconcilePorts?: ReconcilePorts): Promise<number> {
  let app: Ticketplane;
  let leadershipLost!: () => void;
  const lost = new Promise<"leadership-lost">((resolve) => (leadershipLost = () => resolve("leadership-lost")));
  try {
    app = await createTicketplane(mode, { logger, clock: systemClock, registry, onLeadershipLost: leadershipLost, ...(reconcilePorts === undefined ? {} : { reconcilePorts }) });
  } catch (err) {
    logger.error("cannot build ticketplane", { error: errorMessage(err) });
    io.err(`ticketplane: ${errorMessage(err)}`);
    return 1;
  }
  return run(app, logger, lost);
}

/** Starts the app, prints the listening lines, then waits for a signal and shuts down. */
async function run(app: Ticketplane, logger: Logger, lost: Promise<"leadership-lost">): Promise<number> {
  // Handlers go in before the first listening line: a script may signal as soon as it reads one.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  process.on("SIGHUP", () => {
    logger.info("SIGHUP: reloading the keys and the config file");
    // reload() never rejects; the catch is the last line of defence against a crash on a signal.
    app.reload().catch((err: unknown) => logger.error("SIGHUP reload failed; what is in force stays", { error: errorMessage(err) }));
  });
  try {
    await app.start((server, address) => io.out(`${server} listening on ${address}`));
  } catch (err) {
    // The manager has already stopped what started, in reverse order.
    logger.error("start failed", { error: errorMessage(err) });
    io.err(`ticketplane: ${errorMessage(err)}`);
    return 1;
  }
  for (const line of app.nextSteps()) io.err(line);

  const signal = await Promise.race([stopSignal, lost]);
  if (signal === "leadership-lost") {
    await app.stop();
    logger.error("stopped: this replica no longer leads");
    return 1;
  }
  logger.info(`${signal}: shutting down`, { graceMs: SHUTDOWN_GRACE_MS });
  const forced = setTimeout(() => {
    logger.error("shutdown did not finish in time; forcing exit", { graceMs: SHUTDOWN_GRACE_MS });
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  forced.unref();
  // A second signal means "now".
  const again = (s: NodeJS.Signals): void => {
    logger.error(`${s} during shutdown; forcing exit`);
    process.exit(1);
  };
  process.once("SIGTERM", again);
  process.once("SIGINT", again);
  try {
    await app.stop();
  } catch (err) {
    logger.error("shutdown failed", { error: errorMessage(err) });
    return 1;
  } finally {
    clearTimeout(forced);
  }
  logger.info("stopped");
  return 0;
}

/** True when this module is the process's entry point (tsx src/cli.ts …), not imported by bin/ or a test. */
async function isEntryPoint(): Promise<boolean> {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  const self = fileURLToPath(import.meta.url);
  return entry === self || (await realpath(entry).catch(() => entry)) === self;
}

if (await isEntryPoint()) {
  const code = await main(process.argv.slice(2));
  // Let stdout/stderr drain before exiting (pipes are asynchronous).
  process.stdout.write("", () => process.exit(code));
}
