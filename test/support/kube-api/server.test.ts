/**
 * The test API server's HTTP semantics, with plain fetch: what a controller
 * relies on (resourceVersions, optimistic concurrency, lists and watches,
 * patches, apply, subresources, selectors, errors as Status objects).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useKubeApi } from "./harness.ts";
import type { KObject } from "./kinds.ts";
import { KINDS } from "./kinds.ts";
import { configMap, CONFIGMAPS, deployment, DEPLOYMENTS, hpa, HPAS, pod, PODS, scaledObject, SCALED_OBJECTS, ticketedApp, TICKETED_APPS } from "./objects.ts";

type Meta = { name: string; resourceVersion: string; uid: string; generation?: number; creationTimestamp: string; deletionTimestamp?: string; managedFields?: { manager: string; operation: string }[]; labels?: Record<string, string>; finalizers?: string[] };
const metaOf = (o: KObject) => o.metadata as Meta;
const names = (list: KObject) => (list.items as KObject[]).map((o) => metaOf(o).name);

const k = useKubeApi();

describe("kube-api: objects", () => {
  it("create sets uid, creationTimestamp and a resourceVersion from one global counter; a second create is 409 AlreadyExists", async () => {
    const a = await k.api.post(PODS, pod("a"));
    const b = await k.api.post(CONFIGMAPS, configMap("b"));
    assert.equal(a.status, 201);
    assert.match(metaOf(a.body).uid, /^[0-9a-f-]{36}$/);
    assert.match(metaOf(a.body).creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(Number(metaOf(b.body).resourceVersion), Number(metaOf(a.body).resourceVersion) + 1);
    assert.equal((a.body.status as { phase: string }).phase, "Pending");
    const again = await k.api.post(PODS, pod("a"));
    assert.equal(again.status, 409);
    assert.deepEqual({ kind: again.body.kind, status: again.body.status, reason: again.body.reason, code: again.body.code }, { kind: "Status", status: "Failure", reason: "AlreadyExists", code: 409 });
    const missing = await k.api.get(`${PODS}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.reason, "NotFound");
    assert.equal(missing.body.message, 'pods "nope" not found');
    assert.deepEqual(missing.body.details, { name: "nope", group: "", kind: "pods" });
  });

  it("update with a stale resourceVersion is 409 Conflict; generation is bumped only by spec changes", async () => {
    const created = (await k.api.post(DEPLOYMENTS, deployment("web", 1))).body;
    assert.equal(metaOf(created).generation, 1);
    const labelled = await k.api.put(`${DEPLOYMENTS}/web`, { ...created, metadata: { ...metaOf(created), labels: { app: "web", tier: "x" } } });
    assert.equal(labelled.status, 200);
    assert.equal(metaOf(labelled.body).generation, 1, "a metadata change leaves generation alone");
    const stale = await k.api.put(`${DEPLOYMENTS}/web`, { ...created, spec: { ...(created.spec as object), replicas: 3 } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, "Conflict");
    assert.match(String(stale.body.message), /Operation cannot be fulfilled on deployments.apps "web": the object has been modified/);
    const fresh = await k.api.put(`${DEPLOYMENTS}/web`, { ...labelled.body, spec: { ...(created.spec as object), replicas: 3 } });
    assert.equal(fresh.status, 200);
    assert.equal(metaOf(fresh.body).generation, 2);
    assert.ok(Number(metaOf(fresh.body).resourceVersion) > Number(metaOf(labelled.body).resourceVersion));
  });

  it("rejects invalid objects with 422 Invalid and causes; a missing namespace is 404", async () => {
    const bad = await k.api.post(PODS, pod("Not_A_Name"));
    assert.equal(bad.status, 422);
    assert.equal(bad.body.reason, "Invalid");
    assert.equal((bad.body.details as { causes: { field: string }[] }).causes[0]?.field, "metadata.name");
    const mismatch = deployment("web", 1);
    (mismatch.spec as { selector: unknown }).selector = { matchLabels: { app: "other" } };
    assert.equal((await k.api.post(DEPLOYMENTS, mismatch)).status, 422);
    const noNs = await k.api.post("/api/v1/namespaces/ghost/pods", pod("a"));
    assert.equal(noNs.status, 404);
    assert.equal(noNs.body.message, 'namespaces "ghost" not found');
  });

  it("a ConfigMap or Secret over 1 MiB of data (binaryData and Secret data as decoded bytes) is 422 Too long, as the real API server says", async () => {
    const half = "x".repeat(600 * 1024);
    assert.equal((await k.api.post(CONFIGMAPS, configMap("fits", { a: half }))).status, 201);
    const big = await k.api.post(CONFIGMAPS, configMap("big", { a: half, b: half }));
    assert.equal(big.status, 422);
    assert.match(String(big.body.message), /must have at most 1048576 bytes/);
    const binary = { ...configMap("bin"), binaryData: { a: Buffer.alloc(700 * 1024).toString("base64") } };
    assert.equal((await k.api.post(CONFIGMAPS, binary)).status, 201, "binaryData counts its decoded bytes (base64 would be 933 KiB + 1 KiB over)");
    const grow = await k.api.patch(`${CONFIGMAPS}/fits`, { data: { b: half } }, "application/merge-patch+json");
    assert.equal(grow.status, 422, "a patch that grows it past the limit is refused too");
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { a: Buffer.alloc(1024 * 1024 + 1).toString("base64") } };
    assert.equal((await k.api.post("/api/v1/namespaces/default/secrets", secret)).status, 422);
  });

  it("delete: finalizers hold the object with a deletionTimestamp until the last one is removed; dependents go with their owner", async () => {
    const cm = (await k.api.post(CONFIGMAPS, { ...configMap("held"), metadata: { name: "held", finalizers: ["test/hold"] } })).body;
    const first = await k.api.delete(`${CONFIGMAPS}/held`);
    assert.equal(first.status, 200);
    assert.ok(metaOf(first.body).deletionTimestamp !== undefined);
    assert.equal((await k.api.get(`${CONFIGMAPS}/held`)).status, 200);
    const released = await k.api.patch(`${CONFIGMAPS}/held`, { metadata: { finalizers: null } }, "application/merge-patch+json");
    assert.equal(released.status, 200);
    assert.equal((await k.api.get(`${CONFIGMAPS}/held`)).status, 404);
    assert.ok(metaOf(cm).uid !== "");

    const owner = (await k.api.post(CONFIGMAPS, configMap("owner"))).body;
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: metaOf(owner).uid };
    await k.api.post(PODS, { ...pod("dependent"), metadata: { name: "dependent", ownerReferences: [ref] } });
    const gone = await k.api.delete(`${CONFIGMAPS}/owner`);
    assert.deepEqual({ kind: gone.body.kind, status: gone.body.status }, { kind: "Status", status: "Success" });
    assert.equal((await k.api.get(`${PODS}/dependent`)).status, 404);
  });
});

describe("kube-api: lists", () => {
  it("label selectors: =, ==, !=, in, notin, exists, !exists; field selectors on metadata.name and metadata.namespace", async () => {
    await k.api.post(CONFIGMAPS, configMap("a", {}, { tier: "web", env: "prod" }));
    await k.api.post(CONFIGMAPS, configMap("b", {}, { tier: "db", env: "dev" }));
    await k.api.post(CONFIGMAPS, configMap("c", {}, { tier: "cache" }));
    const select = async (q: string) => names((await k.api.get(`${CONFIGMAPS}?${q}`)).body);
    assert.deepEqual(await select("labelSelector=" + encodeURIComponent("tier=web")), ["a"]);
    assert.deepEqual(await select("labelSelector=" + encodeURIComponent("tier==db")), ["b"]);
    assert.deepEqual(await select("labelSelector=" + encodeURIComponent("env!=prod")), ["b", "c"]);
    assert.deepEqual(await select("labelSelector=" + encodeURIComponent("tier in (web,cache)")), ["a", "c"]);
    assert.deepEqual(await select("labelSelector=" + encodeURIComponent("tier notin (web),env")), ["b"]);
    assert.deepEqual(await select("labelSelector=" + encodeURIComponent("!env")), ["c"]);
    assert.deepEqual(await select("fieldSelector=" + encodeURIComponent("metadata.name=b")), ["b"]);
    assert.deepEqual(await select("fieldSelector=" + encodeURIComponent("metadata.name!=b,metadata.namespace=default")), ["a", "c"]);
    const unsupported = await k.api.get(`${CONFIGMAPS}?fieldSelector=${encodeURIComponent("data.x=1")}`);
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.message, "field label not supported: data.x");
  });

  it("limit and continue page through one consistent snapshot, with the list's resourceVersion; built-in list items carry no kind", async () => {
    for (const n of ["a", "b", "c", "d", "e"]) await k.api.post(CONFIGMAPS, configMap(n));
    const first = (await k.api.get(`${CONFIGMAPS}?limit=2`)).body;
    const listMeta = first.metadata as { resourceVersion: string; continue: string; remainingItemCount: number };
    assert.deepEqual(names(first), ["a", "b"]);
    assert.equal(listMeta.remainingItemCount, 3);
    assert.equal(first.kind, "ConfigMapList");
    assert.equal((first.items as KObject[])[0]?.kind, undefined);
    await k.api.post(CONFIGMAPS, configMap("bb"));
    await k.api.delete(`${CONFIGMAPS}/d`);
    const second = (await k.api.get(`${CONFIGMAPS}?limit=2&continue=${listMeta.continue}`)).body;
    assert.deepEqual(names(second), ["c", "d"], "the snapshot of the first page: no bb, d still there");
    const third = (await k.api.get(`${CONFIGMAPS}?limit=2&continue=${(second.metadata as { continue: string }).continue}`)).body;
    assert.deepEqual(names(third), ["e"]);
    assert.equal((third.metadata as { continue?: string }).continue, undefined);
    assert.equal((third.metadata as { resourceVersion: string }).resourceVersion, listMeta.resourceVersion);
  });

  it("resourceVersionMatch=Exact lists the state at that version; older than the history is 410 Expired, and so is an old continue token", async () => {
    await k.restartWith({ historyWindow: 3 });
    const rv = metaOf((await k.api.post(CONFIGMAPS, configMap("a"))).body).resourceVersion;
    await k.api.post(CONFIGMAPS, configMap("b"));
    assert.deepEqual(names((await k.api.get(`${CONFIGMAPS}?resourceVersion=${rv}&resourceVersionMatch=Exact`)).body), ["a"]);
    assert.deepEqual(names((await k.api.get(`${CONFIGMAPS}?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`)).body), ["a", "b"]);
    const page = (await k.api.get(`${CONFIGMAPS}?limit=1`)).body;
    for (const n of ["c", "d", "e", "f"]) await k.api.post(CONFIGMAPS, configMap(n));
    const old = await k.api.get(`${CONFIGMAPS}?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    assert.equal(old.status, 410);
    assert.deepEqual({ reason: old.body.reason, code: old.body.code }, { reason: "Expired", code: 410 });
    const token = (page.metadata as { continue: string }).continue;
    assert.equal((await k.api.get(`${CONFIGMAPS}?limit=1&continue=${token}`)).status, 410);
    assert.equal((await k.api.get(`${CONFIGMAPS}?resourceVersionMatch=Exact`)).status, 422, "resourceVersionMatch without resourceVersion");
  });
});

describe("kube-api: watches", () => {
  it("from a resourceVersion: the later changes, then live ADDED/MODIFIED/DELETED as newline-delimited JSON over chunked HTTP", async () => {
    const rv = metaOf((await k.api.post(CONFIGMAPS, configMap("a"))).body).resourceVersion;
    await k.api.patch(`${CONFIGMAPS}/a`, { data: { k: "1" } }, "application/merge-patch+json");
    const w = await k.watch(`${CONFIGMAPS}?resourceVersion=${rv}`);
    assert.equal(w.status, 200);
    assert.equal(w.headers.get("transfer-encoding"), "chunked");
    const replayed = await w.next();
    assert.equal(replayed.type, "MODIFIED");
    assert.deepEqual(replayed.object.data, { k: "1" });
    assert.equal(replayed.object.kind, "ConfigMap");
    await k.api.post(CONFIGMAPS, configMap("b"));
    await k.api.delete(`${CONFIGMAPS}/a`);
    const live = [await w.next(), await w.next()];
    assert.deepEqual(live.map((e) => [e.type, metaOf(e.object).name]), [["ADDED", "b"], ["DELETED", "a"]]);
    assert.ok(Number(metaOf(live[1]?.object ?? {}).resourceVersion) > Number(metaOf(live[0]?.object ?? {}).resourceVersion));
  });

  it("without a resourceVersion: the current objects as ADDED first; an object leaving the label selector is DELETED, one entering it ADDED", async () => {
    await k.api.post(CONFIGMAPS, configMap("a", {}, { app: "x" }));
    await k.api.post(CONFIGMAPS, configMap("b", {}, { app: "y" }));
    const w = await k.watch(`${CONFIGMAPS}?labelSelector=app%3Dx`);
    const first = await w.next();
    assert.deepEqual([first.type, metaOf(first.object).name], ["ADDED", "a"]);
    await k.api.patch(`${CONFIGMAPS}/a`, { metadata: { labels: { app: "y" } } }, "application/merge-patch+json");
    await k.api.patch(`${CONFIGMAPS}/b`, { metadata: { labels: { app: "x" } } }, "application/merge-patch+json");
    const moves = [await w.next(), await w.next()];
    assert.deepEqual(moves.map((e) => [e.type, metaOf(e.object).name]), [["DELETED", "a"], ["ADDED", "b"]]);
  });

  it("sends BOOKMARK events with the current resourceVersion when allowWatchBookmarks, and none otherwise", async () => {
    await k.restartWith({ bookmarkIntervalMs: 50 });
    const rv = k.server.store.resourceVersion;
    const withBookmarks = await k.watch(`${CONFIGMAPS}?resourceVersion=${rv}&allowWatchBookmarks=true`);
    const without = await k.watch(`${CONFIGMAPS}?resourceVersion=${rv}`);
    await k.api.post(CONFIGMAPS, configMap("a"));
    const seen = await withBookmarks.until((e) => e.type === "BOOKMARK");
    const bookmark = seen[seen.length - 1]?.object ?? {};
    assert.deepEqual([bookmark.kind, bookmark.apiVersion], ["ConfigMap", "v1"]);
    assert.equal(metaOf(bookmark).resourceVersion, String(k.server.store.resourceVersion));
    assert.equal((await without.next()).type, "ADDED");
    assert.equal(await without.nextOrUndefined(200), undefined);
  });

  it("a resourceVersion older than the kept history gets an ERROR event with a 410 Expired Status, then the stream ends", async () => {
    await k.restartWith({ historyWindow: 2 });
    const rv = metaOf((await k.api.post(CONFIGMAPS, configMap("a"))).body).resourceVersion;
    for (const n of ["b", "c", "d"]) await k.api.post(CONFIGMAPS, configMap(n));
    const w = await k.watch(`${CONFIGMAPS}?resourceVersion=${rv}`);
    assert.equal(w.status, 200);
    const e = await w.next();
    assert.equal(e.type, "ERROR");
    assert.deepEqual({ kind: e.object.kind, status: e.object.status, reason: e.object.reason, code: e.object.code }, { kind: "Status", status: "Failure", reason: "Expired", code: 410 });
    assert.match(String(e.object.message), /^too old resource version: \d+ \(\d+\)$/);
    await w.waitEnded();
  });

  it("timeoutSeconds ends the stream cleanly", async () => {
    const w = await k.watch(`${CONFIGMAPS}?resourceVersion=${k.server.store.resourceVersion}&timeoutSeconds=1`);
    await w.waitEnded(3_000);
    assert.equal(w.error, undefined);
    assert.equal(k.server.openWatches, 0);
  });

  it("sendInitialEvents: the current objects, then a BOOKMARK annotated k8s.io/initial-events-end", async () => {
    await k.api.post(CONFIGMAPS, configMap("a"));
    const w = await k.watch(`${CONFIGMAPS}?sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`);
    const events = await w.until((e) => e.type === "BOOKMARK");
    assert.deepEqual(events.map((e) => e.type), ["ADDED", "BOOKMARK"]);
    assert.deepEqual((events[1]?.object.metadata as { annotations: unknown }).annotations, { "k8s.io/initial-events-end": "true" });
  });
});

describe("kube-api: patches and apply", () => {
  it("merge patch (RFC 7386): maps merge, null deletes", async () => {
    await k.api.post(CONFIGMAPS, configMap("a", { x: "1", y: "2" }));
    const r = await k.api.patch(`${CONFIGMAPS}/a`, { data: { y: null, z: "3" } }, "application/merge-patch+json");
    assert.deepEqual(r.body.data, { x: "1", z: "3" });
  });

  it("JSON patch (RFC 6902): add, replace, remove, test; a failed test is 422 and changes nothing", async () => {
    await k.api.post(CONFIGMAPS, configMap("a", { x: "1" }));
    const ok = await k.api.patch(`${CONFIGMAPS}/a`, [{ op: "test", path: "/data/x", value: "1" }, { op: "add", path: "/data/y", value: "2" }, { op: "replace", path: "/data/x", value: "9" }, { op: "remove", path: "/data/y" }], "application/json-patch+json");
    assert.deepEqual(ok.body.data, { x: "9" });
    const failed = await k.api.patch(`${CONFIGMAPS}/a`, [{ op: "replace", path: "/data/x", value: "0" }, { op: "test", path: "/data/x", value: "1" }], "application/json-patch+json");
    assert.equal(failed.status, 422);
    assert.deepEqual((await k.api.get(`${CONFIGMAPS}/a`)).body.data, { x: "9" });
  });

  it("strategic merge patch: containers merge by name, ports by containerPort, $patch: delete removes an item; custom resources answer 415", async () => {
    const d = deployment("web", 1);
    const containers = [{ name: "app", image: "nginx:1", ports: [{ containerPort: 8080 }] }, { name: "sidecar", image: "envoy:1" }];
    (d.spec as { template: { spec: { containers: unknown } } }).template.spec.containers = containers;
    await k.api.post(DEPLOYMENTS, d);
    const patch = { spec: { template: { spec: { containers: [{ name: "app", image: "nginx:2", ports: [{ containerPort: 9090 }] }, { name: "sidecar", $patch: "delete" }] } } } };
    const r = await k.api.patch(`${DEPLOYMENTS}/web`, patch, "application/strategic-merge-patch+json");
    assert.equal(r.status, 200);
    const got = (r.body.spec as { template: { spec: { containers: unknown } } }).template.spec.containers;
    assert.deepEqual(got, [{ name: "app", image: "nginx:2", ports: [{ containerPort: 8080 }, { containerPort: 9090 }] }]);
    await k.api.post(TICKETED_APPS, ticketedApp("shiny"));
    const cr = await k.api.patch(`${TICKETED_APPS}/shiny`, { spec: { ticketsPerPod: 2 } }, "application/strategic-merge-patch+json");
    assert.equal(cr.status, 415);
    assert.equal(cr.body.reason, "UnsupportedMediaType");
  });

  it("server-side apply: creates, records managedFields per manager, 409 on another manager's field unless forced, drops fields the manager stopped applying", async () => {
    const yaml = (replicas: number, extraLabel: boolean) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
${extraLabel ? "    team: a\n" : ""}spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: "nginx:1"}]
`;
    const apply = (body: string, query: string) => k.api.request("PATCH", `${DEPLOYMENTS}/web?${query}`, body, "application/apply-patch+yaml");
    assert.equal((await apply(yaml(2, true), "")).status, 400, "apply needs a fieldManager");
    const created = await apply(yaml(2, true), "fieldManager=alice");
    assert.equal(created.status, 201);
    assert.deepEqual(metaOf(created.body).managedFields?.map((f) => [f.manager, f.operation]), [["alice", "Apply"]]);
    const conflict = await apply(yaml(3, false), "fieldManager=bob");
    assert.equal(conflict.status, 409);
    assert.match(String(conflict.body.message), /conflict with "alice" using apps\/v1: \.spec\.replicas/);
    const forced = await apply(yaml(3, false), "fieldManager=bob&force=true");
    assert.equal(forced.status, 200);
    assert.equal((forced.body.spec as { replicas: number }).replicas, 3);
    const again = await apply(yaml(2, false), "fieldManager=alice");
    assert.equal(again.status, 409, "alice lost .spec.replicas to bob's forced apply");
    const withoutReplicas = yaml(2, false).replace("  replicas: 2\n", "");
    const dropped = await apply(withoutReplicas, "fieldManager=alice");
    assert.equal(dropped.status, 200);
    assert.deepEqual(metaOf(dropped.body).labels, { app: "web" }, "alice no longer applies team, which nobody else owns");
    assert.equal((dropped.body.spec as { replicas: number }).replicas, 3, "bob's replicas stay");
  });
});

describe("kube-api: subresources", () => {
  it("scale: GET an autoscaling/v1 Scale, PUT and PATCH it; spec.replicas and generation follow; a stale resourceVersion is 409", async () => {
    await k.api.post(DEPLOYMENTS, deployment("web", 1));
    const scale = (await k.api.get(`${DEPLOYMENTS}/web/scale`)).body;
    assert.deepEqual([scale.kind, scale.apiVersion, scale.spec, (scale.status as { selector: string }).selector], ["Scale", "autoscaling/v1", { replicas: 1 }, "app=web"]);
    const put = await k.api.put(`${DEPLOYMENTS}/web/scale`, { ...scale, spec: { replicas: 4 } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.spec, { replicas: 4 });
    const d = (await k.api.get(`${DEPLOYMENTS}/web`)).body;
    assert.equal((d.spec as { replicas: number }).replicas, 4);
    assert.equal(metaOf(d).generation, 2);
    const patched = await k.api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: 2 } }, "application/merge-patch+json");
    assert.deepEqual(patched.body.spec, { replicas: 2 });
    assert.equal((await k.api.put(`${DEPLOYMENTS}/web/scale`, { ...scale, spec: { replicas: 5 } })).status, 409);
    assert.equal((await k.api.patch(`${DEPLOYMENTS}/web/scale`, { spec: { replicas: -1 } }, "application/merge-patch+json")).status, 422);
  });

  it("status: writes to the object keep the old status, writes to /status change only status and leave generation alone", async () => {
    await k.api.post(TICKETED_APPS, { ...ticketedApp("shiny"), status: { ignored: true } });
    const created = (await k.api.get(`${TICKETED_APPS}/shiny`)).body;
    assert.deepEqual(created.status, {}, "status is not taken on create");
    const st = await k.api.put(`${TICKETED_APPS}/shiny/status`, { ...created, spec: { pathPrefix: "/changed/" }, status: { pods: 2 } });
    assert.equal(st.status, 200);
    assert.deepEqual(st.body.status, { pods: 2 });
    assert.deepEqual(st.body.spec, created.spec);
    assert.equal(metaOf(st.body).generation, 1);
    const main = await k.api.put(`${TICKETED_APPS}/shiny`, { ...st.body, spec: { pathPrefix: "/new/" }, status: { pods: 99 } });
    assert.deepEqual(main.body.status, { pods: 2 });
    assert.equal(metaOf(main.body).generation, 2);
    const noRv = await k.api.put(`${TICKETED_APPS}/shiny`, { ...main.body, metadata: { name: "shiny" } });
    assert.equal(noRv.status, 422, "a custom resource update must name its resourceVersion");
  });
});

describe("kube-api: discovery", () => {
  it("serves the legacy resource lists and, when asked, aggregated discovery (apidiscovery.k8s.io/v2)", async () => {
    const apps = (await k.api.get("/apis/apps/v1")).body;
    const resources = apps.resources as { name: string; kind: string; shortNames?: string[]; group?: string; verbs: string[] }[];
    assert.deepEqual(resources.find((r) => r.name === "deployments")?.shortNames, ["deploy"]);
    assert.deepEqual(resources.find((r) => r.name === "deployments/scale"), { name: "deployments/scale", singularName: "", namespaced: true, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
    const groups = ((await k.api.get("/apis")).body.groups as { name: string }[]).map((g) => g.name);
    assert.deepEqual(groups, ["apps", "coordination.k8s.io", "events.k8s.io", "autoscaling", "keda.sh", "networking.istio.io", "ticketplane.dev"]);
    const accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    const aggregated = await k.api.get("/apis", { Accept: accept });
    assert.equal(aggregated.headers.get("content-type"), "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const items = aggregated.body.items as { metadata: { name: string }; versions: { version: string; resources: { resource: string; scope: string; subresources?: { subresource: string }[] }[] }[] }[];
    const ticketed = items.find((g) => g.metadata.name === "ticketplane.dev")?.versions[0]?.resources[0];
    assert.deepEqual([ticketed?.resource, ticketed?.scope, ticketed?.subresources?.map((s) => s.subresource)], ["ticketedapps", "Namespaced", ["status"]]);
    assert.equal((await k.api.get("/version")).body.gitVersion, "v1.32.0");
  });
});

describe("kube-api: HorizontalPodAutoscalers and KEDA ScaledObjects", () => {
  it("serves autoscaling/v2 HPAs (validated: a target and maxReplicas ≥ 1) and keda.sh ScaledObjects, with list and watch", async () => {
    const created = await k.api.post(HPAS, hpa("web-hpa", "web"));
    assert.equal(created.status, 201);
    assert.deepEqual((created.body.spec as { scaleTargetRef: unknown }).scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "web" });
    const bad = await k.api.post(HPAS, { ...hpa("broken", "web"), spec: { scaleTargetRef: { kind: "Deployment" }, maxReplicas: 0 } });
    assert.equal(bad.status, 422);
    const fields = ((bad.body.details as { causes: { field: string }[] }).causes).map((c) => c.field);
    assert.deepEqual(fields, ["spec.scaleTargetRef.name", "spec.maxReplicas"]);
    const w = await k.watch(`${SCALED_OBJECTS}?watch=true`);
    assert.equal((await k.api.post(SCALED_OBJECTS, scaledObject("web-so", "web"))).status, 201);
    const event = await w.next();
    assert.deepEqual([event.type, event.object.kind, (event.object.metadata as { generation?: number }).generation], ["ADDED", "ScaledObject", 1]);
    assert.deepEqual(names((await k.api.get(HPAS)).body), ["web-hpa"]);
  });

  it("a server without KEDA's kind answers 404 to a ScaledObject list, as a cluster without its CRD does", async () => {
    await k.restartWith({ kinds: KINDS.filter((kind) => kind.kind !== "ScaledObject") });
    const list = await k.api.get(SCALED_OBJECTS);
    assert.equal(list.status, 404);
    const groups = ((await k.api.get("/apis")).body.groups as { name: string }[]).map((g) => g.name);
    assert.equal(groups.includes("keda.sh"), false);
  });
});
