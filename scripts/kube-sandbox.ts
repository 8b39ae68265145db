/**
 * `npm run kube:sandbox`: Kubernetes mode without a cluster. A dev tool, not
 * part of the product (it uses test/support, which src/ never imports).
 *
 * Starts the test Kubernetes API server (test/support/kube-api) with its
 * simulated Deployment/ReplicaSet controller on a local port, seeds a
 * namespace with a TicketedApp and its Deployment, creates the control
 * plane's namespace (ticketplane-system: the Lease, the ledger ConfigMaps and
 * the key Secret, which ticketplane creates itself), and writes a kubeconfig.
 * The test API server does not enforce RBAC.
 * Pods become Ready after a delay and get loopback addresses (127.0.1.x);
 * for each Ready pod a small HTTP server listens on that address and the
 * app's port and answers with the pod's name, so a gateway can really reach
 * it. Prints the kubectl and ticketplane lines to use next.
 *
 * Options:
 *   --port N          the API server's port (default 0: any free port)
 *   --dir DIR         where the kubeconfig goes (default: a new temp dir)
 *   --namespace NS    the example namespace (default demo)
 *   --replicas N      the example Deployment's replicas (default 2)
 *   --pod-port N      the port the pods' servers listen on (default 8080)
 *   --ready-after MS  how long a new pod stays Pending (default 2000)
 *
 * Signals: SIGUSR1 takes the API server away (connection refused), SIGUSR2
 * brings it back on the same port: an outage to watch ticketplane ride out.
 * SIGINT/SIGTERM stop everything.
 *
 * stdout lines meant for scripts: "api-server URL", "kubeconfig FILE",
 * "pod-server POD IP:PORT" (a stub server is listening), "api-server paused",
 * "api-server resumed".
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { ReplicaController } from "../test/support/kube-api/replica-controller.js";
import type { KObject } from "../test/support/kube-api/kinds.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    dir: { type: "string" },
    namespace: { type: "string", default: "demo" },
    replicas: { type: "string", default: "2" },
    "pod-port": { type: "string", default: "8080" },
    "ready-after": { type: "string", default: "2000" },
  },
});
const namespace = values.namespace;
const podPort = Number(values["pod-port"]);
const replicas = Number(values.replicas);
const readyAfterMs = Number(values["ready-after"]);

const server = await KubeApiServer.start({ port: Number(values.port) });
const store = server.store;
const kind = (plural: string) => {
  const k = store.kinds.find((x) => x.plural === plural);
  if (k === undefined) throw new Error(`the test API server serves no ${plural}`);
  return k;
};

// Stub servers for Ready pods: the pod's name at its loopback IP and the app's port.
const podServers = new Map<string, Server>();
function syncPodServer(pod: KObject, deleted: boolean): void {
  const name = String(pod.metadata?.name);
  const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
  const existing = podServers.get(name);
  if (deleted || ip === undefined) {
    existing?.close();
    podServers.delete(name);
    return;
  }
  if (existing !== undefined) return;
  const stub = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`hello from pod ${name} (${ip}:${podPort}), you asked for ${req.url ?? "/"}\n`);
  });
  podServers.set(name, stub);
  stub.on("error", (err) => console.error(`pod ${name}: its stub server cannot listen on ${ip}:${podPort}: ${err.message}`));
  stub.listen(podPort, ip, () => console.log(`pod-server ${name} ${ip}:${podPort}`));
}
store.subscribe((e) => {
  if (e.kind === kind("pods")) syncPodServer(e.object, e.type === "DELETED");
});
const controller = new ReplicaController(store, { readyAfterMs }).start();

// The control plane's namespace (what ticketplane serve --kubernetes uses by default), then the example: a namespace, a Deployment, and the TicketedApp that tickets it.
const CONTROL_NAMESPACE = "ticketplane-system";
store.create(kind("namespaces"), "", { apiVersion: "v1", kind: "Namespace", metadata: { name: CONTROL_NAMESPACE } });
if (namespace !== CONTROL_NAMESPACE) store.create(kind("namespaces"), "", { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
store.create(kind("deployments"), namespace, {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "shiny", labels: { app: "shiny" } },
  spec: {
    replicas,
    selector: { matchLabels: { app: "shiny" } },
    template: { metadata: { labels: { app: "shiny" } }, spec: { containers: [{ name: "app", image: "example/shiny:1", ports: [{ containerPort: podPort }] }] } },
  },
});
store.create(kind("ticketedapps"), namespace, {
  apiVersion: "ticketplane.dev/v1alpha1",
  kind: "TicketedApp",
  metadata: { name: "shiny" },
  spec: { deployment: "shiny", port: podPort, pathPrefix: "/shiny/", ticketsPerPod: 2, minPods: 1, maxPods: 4, spareTickets: 1, ticket: { cookieSecure: false } },
});

const dir = values.dir === undefined ? await mkdtemp(join(tmpdir(), "tp-kube-sandbox-")) : resolve(values.dir);
await mkdir(dir, { recursive: true });
const kubeconfig = await server.writeKubeconfig(join(dir, "kubeconfig"), namespace);
console.log(`api-server ${server.url}`);
console.log(`kubeconfig ${kubeconfig}`);
console.error(
  [
    "",
    `The test Kubernetes API server listens on ${server.url} (no cluster: an in-memory test server).`,
    `Namespace ${namespace} has TicketedApp shiny and Deployment shiny (${replicas} replicas); pods become Ready after ${readyAfterMs} ms at 127.0.1.x:${podPort}.`,
    "Next:",
    `  kubectl --kubeconfig ${kubeconfig} get ticketedapps,deployments,pods -n ${namespace}`,
    `  kubectl --kubeconfig ${kubeconfig} scale deployment shiny -n ${namespace} --replicas 3`,
    `  npx tsx src/cli.ts serve --kubernetes --kubeconfig ${kubeconfig} --namespace ${namespace}`,
    `  (or, installed: ticketplane serve --kubernetes --kubeconfig ${kubeconfig} --namespace ${namespace})`,
    `  kubectl --kubeconfig ${kubeconfig} get leases,configmaps,secrets -n ${CONTROL_NAMESPACE}   # the leader, the ledger, the keys`,
    `  kill -USR1 ${process.pid}   # take the API server away;  kill -USR2 ${process.pid}  # bring it back`,
    "Ctrl-C stops the sandbox.",
    "",
  ].join("\n"),
);

process.on("SIGUSR1", () => {
  void server.pause().then(() => console.log("api-server paused"));
});
process.on("SIGUSR2", () => {
  void server.resume().then(() => console.log("api-server resumed"));
});
const stop = async (): Promise<void> => {
  controller.stop();
  for (const s of podServers.values()) s.close();
  await server.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
