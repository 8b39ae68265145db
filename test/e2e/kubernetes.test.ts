/**
 * Kubernetes mode end to end: the real `ticketplane serve --kubernetes`
 * against the sandbox (`npm run kube:sandbox`: the test API server, its
 * ReplicaSet controller and pods that answer), a gateway on ADS that ACKs
 * like Envoy, and Check through Envoy's own protos. The API server going
 * away makes the process not ready, and it recovers once it is back; tickets
 * are still honoured meanwhile, from the cache.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { Browser, checkClient } from "./check-client.js";
import { freePort, SandboxProcess } from "./kube-sandbox-process.js";
import { RawGateway } from "./raw-gateway.js";
import { KUBE_PROCESS_CONFIG as PROCESS_CONFIG, ServeProcess, getJson, runCli, tempDir } from "./serve-process.js";
import type { TempDir } from "./serve-process.js";
import { waitFor } from "../support/wait-for.js";

interface AppsBody {
  apps: { app: string; pods: { name: string; address: string; serving: boolean }[] }[];
}

describe("Kubernetes mode: ticketplane serve --kubernetes against the sandbox", () => {
  let tmp: TempDir;
  let sandbox: SandboxProcess;
  let serve: ServeProcess;
  let gateway: RawGateway | undefined;
  let client: grpc.Client | undefined;
  let kubeconfig: string;
  let alice: Browser;
  let alicePod: string | undefined;

  const appPods = async (): Promise<AppsBody["apps"][number]["pods"]> => ((await getJson(`${serve.admin}/api/apps`)).body as AppsBody).apps.find((a) => a.app === "demo/shiny")?.pods ?? [];

  before(async () => {
    tmp = await tempDir();
    sandbox = new SandboxProcess(["--dir", tmp.dir, "--ready-after", "200", "--replicas", "2", "--pod-port", String(await freePort())]);
    kubeconfig = (await sandbox.waitLines("kubeconfig"))[0] ?? "";
    const config = await tmp.write("tp.yaml", PROCESS_CONFIG);
    serve = new ServeProcess(["serve", "--kubernetes", "--kubeconfig", kubeconfig, "--namespace", "demo", "--config", config, "--log-format", "json", "--log-level", "debug"]);
    await serve.listening();
    gateway = new RawGateway(serve.addresses.xds ?? "");
    client = checkClient(serve.addresses.authz ?? "");
  });
  after(async () => {
    client?.close();
    gateway?.close();
    await serve?.kill();
    await sandbox?.kill();
    await tmp?.remove();
  });

  it("says which cluster, context and namespaces it watches, its control plane namespace and Lease, and that it leads", async () => {
    assert.match(serve.stderr, /Kubernetes mode, cluster http:\/\/127\.0\.0\.1:\d+ \(context test, from kubeconfig .*\), watching namespace demo/);
    assert.match(serve.stderr, /control plane namespace ticketplane-system: Lease ticketplane-leader \(identity [^)]+_[0-9a-f]{8}\), ledger in ConfigMaps ticketplane-system\/ticketplane-ledger-\* \(one per app\), keys from Secret ticketplane-system\/ticketplane-keys key keys\.yaml/);
    await waitFor(() => /this replica leads \(Lease ticketplane-leader\)/.test(serve.stderr), { what: () => `the leading line; stderr:\n${serve.stderr}` });
  });

  it("the sandbox prints the serve line this test runs (plus only --config for free ports and logging flags)", () => {
    assert.ok(sandbox.stderr.includes(`  npx tsx src/cli.ts serve --kubernetes --kubeconfig ${kubeconfig} --namespace demo\n`), sandbox.stderr);
  });

  it("routes the Deployment's ready pods over ADS and issues a ticket through Check that keeps its pod", async () => {
    await sandbox.waitLines("pod-server", 2);
    const gw = gateway as RawGateway;
    await waitFor(() => gw.podsFor("/shiny/").length === 2, { what: () => `the gateway routes to two pods (have ${JSON.stringify([gw.routes, gw.clusters])})` });
    await waitFor(async () => (await appPods()).filter((p) => p.serving).length === 2, { what: "two serving pods" });

    alice = new Browser(client as grpc.Client, "alice");
    const first = await alice.get("/shiny/");
    assert.equal(first.kind, "ok");
    alicePod = first.pod;
    assert.ok(alicePod !== undefined && (await appPods()).some((p) => p.name === alicePod), `the pod header names one of the app's pods: ${alicePod}`);
    assert.equal((await alice.get("/shiny/")).pod, alicePod, "the ticket keeps its pod");

    // The pod really answers at the address the inventory gave it (pod IP + the app's port).
    const address = (await appPods()).find((p) => p.name === alicePod)?.address ?? "";
    const res = await fetch(`http://${address}/shiny/`);
    assert.match(await res.text(), new RegExp(`hello from pod ${alicePod}`));
  });

  it("follows kubectl scaling the Deployment (a second client on the same API server)", async () => {
    await promisify(execFile)("kubectl", ["--kubeconfig", kubeconfig, "scale", "deployment", "shiny", "-n", "demo", "--replicas", "3"], { timeout: 30_000 });
    await waitFor(async () => (await appPods()).filter((p) => p.serving).length === 3, { what: "three serving pods after kubectl scale" });
  });

  it("the API server going away: readiness 503 naming the failing watches, tickets still honoured; back: 200", async () => {
    assert.equal((await fetch(`${serve.admin}/readyz`)).status, 200);
    await sandbox.pauseApiServer();
    await waitFor(async () => (await fetch(`${serve.admin}/readyz`)).status === 503, { what: "readyz 503 while the API server is away" });
    const body = JSON.stringify((await getJson(`${serve.admin}/readyz`)).body);
    assert.match(body, /watch of pods in namespace demo failing since [^:]+:\d\d:\d\d\.\d+Z: /, body);
    assert.equal((await alice.get("/shiny/")).pod, alicePod, "Check serves from the cache meanwhile");
    assert.equal(serve.child.exitCode, null, "no crash");

    await sandbox.resumeApiServer();
    await waitFor(async () => (await fetch(`${serve.admin}/readyz`)).status === 200, { timeoutMs: 45_000, what: "readyz 200 once the API server is back" });
  });
});

describe("Kubernetes mode: refusing to start", () => {
  it("exits 1 naming the server, the context and the cause", async () => {
    const tmp = await tempDir();
    try {
      const port = await freePort();
      const kubeconfig = await tmp.write("kubeconfig", `apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:${port}\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\ncurrent-context: gone\n`);
      const { code, stderr } = await runCli(["serve", "--kubernetes", "--kubeconfig", kubeconfig, "--log-format", "json"]);
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`ticketplane: cannot use the Kubernetes API server http://127\\.0\\.0\\.1:${port} \\(context gone\\): connection refused`));
    } finally {
      await tmp.remove();
    }
  });

  const refused = (name: string, args: (dir: string) => string[], code: number, message: RegExp): void => {
    it(name, async () => {
      const tmp = await tempDir();
      try {
        const run = await runCli(args(tmp.dir));
        assert.equal(run.code, code, run.stderr);
        assert.match(run.stderr, message);
      } finally {
        await tmp.remove();
      }
    });
  };
  refused("usage: --namespace with --all-namespaces", () => ["serve", "--kubernetes", "--namespace", "a", "--all-namespaces"], 2, /--namespace and --all-namespaces exclude each other/);
  refused("usage: a Kubernetes flag without --kubernetes", () => ["serve", "--config", "examples/standalone.yaml", "--namespace", "a"], 2, /--namespace needs --kubernetes/);
  refused("usage: a lease duration that is not a duration", () => ["serve", "--kubernetes", "--lease-duration", "soon"], 2, /--lease-duration soon: must be a duration/);
  refused("usage: lease timing that could let two leaders act at once", () => ["serve", "--kubernetes", "--lease-duration", "5s", "--renew-deadline", "6s"], 2, /0 < --retry-period < --renew-deadline < --lease-duration \(got 2s, 6s, 5s\)/);
  refused("usage: lease timing without --kubernetes", () => ["serve", "--config", "examples/standalone.yaml", "--retry-period", "1s"], 2, /--retry-period needs --kubernetes/);
  refused("usage: the state file is standalone's (the ledger lives in the API server)", () => ["serve", "--kubernetes", "--state-file", "x.json"], 2, /Unknown option '--state-file'/);
  refused("apps in --config: they come from the cluster", () => ["serve", "--kubernetes", "--config", "examples/standalone.yaml"], 1, /standalone\.yaml: apps: in Kubernetes mode apps come from the cluster/);
});
