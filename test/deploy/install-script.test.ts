/**
 * scripts/install.sh against the test API server with the real kubectl:
 * --dry-run changes nothing, a missing prerequisite is named, the install
 * applies every kustomization (Istio's kinds served as CRDs would serve
 * them) and waits for the rollouts, and running it again changes nothing.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT } from "../e2e/serve-process.js";
import { ISTIO_KINDS, KINDS } from "../support/kube-api/kinds.js";
import { Kubectl, kubectlBinary } from "../support/kube-api/kubectl.js";
import { ReplicaController } from "../support/kube-api/replica-controller.js";
import { KubeApiServer } from "../support/kube-api/server.js";
import { runScript, type ScriptRun } from "../support/run-script.js";

const SCRIPT = join(ROOT, "scripts/install.sh");

function install(kubectl: Kubectl, args: readonly string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  // kubectl waits on a rollout at most 180 s.
  return runScript(SCRIPT, args, { HOME: kubectl.home, KUBECONFIG: kubectl.kubeconfig, KUBECTL: kubectlBinary(), ...env }, 240_000);
}

const writes = (server: KubeApiServer): string[] => server.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);

describe("scripts/install.sh", { timeout: 600_000 }, () => {
  describe("on a cluster with Istio", () => {
    let server: KubeApiServer;
    let kubectl: Kubectl;
    let controller: ReplicaController;
    before(async () => {
      server = await KubeApiServer.start({ kinds: [...KINDS, ...ISTIO_KINDS] });
      controller = new ReplicaController(server.store, { readyAfterMs: 10 }).start();
      kubectl = await Kubectl.create(server);
      // Istio's namespace, as istioctl install leaves it (the EnvoyFilter goes there).
      await kubectl.ok(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "istio-system" } }) });
      server.requests.length = 0;
    });
    after(async () => {
      await kubectl?.dispose();
      controller?.stop();
      await server?.close();
    });

    it("--dry-run checks the prerequisites, prints every step and writes nothing", async () => {
      const r = await install(kubectl, ["--dry-run", "--demo"]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      for (const dir of ["deploy", "envoy", "istio", "examples/kubernetes"]) assert.ok(r.stdout.includes(`would run: ${kubectlBinary()} apply -k ${join(ROOT, dir)}\n`), `${dir}:\n${r.stdout}`);
      assert.match(r.stdout, /Istio: its CRDs are installed/);
      assert.match(r.stdout, /Dry run: nothing was changed/);
      assert.deepEqual(writes(server), []);
    });

    it("a discovery that fails once (a slow or partly broken API server) is asked again, not taken for Istio missing", async () => {
      const dir = await mkdtemp(join(tmpdir(), "tp-kubectl-"));
      try {
        // kubectl as the script runs it, except that its first api-resources fails as a timed-out discovery does.
        const wrapper = join(dir, "kubectl");
        await writeFile(
          wrapper,
          `#!/usr/bin/env bash\nif [ "$1" = api-resources ] && [ ! -e "${dir}/failed" ]; then touch "${dir}/failed"; echo "error: the server was unable to return a response in the time allotted" >&2; exit 1; fi\nexec "${kubectlBinary()}" "$@"\n`,
          { mode: 0o755 },
        );
        const r = await install(kubectl, ["--dry-run", "--demo"], { KUBECTL: wrapper, ISTIOCTL: "/nonexistent/istioctl" });
        assert.equal(r.code, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /Istio: its CRDs are installed/);
        assert.deepEqual(writes(server), []);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("installs everything, waits for both rollouts, and a second run changes nothing", async () => {
      const first = await install(kubectl, ["--demo"]);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      assert.match(first.stdout, /deployment "ticketplane" successfully rolled out/);
      assert.match(first.stdout, /deployment "ticket-gateway" successfully rolled out/);
      const got = await kubectl.ok(["get", "deployments,services,envoyfilters,gateways,virtualservices,authorizationpolicies,peerauthentications,destinationrules,ticketedapps,customresourcedefinitions", "-A", "-o", "name"]);
      for (const name of [
        "deployment.apps/ticketplane",
        "deployment.apps/ticket-gateway",
        "deployment.apps/demo",
        "deployment.apps/demo-k8sticket",
        "service/ticketplane",
        "service/demo-pods",
        "envoyfilter.networking.istio.io/ticketplane-ext-authz",
        "gateway.networking.istio.io/ticketplane",
        "virtualservice.networking.istio.io/demo",
        "authorizationpolicy.security.istio.io/ticketplane",
        "ticketedapp.ticketplane.dev/demo",
        "customresourcedefinition.apiextensions.k8s.io/ticketedapps.ticketplane.dev",
      ])
        assert.ok(got.split("\n").includes(name), `${name} missing:\n${got}`);
      const before = writes(server).length;
      const second = await install(kubectl, ["--demo"]);
      assert.equal(second.code, 0, second.stderr + second.stdout);
      assert.match(second.stdout, /deployment\.apps\/ticketplane unchanged/);
      assert.doesNotMatch(second.stdout, / created$/m, "a second run creates nothing");
      // kubectl 1.32 sends PodDisruptionBudgets a non-empty patch on every apply ("configured"); the API server's
      // generation (bumped on any spec change) shows nothing changed.
      const configured = second.stdout.split("\n").filter((l) => l.endsWith(" configured"));
      assert.deepEqual(configured.filter((l) => !l.startsWith("poddisruptionbudget.policy/")), [], second.stdout);
      const generations = JSON.parse(await kubectl.ok(["get", "deployments,poddisruptionbudgets,envoyfilters,virtualservices,ticketedapps", "-A", "-o", "json"])) as { items: { kind: string; metadata: { name: string; generation: number } }[] };
      assert.deepEqual(generations.items.filter((i) => i.metadata.generation !== 1).map((i) => `${i.kind}/${i.metadata.name}`), []);
      assert.ok(writes(server).length > before);
    });
  });

  describe("prerequisites", () => {
    let server: KubeApiServer;
    let kubectl: Kubectl;
    before(async () => {
      server = await KubeApiServer.start();
      kubectl = await Kubectl.create(server);
    });
    after(async () => {
      await kubectl?.dispose();
      await server?.close();
    });

    it("names kubectl when it is missing", async () => {
      const r = await install(kubectl, ["--dry-run"], { KUBECTL: "/nonexistent/kubectl" });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /missing: \/nonexistent\/kubectl \(kubectl 1\.27 or later/);
    });

    it("without Istio: names istioctl when it cannot install Istio, and Istio itself with --skip-istio-install", async () => {
      const r = await install(kubectl, ["--dry-run"], { ISTIOCTL: "/nonexistent/istioctl" });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /missing: \/nonexistent\/istioctl \(Istio is not installed and istioctl installs it/);
      const skip = await install(kubectl, ["--dry-run", "--skip-istio-install"]);
      assert.equal(skip.code, 1);
      assert.match(skip.stderr, /missing: Istio \(its CRDs, networking\.istio\.io/);
      assert.deepEqual(writes(server), []);
    });

    it("with istioctl present, a dry run says it would install Istio first", async () => {
      const r = await install(kubectl, ["--dry-run"], { ISTIOCTL: "true" });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /would run: true install -y --set profile=default\n[\s\S]*would run: .* apply -k .*\/deploy/);
    });

    it("refuses an unknown gateway style or option (exit 2)", async () => {
      assert.equal((await install(kubectl, ["--gateway", "nginx"])).code, 2);
      assert.equal((await install(kubectl, ["--bogus"])).code, 2);
    });
  });
});
