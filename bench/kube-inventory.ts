/**
 * KubeInventory at scale: APPS TicketedApps and Deployments with PODS pods
 * (default 500 and 10,000) in the test API server. Prints the time from
 * start to every app's pods in the ticket core (lists included), and from a
 * pod deletion to its app's pods being handed over again.
 * `npm run bench:kube-inventory` (KUBE_BENCH_APPS, KUBE_BENCH_PODS).
 */
import { Watch } from "@kubernetes/client-node";
import { silentLogger, systemClock } from "../src/common/index.js";
import { loadConnection } from "../src/kube/client.js";
import { KubeInventory } from "../src/kube/inventory.js";
import { kubeApis } from "../src/kube/resources.js";
import { KubeApiServer } from "../test/support/kube-api/server.js";
import { realisticPod } from "./lib/pod-cache-memory.js";
const server = await KubeApiServer.start();
const k = (p: string) => server.store.kinds.find((x) => x.plural === p)!;
const APPS = Number(process.env["KUBE_BENCH_APPS"] ?? 500);
const PODS = Number(process.env["KUBE_BENCH_PODS"] ?? 10_000);
for (let a = 0; a < APPS; a++) {
  server.store.create(k("deployments"), "default", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: `app${a}` }, spec: { replicas: 20, selector: { matchLabels: { app: `app${a}` } }, template: { metadata: { labels: { app: `app${a}` } }, spec: { containers: [] } } } });
  server.store.create(k("ticketedapps"), "default", { apiVersion: "ticketplane.dev/v1alpha1", kind: "TicketedApp", metadata: { name: `app${a}` }, spec: { deployment: `app${a}`, pathPrefix: `/app${a}/`, maxPods: 40 } });
}
for (let i = 0; i < PODS; i++) server.store.create(k("pods"), "default", realisticPod(i, `app${i % APPS}`));
const c = loadConnection({ kubeconfig: await server.writeKubeconfig(), env: {} });
let setPods = 0, setApps = 0;
const inv = new KubeInventory({ apis: kubeApis(c.kubeConfig), watch: new Watch(c.kubeConfig), namespaces: ["default"], clock: systemClock, logger: silentLogger });
inv.feed({ setApps: () => void setApps++, setPods: () => void setPods++ });
let t = performance.now();
await inv.start(new AbortController().signal);
console.log(`start (lists of ${APPS} TicketedApps, ${APPS} Deployments, ${PODS} pods, and every app's pods handed over): ${(performance.now() - t).toFixed(0)} ms (${setApps} setApps, ${setPods} setPods)`);
// one pod change
t = performance.now();
const before = setPods;
server.store.delete(k("pods"), "default", (realisticPod(5, "app5").metadata as {name:string}).name);
while (setPods === before) await new Promise((r) => setImmediate(r));
console.log(`one pod deleted → its app's pods handed over: ${(performance.now() - t).toFixed(1)} ms (watch latency included)`);
await inv.stop();
await server.close();
