/**
 * The connection to the Kubernetes API server: which cluster, as whom, in
 * which context. In a pod (the service account's token and the
 * KUBERNETES_SERVICE_* environment) it is the in-cluster config; elsewhere a
 * kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else ~/.kube/config) and its
 * current context or `--context`. The environment comes in as a value: only
 * the CLI reads the process's.
 *
 * `checkServer` asks the server for `/version` once at start, so a wrong
 * address, a bad certificate or a rejected token is one clear error naming
 * the server and the cause, not a stream of watch failures.
 */
import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { ERROR_CODES, TicketplaneError, errorMessage } from "../common/errors.js";
import { kubeStatus, networkCause, statusCode } from "./errors.js";
import type { KubeStatus } from "./errors.js";

/** Where the service account's files are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface ConnectionOptions {
  /** `--kubeconfig`: wins over the environment. */
  readonly kubeconfig?: string;
  /** `--context`: a context of the kubeconfig other than its current one. */
  readonly context?: string;
  /** The process environment as the CLI read it (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where the service account is mounted (tests point it elsewhere). */
  readonly serviceAccountDir?: string;
}

/** A loaded connection, and what startup lines say about it. */
export interface KubeConnection {
  readonly kubeConfig: KubeConfig;
  /** The API server's URL. */
  readonly server: string;
  /** The context in force ("in-cluster" in a pod). */
  readonly context: string;
  /** Where the config came from: "in-cluster service account", "kubeconfig /home/a/.kube/config". */
  readonly source: string;
  /** The context's default namespace, if it names one. */
  readonly namespace?: string;
}

/**
 * Loads the connection. `--kubeconfig` (or `--context`) means a kubeconfig
 * even in a pod; otherwise the in-cluster config when the pod's environment
 * and token are there; otherwise KUBECONFIG or ~/.kube/config. Throws
 * TP_INVALID_CONFIG naming the file or context when none is usable.
 */
export function loadConnection(options: ConnectionOptions): KubeConnection {
  const { env } = options;
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const inPod = env["KUBERNETES_SERVICE_HOST"] !== undefined && env["KUBERNETES_SERVICE_PORT"] !== undefined && existsSync(`${saDir}/token`);
  if (options.kubeconfig === undefined && options.context === undefined && inPod) return inCluster(env, saDir);
  return fromKubeconfig(options);
}

function inCluster(env: Readonly<Record<string, string | undefined>>, saDir: string): KubeConnection {
  const host = env["KUBERNETES_SERVICE_HOST"] ?? "";
  const port = env["KUBERNETES_SERVICE_PORT"] ?? "";
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespaceFile = `${saDir}/namespace`;
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "in-cluster", server, caFile: `${saDir}/ca.crt`, skipTLSVerify: false }],
    // The token file is re-read as the kubelet rotates it (client-node's tokenFile provider).
    users: [{ name: "in-cluster", authProvider: { name: "tokenFile", config: { tokenFile: `${saDir}/token` } } }],
    contexts: [{ name: "in-cluster", cluster: "in-cluster", user: "in-cluster", ...(namespace === undefined || namespace === "" ? {} : { namespace }) }],
    currentContext: "in-cluster",
  });
  return { kubeConfig, server, context: "in-cluster", source: `in-cluster service account (${saDir})`, ...(namespace === undefined || namespace === "" ? {} : { namespace }) };
}

