/**
 * The real CLI seen by an independent xDS client: gRPC's own XdsClient
 * (@grpc/grpc-js-xds) validates and ACKs each pod's Cluster and
 * ClusterLoadAssignment as file edits add and remove pods. It NACKs our
 * route table by design (gRPC knows no direct_response), so routes are
 * checked with the Envoy-like client in standalone.test.ts and here.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { XdsValues } from "../support/xds-client.js";
import { XdsPeer } from "../support/xds-client.js";
import { RawGateway } from "./raw-gateway.js";
import type { PodLine, ServeProcess, TempDir } from "./serve-process.js";
import { configText, startServe, tempDir } from "./serve-process.js";
import { waitFor } from "../support/wait-for.js";

function endpointOf(v: XdsValues["endpoints"]): string {
  const sa = v.endpoints[0]?.lb_endpoints[0]?.endpoint?.address?.socket_address;
  return `${sa?.address ?? "?"}:${String(sa?.port_value ?? "?")}`;
}

function kindOf(v: XdsValues["cluster"]): string {
  return `${v.type} ${v.name}`;
}

describe("standalone: grpc-js-xds receives clusters and endpoints", () => {
  let tmp: TempDir;
  let file: string;
  let serve: ServeProcess;
  let peer: XdsPeer | undefined;
  let gateway: RawGateway | undefined;
  const a: PodLine = { name: "a", port: 8081, ready: true };
  const b: PodLine = { name: "b", port: 8082, ready: true };
  const c: PodLine = { name: "c", port: 8083, ready: true };

  before(async () => {
    tmp = await tempDir();
    file = await tmp.write("peer.yaml", configText([a, b]));
    serve = await startServe(file);
    peer = XdsPeer.start({ address: serve.addresses.xds ?? "", nodeId: "e2e-peer", nodeCluster: "default" });
    gateway = new RawGateway(serve.addresses.xds ?? "");
  });
  after(async () => {
    gateway?.close();
    await peer?.close();
    await serve.kill();
    await tmp.remove();
  });

  it("gets a cluster per pod (validated and ACKed by grpc-js-xds) and its endpoints, and follows edits", async () => {
    const p = peer as XdsPeer;
    const gw = gateway as RawGateway;
    for (const name of ["a", "b", "c"]) {
      p.watch("cluster", `default/shiny/${name}`);
      p.watch("endpoints", `default/shiny/${name}`);
    }
    assert.equal(kindOf(await p.untilValue("cluster", "default/shiny/a", () => true, 15_000)), "EDS default/shiny/a");
    await p.untilValue("cluster", "default/shiny/b", () => true, 15_000);
    assert.equal(p.status("cluster", "default/shiny/a")?.clientStatus, "ACKED");
    assert.equal(endpointOf(await p.untilValue("endpoints", "default/shiny/a", () => true, 15_000)), "127.0.0.1:8081");
    assert.equal(endpointOf(await p.untilValue("endpoints", "default/shiny/b", () => true, 15_000)), "127.0.0.1:8082");
    assert.equal(p.status("endpoints", "default/shiny/a")?.clientStatus, "ACKED");
    const eps = (): string => [...gw.endpoints.entries()].map(([k, v]) => `${k}=${v.join()}`).sort().join(" ");
    await waitFor(() => eps() === "default/shiny/a=127.0.0.1:8081 default/shiny/b=127.0.0.1:8082", { timeoutMs: 15_000, what: `endpoints a, b (have ${eps()})` });

    // Pod added.
    await writeFile(file, configText([a, b, c]));
    await p.untilValue("cluster", "default/shiny/c", () => true, 15_000);
    assert.equal(endpointOf(await p.untilValue("endpoints", "default/shiny/c", () => true, 15_000)), "127.0.0.1:8083");
    await waitFor(() => gw.endpoints.get("default/shiny/c")?.join() === "127.0.0.1:8083", { timeoutMs: 15_000, what: `endpoints of c (have ${eps()})` });

    // Pod made not ready: its cluster stays, so the users it holds keep reaching it.
    await writeFile(file, configText([a, { ...b, ready: false }, c]));
    await waitFor(() => gw.podsFor("/shiny/").join() === "a,b,c", { timeoutMs: 15_000, what: "the gateway routes to a,b,c" });
    assert.equal(p.status("cluster", "default/shiny/b")?.clientStatus, "ACKED");

    // Pod removed: its cluster goes away.
    await writeFile(file, configText([{ ...b, ready: false }, c]));
    const gone = await p.until("cluster", "default/shiny/a", (e) => e.type === "does-not-exist", 15_000);
    assert.equal(gone.type, "does-not-exist");
    await waitFor(() => gw.podsFor("/shiny/").join() === "b,c", { timeoutMs: 15_000, what: "the gateway no longer routes to a" });
  });
});
