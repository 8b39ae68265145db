/**
 * Scale from zero through a replica that does not own the app: two
 * `ticketplane serve --kubernetes` processes with the resolver on, against
 * the sandbox's test API server and its simulated ReplicaSet controller
 * (pods answer on loopback addresses). The app starts at zero with minPods 0;
 * the owner (Lease holder) points its VirtualService route at the resolver.
 * A request to the follower's resolver is held; the follower's Wake reaches
 * the owner's reconciler, which scales 0 → 1; the follower probes the pod,
 * tells the owner it serves (the route points back), gets the user's ticket
 * from the owner, and answers with the pod's own 200.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { freePort, SandboxProcess } from "./kube-sandbox-process.js";
import { KUBE_PROCESS_CONFIG, startOwnerThenFollower, tempDir, type ServeProcess } from "./serve-process.js";
import type { TempDir } from "./serve-process.js";
import { httpGet, type GetAnswer } from "../support/http-get.js";
import { waitFor } from "../support/wait-for.js";

const RESOLVER_HOST = "ticketplane.ticketplane-system.svc.cluster.local";
const GATEWAY_HOST = "ticket-gateway.ticketplane-system.svc.cluster.local";

const VIRTUAL_SERVICE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: shiny
  namespace: demo
spec:
  hosts: ["*"]
  gateways: ["istio-system/ingress"]
  http:
    - name: ticketplane-shiny
      match: [{ uri: { prefix: /shiny/ } }]
      route: [{ destination: { host: ${GATEWAY_HOST}, port: { number: 8080 } } }]
`;

function get(address: string, path: string): Promise<GetAnswer> {
  const colon = address.lastIndexOf(":");
  return httpGet(address.slice(0, colon), Number(address.slice(colon + 1)), path);
}

describe("several replicas: a follower's resolver wakes an app at zero through the owner", () => {
  let tmp: TempDir;
  let sandbox: SandboxProcess;
  let owner: ServeProcess;
  let follower: ServeProcess;
  let kubectl: (...args: string[]) => Promise<string>;

  const routeHost = async (): Promise<string> => kubectl("get", "virtualservice", "shiny", "-n", "demo", "-o", "jsonpath={.spec.http[0].route[0].destination.host}");
  const metric = async (serve: ServeProcess, line: RegExp): Promise<number> => {
    const text = await (await fetch(`${serve.admin}/metrics`)).text();
    return Number(line.exec(text)?.[1] ?? 0);
  };

  before(async () => {
    tmp = await tempDir();
    sandbox = new SandboxProcess(["--dir", tmp.dir, "--ready-after", "200", "--replicas", "0", "--pod-port", String(await freePort())]);
    const kubeconfig = (await sandbox.waitLines("kubeconfig"))[0] ?? "";
    kubectl = async (...args) => (await promisify(execFile)("kubectl", ["--kubeconfig", kubeconfig, ...args], { timeout: 30_000 })).stdout;
    // The app at zero, allowed to stay there, its requests held up to a minute; the route ticketplane flips.
    await kubectl("patch", "ticketedapp", "shiny", "-n", "demo", "--type", "merge", "-p", JSON.stringify({ spec: { minPods: 0, resolver: { holdTimeout: "60s", waitingPage: false } } }));
    await kubectl("create", "-f", await tmp.write("vs.yaml", VIRTUAL_SERVICE));
    const config = await tmp.write("tp.yaml", `${KUBE_PROCESS_CONFIG}  resolver: 127.0.0.1:0\n`);
    const args = ["serve", "--kubernetes", "--kubeconfig", kubeconfig, "--namespace", "demo", "--config", config, "--peer-host", "127.0.0.1", "--log-format", "json"];
    ({ owner, follower } = await startOwnerThenFollower(args));
  });
  after(async () => {
    await follower?.kill();
    await owner?.kill();
    await sandbox?.kill();
    await tmp?.remove();
  });

  it("a request at zero on the follower's resolver gets the pod's 200 and a ticket; the owner scaled 0 → 1 and pointed the route back", async () => {
    await waitFor(async () => (await routeHost()) === RESOLVER_HOST, { timeoutMs: 30_000, what: () => `the owner points the route at the resolver; owner stderr:\n${owner.stderr.slice(-2000)}` });
    await waitFor(() => follower.addresses.resolver !== undefined, { what: "the follower's resolver" });
    assert.equal(await kubectl("get", "deployment", "shiny", "-n", "demo", "-o", "jsonpath={.spec.replicas}"), "0");

    const answer = await get(follower.addresses.resolver ?? "", "/shiny/hello");
    assert.equal(answer.status, 200, `${answer.body}\nfollower stderr:\n${follower.stderr.slice(-3000)}`);
    assert.match(answer.body, /^hello from pod shiny-\S+ \(127\.0\.1\.\d+:\d+\), you asked for \/hello/);
    assert.match(answer.cookie.join("; "), /ticketplane=t1\./, "the user got a ticket from the owner");
    assert.equal(await kubectl("get", "deployment", "shiny", "-n", "demo", "-o", "jsonpath={.spec.replicas}"), "1");
    assert.ok((await metric(follower, /^ticketplane_peer_wake_sent_total\{call="wake"\} (\d+)/m)) >= 1, "the follower sent Wake");
    assert.ok((await metric(owner, /^ticketplane_peer_wake_received_total\{call="wake",result="applied"\} (\d+)/m)) >= 1, "the owner applied it");
    // The follower's probe went through: Serving reached the owner, whose reconciler points the route back at the gateway.
    await waitFor(async () => (await routeHost()) === GATEWAY_HOST, { timeoutMs: 30_000, what: "the route back at the gateway" });
    assert.ok((await metric(owner, /^ticketplane_peer_wake_received_total\{call="serving",result="applied"\} (\d+)/m)) >= 1);
    assert.equal(follower.child.exitCode, null);
  });
});
