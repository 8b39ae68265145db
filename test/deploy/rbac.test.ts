/**
 * deploy/rbac.yaml: its shape, the least verbs it grants, and a recorder
 * that compares every request a client-node run makes to the test API server
 * with what the manifest allows. The run below makes the calls Kubernetes
 * mode is specified to make (informers, status, scale, deletion cost, Lease,
 * Events, ledger ConfigMaps, key Secret); once the reconciler is wired, its
 * own scenario runs attach the same RbacRecorder and assert `denied` is empty.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { ROOT } from "../e2e/serve-process.js";
import { useKubeApi } from "../support/kube-api/harness.js";
import { deployment, pod, ticketedApp } from "../support/kube-api/objects.js";
import { allows, RbacPolicy, RbacRecorder, readRequest, shippedRules, TICKETPLANE_SUBJECT, type GrantedRule } from "../support/rbac.js";
import { waitFor } from "../support/wait-for.js";

const policy = new RbacPolicy(readFileSync(join(ROOT, "deploy/rbac.yaml"), "utf8"));
const CONTROL = "ticketplane-system";
const SUBJECT = { namespace: CONTROL, name: "ticketplane" };
const APPS_NS = "team-a";

describe("deploy/rbac.yaml", () => {
  it("is a ServiceAccount, a ClusterRole and a Role, each bound to it", () => {
    assert.deepEqual(policy.objects.map((o) => `${o.kind}/${o.metadata.name}${o.metadata.namespace === undefined ? "" : ` in ${o.metadata.namespace}`}`), [
      `ServiceAccount/ticketplane in ${CONTROL}`,
      "ClusterRole/ticketplane",
      `Role/ticketplane in ${CONTROL}`,
      "ClusterRoleBinding/ticketplane",
      `RoleBinding/ticketplane in ${CONTROL}`,
    ]);
  });

  it("grants exactly the least verbs Kubernetes mode needs, no wildcard", () => {
    const grants = policy.rulesFor(SUBJECT).map((r) => `${r.namespace ?? "*"} ${r.apiGroups.join(",") || "core"} ${r.resources.join(",")}: ${[...r.verbs].sort().join(",")}`);
    assert.deepEqual(grants, [
      "* ticketplane.dev ticketedapps: get,list,watch",
      "* ticketplane.dev ticketedapps/status: patch,update",
      "* apps deployments: get,list,watch",
      "* apps deployments/scale: get,patch,update",
      "* autoscaling horizontalpodautoscalers: list,watch",
      "* keda.sh scaledobjects: list,watch",
      "* networking.istio.io virtualservices: get,list,patch,watch",
      "* core pods: get,list,patch,watch",
      "* events.k8s.io events: create,patch",
      "* core events: create,patch",
      `${CONTROL} coordination.k8s.io leases: create,get,list,update,watch`,
      `${CONTROL} core configmaps: create,delete,get,list,patch,update,watch`,
      `${CONTROL} core secrets: create,get`,
    ]);
    for (const r of policy.rulesFor(SUBJECT)) for (const v of [...r.verbs, ...r.resources, ...r.apiGroups]) assert.notEqual(v, "*", r.from);
  });

  it("is what shippedRules() gives scenario tests", () => {
    assert.deepEqual(TICKETPLANE_SUBJECT, SUBJECT);
    assert.deepEqual(shippedRules(), policy.rulesFor(SUBJECT));
  });

  it("binds nothing to a role the manifest lacks", () => {
    assert.doesNotThrow(() => policy.rulesFor(SUBJECT));
    assert.deepEqual(policy.rulesFor({ namespace: "default", name: "ticketplane" }), [], "only the ServiceAccount in the control namespace is bound");
  });
});

describe("readRequest: what the authorizer is asked", () => {
  const cases: readonly [string, string, string, string][] = [
    ["GET", "/api/v1/namespaces/a/pods", "", "list  pods  a "],
    ["GET", "/api/v1/pods", "?watch=true&resourceVersion=5", "watch  pods   "],
    ["GET", "/api/v1/watch/namespaces/a/pods", "", "watch  pods  a "],
    ["GET", "/api/v1/namespaces/s/secrets", "?watch=1&fieldSelector=metadata.name%3Dkeys", "watch  secrets  s keys"],
    ["GET", "/apis/apps/v1/namespaces/a/deployments/web/scale", "", "get apps deployments scale a web"],
    ["PUT", "/apis/ticketplane.dev/v1alpha1/namespaces/a/ticketedapps/nb/status", "", "update ticketplane.dev ticketedapps status a nb"],
    ["PATCH", "/api/v1/namespaces/a/pods/p", "", "patch  pods  a p"],
    ["POST", "/apis/events.k8s.io/v1/namespaces/a/events", "", "create events.k8s.io events  a "],
    ["DELETE", "/api/v1/namespaces/a/pods", "", "deletecollection  pods  a "],
    // A namespace's own path carries its name as the namespace too, as the API server reads it.
    ["DELETE", "/api/v1/namespaces/a", "", "delete  namespaces  a a"],
    ["PUT", "/api/v1/namespaces/a/finalize", "", "update  namespaces finalize a a"],
  ];
  for (const [method, path, query, want] of cases) {
    it(`${method} ${path}${query}`, () => {
      const r = readRequest(method, path, query);
      assert.equal(r.kind, "resource");
      if (r.kind !== "resource") return;
      const a = r.attributes;
      assert.equal([a.verb, a.group, a.resource, a.subresource, a.namespace, a.name].join(" "), want);
    });
  }

  it("discovery paths are non-resource requests", () => {
    for (const p of ["/api", "/apis", "/apis/apps", "/version", "/openapi/v3"]) assert.equal(readRequest("GET", p).kind, "nonResource", p);
  });

  it("a Role grants in its namespace only; resourceNames bind names", () => {
    const rule: GrantedRule = { apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: ["ledger"], namespace: "cp", from: "Role/x" };
    const at = (namespace: string, name: string) => ({ verb: "get", group: "", resource: "configmaps", subresource: "", namespace, name });
    assert.equal(allows(rule, at("cp", "ledger")), true);
    assert.equal(allows(rule, at("other", "ledger")), false);
    assert.equal(allows(rule, at("cp", "other")), false);
    assert.equal(allows({ ...rule, resourceNames: [] }, { ...at("cp", ""), subresource: "status" }), false, "a subresource needs its own grant");
  });
});

describe("the API calls client-node makes, against the RBAC rules", () => {
  const k = useKubeApi();

  async function setUp(): Promise<k8s.KubeConfig> {
    for (const name of [CONTROL, APPS_NS]) await k.api.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    await k.api.post(`/apis/apps/v1/namespaces/${APPS_NS}/deployments`, deployment("nb", 1));
    await k.api.post(`/api/v1/namespaces/${APPS_NS}/pods`, pod("nb-1", { app: "nb" }));
    await k.api.post(`/apis/ticketplane.dev/v1alpha1/namespaces/${APPS_NS}/ticketedapps`, ticketedApp("nb"));
    await k.api.post(`/api/v1/namespaces/${CONTROL}/secrets`, { apiVersion: "v1", kind: "Secret", metadata: { name: "ticketplane-keys" }, stringData: { "keys.yaml": "x" } });
    // client-node refuses plain http unless told to skip TLS verification (the test server speaks no TLS).
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "test", server: k.server.url, skipTLSVerify: true }],
      users: [{ name: "ticketplane", token: "test-token" }],
      contexts: [{ name: "test", cluster: "test", user: "ticketplane" }],
      currentContext: "test",
    });
    return kc;
  }

  it("the calls Kubernetes mode makes are all allowed", async () => {
    const kc = await setUp();
    const recorder = new RbacRecorder(k.server);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const leases = kc.makeApiClient(k8s.CoordinationV1Api);
    const events = kc.makeApiClient(k8s.EventsV1Api);
    const merge = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

    // Informers: pods, Deployments and TicketedApps in every namespace (list, then watch).
    const informers = [
      k8s.makeInformer(kc, "/api/v1/pods", () => core.listPodForAllNamespaces()),
      k8s.makeInformer(kc, "/apis/apps/v1/deployments", () => apps.listDeploymentForAllNamespaces()),
      k8s.makeInformer(kc, "/apis/ticketplane.dev/v1alpha1/ticketedapps", () => custom.listClusterCustomObject({ group: "ticketplane.dev", version: "v1alpha1", plural: "ticketedapps" }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>),
      // Who owns replicas: HPAs and KEDA ScaledObjects.
      k8s.makeInformer(kc, "/apis/autoscaling/v2/horizontalpodautoscalers", () => kc.makeApiClient(k8s.AutoscalingV2Api).listHorizontalPodAutoscalerForAllNamespaces()),
      k8s.makeInformer(kc, "/apis/keda.sh/v1alpha1/scaledobjects", () => custom.listClusterCustomObject({ group: "keda.sh", version: "v1alpha1", plural: "scaledobjects" }) as Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>),
    ];
    try {
      for (const i of informers) await i.start();
      await waitFor(() => k.server.openWatches >= 5, { what: "five informer watches" });
    } finally {
      for (const i of informers) await i.stop();
    }
    // The leader: status, scale, deletion cost, Events.
    const app = (await custom.getNamespacedCustomObject({ group: "ticketplane.dev", version: "v1alpha1", namespace: APPS_NS, plural: "ticketedapps", name: "nb" })) as Record<string, unknown>;
    await custom.replaceNamespacedCustomObjectStatus({ group: "ticketplane.dev", version: "v1alpha1", namespace: APPS_NS, plural: "ticketedapps", name: "nb", body: { ...app, status: { pods: 0, mode: "Proxy" } } });
    await custom.patchNamespacedCustomObjectStatus({ group: "ticketplane.dev", version: "v1alpha1", namespace: APPS_NS, plural: "ticketedapps", name: "nb", body: { status: { pods: 1, used: 0, free: 1, queued: 0, mode: "Serve" } } }, merge);
    const scale = await apps.readNamespacedDeploymentScale({ name: "nb", namespace: APPS_NS });
    await apps.replaceNamespacedDeploymentScale({ name: "nb", namespace: APPS_NS, body: { ...scale, spec: { replicas: 2 } } });
    await apps.patchNamespacedDeploymentScale({ name: "nb", namespace: APPS_NS, body: { spec: { replicas: 1 } } }, merge);
    await core.patchNamespacedPod({ name: "nb-1", namespace: APPS_NS, body: { metadata: { annotations: { "controller.kubernetes.io/pod-deletion-cost": "-100" } } } }, merge);
    await events.createNamespacedEvent({ namespace: APPS_NS, body: { metadata: { generateName: "nb." }, eventTime: new k8s.V1MicroTime(), action: "Scale", reason: "ScaledUp", reportingController: "ticketplane.dev/reconciler", reportingInstance: "tp-0", type: "Normal", regarding: { kind: "TicketedApp", namespace: APPS_NS, name: "nb" } } });
    await core.createNamespacedEvent({ namespace: APPS_NS, body: { metadata: { generateName: "nb." }, reason: "InvalidConfig", message: "spec.maxPods: 0", type: "Warning", involvedObject: { kind: "TicketedApp", namespace: APPS_NS, name: "nb" } } });
    // Leader election, the ledger, the keys: in the control plane's namespace.
    const lease = await leases.createNamespacedLease({ namespace: CONTROL, body: { metadata: { name: "ticketplane" }, spec: { holderIdentity: "tp-0", leaseDurationSeconds: 15 } } });
    await leases.replaceNamespacedLease({ name: "ticketplane", namespace: CONTROL, body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime() } } });
    await leases.readNamespacedLease({ name: "ticketplane", namespace: CONTROL });
    const ledger = await core.createNamespacedConfigMap({ namespace: CONTROL, body: { metadata: { name: "ticketplane-ledger-team-a-nb" }, data: { snapshot: "{}" } } });
    await core.replaceNamespacedConfigMap({ name: "ticketplane-ledger-team-a-nb", namespace: CONTROL, body: { ...ledger, data: { snapshot: "{\"version\":1}" } } });
    await core.readNamespacedConfigMap({ name: "ticketplane-ledger-team-a-nb", namespace: CONTROL });
    await core.readNamespacedSecret({ name: "ticketplane-keys", namespace: CONTROL });
    recorder.detach();

    assert.ok(recorder.requests.length >= 20, `recorded ${recorder.requests.length} requests`);
    assert.deepEqual(recorder.denied(shippedRules()), []);
    // What this run did not exercise (the informer on the keys Secret, single gets of Deployments and pods …) stays for the reconciler's runs to use or drop.
    assert.deepEqual(recorder.unused(policy.rulesFor(SUBJECT)).filter((u) => u.includes("scale") || u.includes("status")), []);
  });

  it("a call the manifest does not allow is reported, naming it", async () => {
    const kc = await setUp();
    const recorder = new RbacRecorder(k.server);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.deleteNamespacedPod({ name: "nb-1", namespace: APPS_NS });
    await core.createNamespacedConfigMap({ namespace: APPS_NS, body: { metadata: { name: "not-in-the-control-namespace" } } });
    await core.readNamespacedSecret({ name: "ticketplane-keys", namespace: CONTROL });
    recorder.detach();
    assert.deepEqual(recorder.denied(policy.rulesFor(SUBJECT)), [`delete pods "nb-1" in ${APPS_NS}`, `create configmaps in ${APPS_NS}`]);
  });
});
