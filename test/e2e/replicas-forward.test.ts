/**
 * Two replicas as separate processes (`ticketplane serve --kubernetes`)
 * against the sandbox's test API server: one holds the Lease and writes its
 * peer address on it; the other forwards issuing to it over the peer API. A
 * gateway connected only to the follower ACKs the pods there; its ACK state
 * reaches the owner, whose pods then take tickets. The owner killed: the
 * follower answers new users with the waiting room (fail closed).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { Browser, checkClient } from "./check-client.js";
import { freePort, SandboxProcess } from "./kube-sandbox-process.js";
import { RawGateway } from "./raw-gateway.js";
import { KUBE_PROCESS_CONFIG as PROCESS_CONFIG, getJson, startOwnerThenFollower, tempDir, type ServeProcess } from "./serve-process.js";
import type { TempDir } from "./serve-process.js";
import { waitFor } from "../support/wait-for.js";

interface AppsBody {
  apps: { app: string; figures?: { used: number }; pods: { name: string; serving: boolean }[] }[];
}

describe("several replicas: a follower forwards issuing to the Lease holder", () => {
  let tmp: TempDir;
  let sandbox: SandboxProcess;
  let owner: ServeProcess;
  let follower: ServeProcess;
  let gateway: RawGateway | undefined;
  let client: grpc.Client | undefined;

  const app = async (serve: ServeProcess): Promise<AppsBody["apps"][number] | undefined> => ((await getJson(`${serve.admin}/api/apps`)).body as AppsBody).apps.find((a) => a.app === "demo/shiny");

  before(async () => {
    tmp = await tempDir();
    sandbox = new SandboxProcess(["--dir", tmp.dir, "--ready-after", "200", "--replicas", "2", "--pod-port", String(await freePort())]);
    const kubeconfig = (await sandbox.waitLines("kubeconfig"))[0] ?? "";
    const config = await tmp.write("tp.yaml", PROCESS_CONFIG);
    const args = ["serve", "--kubernetes", "--kubeconfig", kubeconfig, "--namespace", "demo", "--config", config, "--peer-host", "127.0.0.1", "--log-format", "json"];
    ({ owner, follower } = await startOwnerThenFollower(args));
    gateway = new RawGateway(follower.addresses.xds ?? "");
    client = checkClient(follower.addresses.authz ?? "");
  });
  after(async () => {
    client?.close();
    gateway?.close();
    await follower?.kill();
    await owner?.kill();
    await sandbox?.kill();
    await tmp?.remove();
  });

  it("both listen on a peer port; only the first leads", () => {
    assert.match(owner.addresses.peer ?? "", /^127\.0\.0\.1:\d+$/);
    assert.match(follower.addresses.peer ?? "", /^127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(follower.stderr, /this replica leads \(Lease/);
  });

  it("a user checked on the follower gets the owner's ticket; the owner's pods became serving through the follower's gateway's ACKs", async () => {
    await sandbox.waitLines("pod-server", 1);
    const gw = gateway as RawGateway;
    // (The owner's reconciler sets the Deployment's replicas: as many pods as its policy wants.)
    await waitFor(() => gw.podsFor("/shiny/").length >= 1, { what: () => `the follower's gateway routes the app's pods (${JSON.stringify(gw.clusters)})` });
    await waitFor(async () => ((await app(owner))?.pods.filter((p) => p.serving).length ?? 0) >= 1, { what: "a serving pod on the owner" });
    const alice = new Browser(client as grpc.Client, "alice");
    const first = await alice.get("/shiny/");
    assert.equal(first.kind, "ok", `follower stderr:\n${follower.stderr.slice(-2000)}`);
    assert.equal((await app(owner))?.figures?.used, 1, "the ticket is in the owner's ledger");
    // The follower allocated nothing: it forwarded, and its ledger is the owner's, mirrored (one ticket, not two).
    await waitFor(async () => (await app(follower))?.figures?.used === 1, { what: "the follower's mirror of the owner's ledger shows the one ticket" });
    // Coming back on the follower (which has not seen the ticket): the same pod, still one ticket.
    const again = await alice.get("/shiny/");
    assert.equal(again.kind, "ok");
    assert.equal(again.pod, first.pod);
    assert.equal((await app(owner))?.figures?.used, 1);
    const metrics = await (await fetch(`${follower.admin}/metrics`)).text();
    assert.match(metrics, /ticketplane_peer_forwarded_total\{result="answered"\} [1-9]/);
  });

  it("the owner killed: a new user on the follower gets the waiting room (503), never a local slot", async () => {
    await owner.kill();
    const before = (await app(follower))?.figures?.used;
    const bob = new Browser(client as grpc.Client, "bob");
    const denied = await bob.get("/shiny/");
    assert.equal(denied.kind, "denied");
    assert.equal(denied.status, "ServiceUnavailable");
    assert.equal((await app(follower))?.figures?.used, before, "no local slot for bob");
    assert.equal(follower.child.exitCode, null, "the follower keeps running");
  });
});
