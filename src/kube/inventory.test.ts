/**
 * KubeInventory against the test API server and its simulated ReplicaSet
 * controller, feeding the real ticket core: which apps exist, which pods
 * serve them, invalid apps left out by field, k8sTicket's label turned off,
 * draining from outside, terminating pods, watched namespaces.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Watch } from "@kubernetes/client-node";
import { TicketCore } from "../tickets/ticket-core.js";
import { FakeClock } from "../../test/support/fake-clock.js";
import { useKubeApi } from "../../test/support/kube-api/harness.js";
import { DEPLOYMENTS, TICKETED_APPS, deployment, ticketedApp } from "../../test/support/kube-api/objects.js";
import { ReplicaController } from "../../test/support/kube-api/replica-controller.js";
import { RecordingLogger } from "../../test/support/recording-logger.js";
import { waitFor } from "../../test/support/wait-for.js";
import { loadConnection } from "./client.js";
import { KubeInventory } from "./inventory.js";
import { kubeApis } from "./resources.js";

const K8S_ANNOTATIONS = { "ipb-halle.de/k8sticket.deployment.app": "legacy", "ipb-halle.de/k8sticket.deployment.maxPods": "3", "ipb-halle.de/k8sticket.deployment.maxTickets": "2" };

function k8sTicketDeployment(name: string, label = "true"): Record<string, unknown> {
  const d = deployment(name, 1) as { metadata: Record<string, unknown>; spec: { template: { metadata: Record<string, unknown> } } };
  d.metadata["labels"] = { app: name, k8sTicket: label };
  d.metadata["annotations"] = K8S_ANNOTATIONS;
  d.spec.template.metadata["labels"] = { app: name, "ipb-halle.de/k8sticket.deployment.app": "legacy" };
  d.spec.template.metadata["annotations"] = { "ipb-halle.de/k8sTicket.port": "3838" };
  return d;
}

describe("KubeInventory", () => {
  const kube = useKubeApi();
  let clock: FakeClock;
  let logger: RecordingLogger;
  let core: TicketCore;
  let inventory: KubeInventory | undefined;
  let controller: ReplicaController;

  beforeEach(() => {
    clock = new FakeClock();
    logger = new RecordingLogger();
    core = new TicketCore({ clock, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32).fill(7) }] }, routableByDefault: true });
    controller = new ReplicaController(kube.server.store).start();
  });
  afterEach(async () => {
    await inventory?.stop();
    inventory = undefined;
    controller.stop();
  });

  const start = async (namespaces: string[] = []): Promise<KubeInventory> => {
    const connection = loadConnection({ kubeconfig: await kube.server.writeKubeconfig(), env: {} });
    inventory = new KubeInventory({ apis: kubeApis(connection.kubeConfig), watch: new Watch(connection.kubeConfig), namespaces, clock, logger });
    inventory.feed(core);
    await inventory.start(new AbortController().signal);
    return inventory;
  };
  const post = async (path: string, body: unknown): Promise<void> => {
    const res = await kube.api.post(path, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  };
  const appKeys = (): string => core.apps().map((a) => `${a.namespace}/${a.name}`).sort().join(",");
  const pods = (app: string): string =>
    core
      .pods(app)
      .map((p) => `${p.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, "")}@${p.host}:${p.port}${p.ready ? "" : ":not-ready"}${p.draining ? ":draining" : ""}${p.canary ? ":canary" : ""}`)
      .join(",");
  const markAllReady = (namespace: string, name: string): void => {
    for (const p of controller.podsOf(namespace, name)) if (p.status === undefined || (p.status as { podIP?: string }).podIP === undefined) controller.markReady(namespace, String(p.metadata?.name));
  };
  const allocate = (app: string): string => core.allocate(app, { rejected: { ok: false, reason: "absent" } }).kind;

  it("TicketedApps and k8sTicket Deployments become apps; their Deployments' pods become pods once they have an IP", async () => {
    await post(DEPLOYMENTS, deployment("shiny", 2));
    await post(TICKETED_APPS, ticketedApp("shiny", { deployment: "shiny", pathPrefix: "/shiny/", port: 8080, maxPods: 4 }));
    await post(DEPLOYMENTS, k8sTicketDeployment("legacy-deploy"));
    await post(DEPLOYMENTS, deployment("unrelated", 1));
    await waitFor(() => controller.podsOf("default", "shiny").length === 2, { what: "the controller made the pods" });
    await start();
    assert.equal(appKeys(), "default/legacy,default/shiny");
    assert.equal(core.apps().find((a) => a.name === "legacy")?.ticketsPerPod, 2, "k8sTicket annotations read");
    assert.equal(pods("default/shiny"), "", "pending pods have no IP: not pods yet");
    assert.deepEqual(inventory?.observedPods("default/shiny").map((p) => p.phase), ["Pending", "Pending"]);

    markAllReady("default", "shiny");
    markAllReady("default", "legacy-deploy");
    await waitFor(() => /^shiny@127\.0\.1\.\d+:8080,shiny@127\.0\.1\.\d+:8080$/.test(pods("default/shiny")), { what: () => `shiny's pods ready (have ${pods("default/shiny")})` });
    await waitFor(() => /^legacy-deploy@127\.0\.1\.\d+:3838$/.test(pods("default/legacy")), { what: () => `legacy's pod on the k8sTicket port (have ${pods("default/legacy")})` });
    assert.equal(allocate("default/shiny"), "issued");
    assert.deepEqual(inventory?.readinessReasons(), []);
  });

  it("an invalid app is left out with every error naming its field; other apps are unaffected; fixing it brings it in", async () => {
    await post(DEPLOYMENTS, deployment("good", 1));
    await post(TICKETED_APPS, ticketedApp("good", { deployment: "good" }));
    await post(TICKETED_APPS, ticketedApp("bad", { deployment: "good", ticketsPerPod: "zero", pathPrefix: "/bad/" }));
    await post(TICKETED_APPS, ticketedApp("nodeploy", { pathPrefix: "/nodeploy/" }));
    const seen: string[][] = [];
    await start();
    inventory?.onInvalidApps((invalid) => seen.push(invalid.map((i) => i.object.name)));
    assert.equal(appKeys(), "default/good");
    const invalid = inventory?.invalidApps() ?? [];
    assert.deepEqual(invalid.map((i) => `${i.object.kind} ${i.object.name}: ${i.errors.map((e) => e.path).join()}`).sort(), ["TicketedApp bad: spec.ticketsPerPod", "TicketedApp nodeploy: spec.deployment"]);
    assert.ok(logger.lines.some((l) => l.level === "warn" && l.fields["path"] === "spec.ticketsPerPod" && l.fields["name"] === "bad"));

    const res = await kube.api.patch(`${TICKETED_APPS}/bad`, { spec: { ticketsPerPod: 2 } }, "application/merge-patch+json");
    assert.equal(res.status, 200);
    await waitFor(() => appKeys() === "default/bad,default/good", { what: "bad fixed" });
    assert.deepEqual(seen.at(-1), ["nodeploy"]);
  });

  it("an app edited into an invalid one keeps its last good spec (its tickets stay), and is reported", async () => {
    await post(DEPLOYMENTS, deployment("shiny", 1));
    await post(TICKETED_APPS, ticketedApp("shiny", { deployment: "shiny", ticketsPerPod: 1 }));
    await waitFor(() => controller.podsOf("default", "shiny").length === 1, { what: "pod" });
    markAllReady("default", "shiny");
    await start();
    await waitFor(() => pods("default/shiny") !== "", { what: "pod in" });
    const issued = core.allocate("default/shiny", { rejected: { ok: false, reason: "absent" } });
    assert.equal(issued.kind, "issued");
    await kube.api.patch(`${TICKETED_APPS}/shiny`, { spec: { maxPods: -1 } }, "application/merge-patch+json");
    await waitFor(() => inventory?.invalidApps().length === 1, { what: "reported invalid" });
    assert.equal(appKeys(), "default/shiny");
    assert.equal(core.tickets("default/shiny").length, 1, "the ticket survives a bad edit");
  });

  it("k8sTicket label set to anything but \"true\": existing tickets are served, no new ones; back to \"true\" serves again", async () => {
    await post(DEPLOYMENTS, k8sTicketDeployment("legacy-deploy"));
    await waitFor(() => controller.podsOf("default", "legacy-deploy").length === 1, { what: "pod" });
    markAllReady("default", "legacy-deploy");
    await start();
    await waitFor(() => pods("default/legacy") !== "", { what: "pod in" });
    const first = core.allocate("default/legacy", { rejected: { ok: false, reason: "absent" } });
    assert.equal(first.kind, "issued");
    const token = first.kind === "issued" ? first.token : "";

    await kube.api.patch(`${DEPLOYMENTS}/legacy-deploy`, { metadata: { labels: { k8sTicket: "false" } } }, "application/merge-patch+json");
    await waitFor(() => pods("default/legacy").endsWith(":draining"), { what: () => `pods draining (have ${pods("default/legacy")})` });
    assert.equal(appKeys(), "default/legacy", "the app stays while it has users");
    assert.equal(core.verify("default/legacy", token).ok, true, "the existing ticket is still served");
    const newcomer = core.allocate("default/legacy", { rejected: { ok: false, reason: "absent" } });
    assert.deepEqual([newcomer.kind, newcomer.kind === "refused" ? newcomer.reason : undefined], ["refused", "queue_full"], "no new tickets, and no line to wait in");

    await kube.api.patch(`${DEPLOYMENTS}/legacy-deploy`, { metadata: { labels: { k8sTicket: "true" } } }, "application/merge-patch+json");
    await waitFor(() => !pods("default/legacy").includes(":draining"), { what: "serving again" });
    assert.equal(allocate("default/legacy"), "issued");
  });

  it("a k8sTicket Deployment already switched off when the process starts is known (its pods drain) rather than forgotten", async () => {
    await post(DEPLOYMENTS, k8sTicketDeployment("legacy-deploy", "no"));
    await waitFor(() => controller.podsOf("default", "legacy-deploy").length === 1, { what: "pod" });
    markAllReady("default", "legacy-deploy");
    await start();
    assert.equal(appKeys(), "default/legacy");
    await waitFor(() => pods("default/legacy").endsWith(":draining"), { what: () => `draining pod (have ${pods("default/legacy")})` });
    assert.deepEqual(inventory?.apps().map((a) => a.disabled), [true]);
  });

  it("reload relists every collection; a start refused for good (a kind not served) stops the informers that did list", async () => {
    await start(["default"]);
    const lists = (): number => kube.server.requests.filter((r) => r.method === "GET" && !r.query.includes("watch=true") && r.path.startsWith("/ap")).length;
    const before = lists();
    await inventory?.reload();
    await waitFor(() => lists() === before + 3, { what: "three relists" });

    await waitFor(() => kube.server.openWatches === 3, { what: () => `the relisted informers' three watches (open: ${kube.server.openWatches})` });

    // RBAC refusing one kind is a refusal for good: the start fails naming it, and the informers that listed stop watching.
    const connection = loadConnection({ kubeconfig: await kube.server.writeKubeconfig(), env: {} });
    // Refused only once the pods and Deployments informers of this inventory are watching, so stopping them is what closes their watches.
    const refuseOnceOthersWatch = async (): Promise<never> => {
      await waitFor(() => kube.server.openWatches === 5, { what: "the other informers watching" });
      throw Object.assign(new Error("HTTP-Code: 403"), { code: 403, body: { kind: "Status", code: 403, reason: "Forbidden", message: "ticketedapps is forbidden" } });
    };
    const forbidden = new KubeInventory({ apis: { ...kubeApis(connection.kubeConfig), custom: { listNamespacedCustomObject: refuseOnceOthersWatch } as never }, watch: new Watch(connection.kubeConfig), namespaces: ["default"], clock, logger });
    forbidden.feed(core);
    await assert.rejects(forbidden.start(new AbortController().signal), /cannot list TicketedApps in namespace default: 403 Forbidden: ticketedapps is forbidden/);
    await waitFor(() => kube.server.openWatches === 3, { what: () => `only the first inventory's three watches left open (open: ${kube.server.openWatches})` });
  });

  it("setDraining from outside and the draining annotation are merged into the pods; a terminating pod drains; a deleted pod is gone", async () => {
    await post(DEPLOYMENTS, deployment("shiny", 2));
    await post(TICKETED_APPS, ticketedApp("shiny", { deployment: "shiny", port: 8080, maxPods: 4 }));
    await waitFor(() => controller.podsOf("default", "shiny").length === 2, { what: "pods" });
    markAllReady("default", "shiny");
    await start();
    await waitFor(() => core.pods("default/shiny").length === 2, { what: "pods in" });
    const [a, b] = core.pods("default/shiny").map((p) => p.name) as [string, string];
    inventory?.setDraining("default/shiny", a, true);
    assert.equal(core.pods("default/shiny").find((p) => p.name === a)?.draining, true);
    assert.equal(core.pods("default/shiny").find((p) => p.name === b)?.draining, false);
    inventory?.setDraining("default/shiny", a, false);
    assert.equal(core.pods("default/shiny").find((p) => p.name === a)?.draining, false);

    // The ticketplane.dev/draining annotation (any replica's reconciler, a preStop hook, a person) drains the pod too, and its removal serves again.
    await kube.api.patch(`/api/v1/namespaces/default/pods/${a}`, { metadata: { annotations: { "ticketplane.dev/draining": "2026-01-01T00:00:00.000Z prestop" } } }, "application/merge-patch+json");
    await waitFor(() => core.pods("default/shiny").find((p) => p.name === a)?.draining === true, { what: "annotated pod draining" });
    assert.equal(inventory?.observedPods("default/shiny").find((p) => p.name === a)?.drainMark, "2026-01-01T00:00:00.000Z prestop");
    await kube.api.patch(`/api/v1/namespaces/default/pods/${a}`, { metadata: { annotations: { "ticketplane.dev/draining": null } } }, "application/merge-patch+json");
    await waitFor(() => core.pods("default/shiny").find((p) => p.name === a)?.draining === false, { what: "annotation removed: serving again" });

    // A finalizer keeps the deleted pod terminating (deletionTimestamp set) until it is removed.
    await kube.api.patch(`/api/v1/namespaces/default/pods/${b}`, { metadata: { finalizers: ["test/hold"] } }, "application/merge-patch+json");
    await kube.api.delete(`/api/v1/namespaces/default/pods/${b}`);
    await waitFor(() => core.pods("default/shiny").find((p) => p.name === b)?.draining === true, { what: "terminating pod draining" });
    await kube.api.patch(`/api/v1/namespaces/default/pods/${b}`, { metadata: { finalizers: null } }, "application/merge-patch+json");
    await waitFor(() => core.pods("default/shiny").every((p) => p.name !== b), { what: "deleted pod gone" });
  });

  it("the canary Deployment's pods are canary pods of the same app", async () => {
    await post(DEPLOYMENTS, deployment("shiny", 1));
    await post(DEPLOYMENTS, deployment("shiny-v2", 1));
    await post(TICKETED_APPS, ticketedApp("shiny", { deployment: "shiny", port: 8080, canary: { deployment: "shiny-v2", weight: 10 } }));
    await waitFor(() => controller.podsOf("default", "shiny-v2").length === 1 && controller.podsOf("default", "shiny").length === 1, { what: "pods" });
    markAllReady("default", "shiny");
    markAllReady("default", "shiny-v2");
    await start();
    await waitFor(() => core.pods("default/shiny").length === 2, { what: "both pods" });
    assert.deepEqual(core.pods("default/shiny").map((p) => `${p.name.split("-").slice(0, -2).join("-")}:${p.canary}`).sort(), ["shiny-v2:true", "shiny:false"]);
  });

  it("watches only the namespaces it is given", async () => {
    for (const ns of ["shop", "other"]) {
      await post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      await post(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment("web", 1));
      await post(`/apis/ticketplane.dev/v1alpha1/namespaces/${ns}/ticketedapps`, ticketedApp("web", { deployment: "web" }));
    }
    await start(["shop"]);
    assert.equal(appKeys(), "shop/web");
    assert.ok(kube.server.requests.every((r) => r.method !== "GET" || !r.path.includes("/namespaces/other")), "nothing read from other namespaces");
  });

  it("readiness names the failing watch while the API server is away, and clears once it is back", async () => {
    await post(DEPLOYMENTS, deployment("shiny", 1));
    await post(TICKETED_APPS, ticketedApp("shiny", { deployment: "shiny" }));
    await start();
    await waitFor(() => kube.server.openWatches === 3, { what: "three watches" });
    await kube.server.pause();
    await waitFor(() => (inventory?.readinessReasons().length ?? 0) === 3, { what: "three failing watches" });
    assert.ok(inventory?.readinessReasons().some((r) => /^watch of pods in every namespace failing since /.test(r)), inventory?.readinessReasons().join("\n"));
    await kube.server.resume();
    await waitFor(
      async () => {
        await clock.advanceAsync(1_000);
        return inventory?.readinessReasons().length === 0;
      },
      { what: "healthy again" },
    );
    assert.equal(appKeys(), "default/shiny");
  });
});
