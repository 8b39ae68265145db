/**
 * Memory per cached pod: N realistic pods (labels, annotations, owner,
 * managedFields, containers, status) in the test API server, listed and
 * watched by the real Informer over client-node, once stripped (what
 * Kubernetes mode caches) and once unstripped (the typed objects a plain
 * client-node cache would hold). Heap measured after a full GC, before and
 * after the cache fills, divided by N. Also the time of the full list.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Watch } from "@kubernetes/client-node";
import { silentLogger, systemClock } from "../../src/common/index.js";
import { loadConnection } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import { kubeApis, podsIn } from "../../src/kube/resources.js";
import { stripPod } from "../../src/kube/strip.js";
import { KubeApiServer } from "../../test/support/kube-api/server.js";

export interface PodCacheFigures {
  readonly pods: number;
  readonly strippedBytesPerPod: number;
  readonly unstrippedBytesPerPod: number;
  /** Time to list every pod (paged) into the stripped cache, ms. */
  readonly listMs: number;
}

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** A pod shaped like one a ReplicaSet makes on a real cluster (about 4–5 KiB of JSON). */
export function realisticPod(i: number, app: string): Record<string, unknown> {
  const name = `${app}-7d9f8b6c5-${i.toString(36).padStart(5, "x")}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { app, "pod-template-hash": "7d9f8b6c5", "ipb-halle.de/k8sticket.deployment.app": app },
      annotations: { "controller.kubernetes.io/pod-deletion-cost": String(i % 7), "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z", "ipb-halle.de/k8sTicket.port": "3838" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `${app}-7d9f8b6c5`, uid: `rs-${app}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      containers: [
        {
          name: "app",
          image: `registry.example/${app}:1.4.2`,
          ports: [{ containerPort: 3838, protocol: "TCP", name: "http" }],
          env: [{ name: "SHINY_LOG_LEVEL", value: "INFO" }, { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
          readinessProbe: { httpGet: { path: "/", port: 3838 }, periodSeconds: 5 },
          volumeMounts: [{ name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
          terminationMessagePath: "/dev/termination-log",
          imagePullPolicy: "IfNotPresent",
        },
      ],
      volumes: [{ name: "kube-api-access", projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: "token" } }, { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } }] } }],
      nodeName: `node-${i % 40}`,
      serviceAccountName: "default",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
    },
    status: {
      phase: "Running",
      podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      hostIP: `192.168.0.${i % 40}`,
      startTime: "2026-01-01T00:00:00Z",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" })),
      containerStatuses: [{ name: "app", ready: true, started: true, restartCount: 0, image: `registry.example/${app}:1.4.2`, imageID: `registry.example/${app}@sha256:${"ab".repeat(32)}`, containerID: `containerd://${"cd".repeat(32)}`, state: { running: { startedAt: "2026-01-01T00:00:01Z" } } }],
      qosClass: "Burstable",
    },
  };
}

async function fill(server: KubeApiServer, strip: (o: unknown) => unknown): Promise<{ bytes: number; listMs: number }> {
  const connection = loadConnection({ kubeconfig: await server.writeKubeconfig(), env: {} });
  const before = heap();
  const informer = new Informer({ source: podsIn(kubeApis(connection.kubeConfig), undefined), strip, keyOf: (o) => JSON.stringify([(o as { metadata?: { namespace?: string } }).metadata?.namespace, (o as { name?: string }).name ?? (o as { metadata?: { name?: string } }).metadata?.name]), watch: new Watch(connection.kubeConfig), clock: systemClock, logger: silentLogger });
  const started = performance.now();
  await informer.start(new AbortController().signal);
  const listMs = performance.now() - started;
  const bytes = heap() - before;
  await informer.stop();
  return { bytes, listMs };
}

export async function measurePodCache(pods: number, apps = Math.max(1, Math.round(pods / 20))): Promise<PodCacheFigures> {
  const server = await KubeApiServer.start();
  try {
    const kind = server.store.kinds.find((k) => k.plural === "pods");
    if (kind === undefined) throw new Error("the test API server serves no pods");
    for (let i = 0; i < pods; i++) server.store.create(kind, "default", realisticPod(i, `app${i % apps}`));
    const stripped = await fill(server, stripPod);
    const unstripped = await fill(server, (o) => o);
    return { pods, strippedBytesPerPod: stripped.bytes / pods, unstrippedBytesPerPod: unstripped.bytes / pods, listMs: stripped.listMs };
  } finally {
    await server.close();
  }
}