function fromKubeconfig(options: ConnectionOptions): KubeConnection {
  const { env } = options;
  const files = kubeconfigFiles(options);
  if (files.length === 0) {
    throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, "no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account", { home: env["HOME"] });
  }
  const kubeConfig = new KubeConfig();
  for (const [i, file] of files.entries()) {
    if (!existsSync(file)) throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `kubeconfig ${file} does not exist`, { file });
    try {
      if (i === 0) kubeConfig.loadFromFile(file);
      else {
        // KUBECONFIG lists several files: the first one's current context wins, as kubectl does.
        const more = new KubeConfig();
        more.loadFromFile(file);
        kubeConfig.mergeConfig(more, true);
      }
    } catch (err) {
      throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `kubeconfig ${file} cannot be read: ${errorMessage(err)}`, { file }, { cause: err });
    }
  }
  const source = `kubeconfig ${files.join(":")}`;
  if (options.context !== undefined) {
    if (kubeConfig.getContextObject(options.context) === null) {
      const known = kubeConfig.getContexts().map((c) => c.name);
      throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `context "${options.context}" is not in ${source} (it has: ${known.join(", ") || "none"})`, { context: options.context });
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const context = kubeConfig.getCurrentContext();
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null || cluster.server === "") {
    throw new TicketplaneError(ERROR_CODES.INVALID_CONFIG, `${source}: context "${context || "(none)"}" names no cluster with a server`, { context });
  }
  allowPlainHttp(kubeConfig);
  const namespace = kubeConfig.getContextObject(context)?.namespace;
  return { kubeConfig, server: cluster.server, context, source, ...(namespace === undefined ? {} : { namespace }) };
}

/**
 * client-node refuses an `http:` server unless the kubeconfig also says
 * `insecure-skip-tls-verify`, although there is no TLS to verify (kubectl
 * accepts it: `kubectl proxy`, local test servers). Plain HTTP is what the
 * kubeconfig asks for, so we take it as written.
 */
function allowPlainHttp(kubeConfig: KubeConfig): void {
  const clusters = kubeConfig.getClusters();
  if (!clusters.some((c) => c.server.startsWith("http:") && c.skipTLSVerify !== true)) return;
  kubeConfig.loadFromOptions({
    clusters: clusters.map((c) => (c.server.startsWith("http:") ? { ...c, skipTLSVerify: true } : c)),
    users: kubeConfig.getUsers(),
    contexts: kubeConfig.getContexts(),
    currentContext: kubeConfig.getCurrentContext(),
  });
}

/** `--kubeconfig`, else every file KUBECONFIG lists, else ~/.kube/config if it exists. */
function kubeconfigFiles(options: ConnectionOptions): string[] {
  if (options.kubeconfig !== undefined) return [options.kubeconfig];
  const fromEnv = (options.env["KUBECONFIG"] ?? "").split(":").filter((f) => f !== "");
  if (fromEnv.length > 0) return fromEnv;
  const home = options.env["HOME"];
  const standard = home === undefined ? undefined : `${home}/.kube/config`;
  return standard !== undefined && existsSync(standard) ? [standard] : [];
}

/** What the server said about itself. */
export interface ServerVersion {
  readonly gitVersion: string;
  readonly platform?: string;
}

/**
 * GET /version, once. Resolves with the version; rejects with a
 * TicketplaneError (TP_UNAVAILABLE) naming the server and the cause:
 * connection refused, a TLS failure, 401/403 (the credentials), a timeout.
 */
export async function checkServer(connection: KubeConnection, timeoutMs = 10_000): Promise<ServerVersion> {
  const api = connection.kubeConfig.makeApiClient(VersionApi);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const info = await Promise.race([api.getCode(), timeout]);
    return { gitVersion: info.gitVersion, ...(info.platform === undefined ? {} : { platform: info.platform }) };
  } catch (err) {
    throw new TicketplaneError(ERROR_CODES.UNAVAILABLE, `cannot use the Kubernetes API server ${connection.server} (context ${connection.context}): ${describeConnectionFailure(err)}`, { server: connection.server, context: connection.context, status: statusCode(err) }, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** One phrase for why a call to the server failed: the HTTP status and reason, or the network/TLS cause. */
export function describeConnectionFailure(err: unknown): string {
  const code = statusCode(err);
  return code === undefined ? networkCause(err) : httpCause(code, kubeStatus(err), err);
}

function httpCause(code: number, status: KubeStatus | undefined, err: unknown): string {
  if (code === 401) return "401 Unauthorized: the server does not accept these credentials (token or client certificate)";
  if (code === 403) return `403 Forbidden: the credentials are valid but may not do this${status?.message === undefined ? "" : ` (${status.message})`}`;
  return `${code}${status?.reason === undefined ? "" : ` ${status.reason}`}: ${status?.message ?? errorMessage(err)}`;
}
