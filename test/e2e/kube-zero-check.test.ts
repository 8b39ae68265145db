/**
 * Two replicas as separate processes (`ticketplane serve --kubernetes` with
 * `listen.resolver`) against the sandbox's test API server, whose app
 * demo/shiny has a VirtualService: while its route `ticketplane-shiny`
 * points at the resolver, Check on the owner and on the follower alike lets
 * the app's requests through untouched (to the resolver); once the route
 * points back at the app, both answer as Check again. Each replica reads the
 * mode from its own watch of the VirtualService (no call between them).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { checkClient, checkRaw, headerPairs, isUntouched } from "./check-client.js";
import { freePort, SandboxProcess } from "./kube-sandbox-process.js";
import { KUBE_PROCESS_CONFIG, startOwnerThenFollower, tempDir } from "./serve-process.js";
import type { ServeProcess, TempDir } from "./serve-process.js";
import { ApiClient } from "../support/kube-api/http-client.js";
import { waitFor } from "../support/wait-for.js";

/** Where the flip points an app's route (ticketplane's Service in the default control namespace, the resolver's port). */
const AT_RESOLVER = [{ destination: { host: "ticketplane.ticketplane-system.svc.cluster.local", port: { number: 8081 } } }];
const GATEWAY = [{ destination: { host: "ticket-gateway.ticketplane-system.svc.cluster.local", port: { number: 8080 } } }];
const VS = "/apis/networking.istio.io/v1/namespaces/demo/virtualservices";

describe("Check at zero on every replica (serve --kubernetes, two processes)", () => {
  let tmp: TempDir;
  let sandbox: SandboxProcess;
  let api: ApiClient;
  let owner: ServeProcess;
  let follower: ServeProcess;
  const clients: grpc.Client[] = [];

  before(async () => {
    tmp = await tempDir();
    sandbox = new SandboxProcess(["--dir", tmp.dir, "--ready-after", "200", "--replicas", "1", "--pod-port", String(await freePort())]);
    const kubeconfig = (await sandbox.waitLines("kubeconfig"))[0] ?? "";
    api = new ApiClient((await sandbox.waitLines("api-server"))[0] ?? "");
    // The app's VirtualService as the reconciler's flip leaves it at zero: the route at the resolver, the app's destinations saved.
    const created = await api.post(VS, {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "shiny", annotations: { "ticketplane.dev/serve-route": JSON.stringify(GATEWAY) } },
      spec: { hosts: ["*"], http: [{ name: "ticketplane-shiny", match: [{ uri: { prefix: "/shiny/" } }], route: AT_RESOLVER }] },
    });
    assert.ok(created.status < 300, JSON.stringify(created.body));
    const config = await tmp.write("tp.yaml", `${KUBE_PROCESS_CONFIG}  resolver: 127.0.0.1:0\n`);
    const args = ["serve", "--kubernetes", "--kubeconfig", kubeconfig, "--namespace", "demo", "--config", config, "--peer-host", "127.0.0.1", "--log-format", "json"];
    ({ owner, follower } = await startOwnerThenFollower(args));
    for (const p of [owner, follower]) clients.push(checkClient(p.addresses.authz ?? ""));
  });
  after(async () => {
    for (const c of clients) c.close();
    await follower?.kill();
    await owner?.kill();
    await sandbox?.kill();
    await tmp?.remove();
  });

  it("the route at the resolver: both let the app's requests through untouched; back at the app: both are Check again", async () => {
    const ask = () => Promise.all(clients.map((c) => checkRaw(c, "/shiny/", { "x-ticketplane-cluster": "demo/shiny/forged" })));
    // Check answers once the replica is ready (it may still be publishing its routes): wait for an answer, not a 503.
    await waitFor(async () => (await ask()).every((r) => r.ok_response !== undefined), { timeoutMs: 30_000, what: "both replicas answer" });
    for (const [i, res] of (await ask()).entries()) {
      assert.ok(isUntouched(res), `replica ${i}: allowed untouched, got ${JSON.stringify(res)}`);
      assert.ok(res.ok_response?.headers_to_remove?.includes("x-ticketplane-cluster"), `replica ${i}: the forged header removed`);
    }
    const back = await api.patch(`${VS}/shiny`, { metadata: { annotations: { "ticketplane.dev/serve-route": null } }, spec: { http: [{ name: "ticketplane-shiny", match: [{ uri: { prefix: "/shiny/" } }], route: GATEWAY }] } }, "application/merge-patch+json");
    assert.ok(back.status < 300, JSON.stringify(back.body));
    // Check again: a ticket and its pod's cluster, or the waiting room, on each replica (a follower never issues: it forwards or fails closed).
    await waitFor(async () => (await ask()).every((r) => !isUntouched(r)), { timeoutMs: 30_000, what: "both replicas back to Check" });
    for (const res of await ask()) {
      const routed = headerPairs(res.ok_response?.headers).some(([k, v]) => k === "x-ticketplane-cluster" && v !== "demo/shiny/forged");
      assert.ok(routed || res.denied_response !== undefined, `Check's own answer: ${JSON.stringify(res)}`);
    }
  });
});
