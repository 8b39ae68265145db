/**
 * Standalone mode end to end: the real CLI, a gateway on ADS that ACKs like
 * Envoy, and ext_authz Check through Envoy's own protos. Tickets follow the
 * config file's pods; a kill -9 and restart loses no ticket and never gives
 * a slot twice.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type * as grpc from "@grpc/grpc-js";
import { Browser, checkClient } from "./check-client.js";
import { RawGateway } from "./raw-gateway.js";
import type { PodLine, ServeProcess, TempDir } from "./serve-process.js";
import { configText, getJson, startServe, tempDir } from "./serve-process.js";
import { waitFor } from "../support/wait-for.js";

interface AppsBody {
  apps: { pods: { name: string; serving: boolean; ready: boolean }[] }[];
}

describe("standalone: Check and xDS follow the config file", () => {
  let tmp: TempDir;
  let file: string;
  let serve: ServeProcess;
  let gateway: RawGateway | undefined;
  let client: grpc.Client | undefined;
  const spare: ServeProcess[] = [];
  const a: PodLine = { name: "a", port: 8081, ready: true };
  const b: PodLine = { name: "b", port: 8082, ready: true };
  const c: PodLine = { name: "c", port: 8083, ready: true };

  const serving = async (p: ServeProcess): Promise<string> => {
    const body = (await getJson(`${p.admin}/api/apps`)).body as AppsBody;
    return (body.apps[0]?.pods ?? []).filter((x) => x.serving).map((x) => x.name).join(",");
  };
  const connect = (p: ServeProcess): void => {
    client?.close();
    gateway?.close();
    gateway = new RawGateway(p.addresses.xds ?? "");
    client = checkClient(p.addresses.authz ?? "");
  };

  before(async () => {
    tmp = await tempDir();
    file = await tmp.write("tp.yaml", configText([a, b]));
    serve = await startServe(file);
    connect(serve);
  });
  after(async () => {
    client?.close();
    gateway?.close();
    await serve.kill();
    for (const p of spare) await p.kill();
    await tmp.remove();
  });

  const alice = (): Browser => new Browser(client as grpc.Client, "alice");
  let aliceB: Browser;
  let bobB: Browser;
  let carolB: Browser;

  it("routes every ready pod over ADS, and issues a ticket that then keeps its pod", async () => {
    const gw = gateway as RawGateway;
    await waitFor(() => gw.podsFor("/shiny/").join() === "a,b", { timeoutMs: 15_000, what: `the gateway routes to a,b (have ${JSON.stringify([gw.routes, gw.clusters])})` });
    assert.ok(gw.clusters.includes("default/shiny/a") && gw.clusters.includes("default/shiny/b"), gw.clusters.join());
    await waitFor(async () => (await serving(serve)) === "a,b", { timeoutMs: 15_000, what: "a and b routable after the gateway ACKed" });

    aliceB = alice();
    const first = await aliceB.get("/shiny/");
    assert.equal(first.kind, "ok");
    assert.ok(first.pod === "a" || first.pod === "b");
    assert.ok(aliceB.cookies.has("ticketplane"), "ticket cookie set");
    const again = await aliceB.get("/shiny/page");
    assert.deepEqual(again, first, "same pod, same ticket");

    bobB = new Browser(client as grpc.Client, "bob");
    const bob = await bobB.get("/shiny/");
    assert.equal(bob.kind, "ok");
    assert.notEqual(bob.pod, first.pod, "one slot per pod: bob gets the other pod");

    carolB = new Browser(client as grpc.Client, "carol");
    assert.deepEqual(await carolB.get("/shiny/"), { kind: "denied", status: "ServiceUnavailable" }, "no free slot: waiting room");
  });

  it("a pod made not-ready keeps its users; a pod added gets a route, then the waiting user", async () => {
    const alicePod = (await aliceB.get("/shiny/")).pod as string;
    await writeFile(file, configText([a, b].map((p) => (p.name === alicePod ? { ...p, ready: false } : p))));
    await waitFor(async () => !(await serving(serve)).includes(alicePod), { timeoutMs: 15_000, what: "pod not serving" });
    assert.equal((await aliceB.get("/shiny/")).pod, alicePod, "existing ticket still valid on a not-ready pod");

    await writeFile(file, configText([...[a, b].map((p) => (p.name === alicePod ? { ...p, ready: false } : p)), c]));
    const gw = gateway as RawGateway;
    await waitFor(() => gw.podsFor("/shiny/").includes("c"), { timeoutMs: 15_000, what: "the gateway routes to c" });
    await waitFor(async () => (await serving(serve)).includes("c"), { timeoutMs: 15_000, what: "c routable" });
    const carol = await carolB.get("/shiny/");
    assert.deepEqual([carol.kind, carol.pod], ["ok", "c"], "the waiting user gets the new pod");
  });

  it("a pod removed loses its cluster and its tickets; an invalid edit changes nothing", async () => {
    const alicePod = (await aliceB.get("/shiny/")).pod as string;
    const left = [a, b].filter((p) => p.name !== alicePod);
    await writeFile(file, configText([...left, c]));
    const gw = gateway as RawGateway;
    await waitFor(() => !gw.podsFor("/shiny/").includes(alicePod), { timeoutMs: 15_000, what: "the gateway no longer routes to the removed pod" });
    const after = await aliceB.get("/shiny/");
    assert.notEqual(after.pod, alicePod, "alice's old ticket no longer routes to the removed pod");
    assert.deepEqual(after, { kind: "denied", status: "ServiceUnavailable" }, "every remaining slot is taken: alice waits");

    const routesBefore = JSON.stringify([gw.routes, gw.clusters]);
    await writeFile(file, configText([c]).replace("ticketsPerPod: 1", "ticketsPerPod: -3"));
    await waitFor(async () => (await fetch(`${serve.admin}/readyz`)).status === 503, { timeoutMs: 15_000, what: "readyz 503" });
    assert.equal(JSON.stringify([gw.routes, gw.clusters]), routesBefore, "routes and clusters unchanged");
    assert.equal((await carolB.get("/shiny/")).pod, "c", "tickets unchanged");
    await writeFile(file, configText([...left, c]));
    await waitFor(async () => (await fetch(`${serve.admin}/readyz`)).status === 200, { timeoutMs: 15_000, what: "readyz 200 again" });
  });

  it("kill -9 and restart: the ticket still validates and its slot is still taken", async () => {
    const bob = await bobB.get("/shiny/");
    assert.equal(bob.kind, "ok");
    // The ledger is saved 500 ms after a change; wait until bob's ticket is on disk.
    // The ledger's journal gets each issue within milliseconds (the snapshot follows within 10 s).
    const stored = async (): Promise<string> => (await readFile(tmp.file("tp.state.json"), "utf8").catch(() => "")) + (await readFile(tmp.file("tp.state.json.journal"), "utf8").catch(() => ""));
    await waitFor(async () => (await stored()).includes(`"${bob.ticket ?? "?"}"`), { timeoutMs: 15_000, what: "the ticket stored" });
    const jar = new Map(bobB.cookies);
    serve.signal("SIGKILL");
    assert.equal((await serve.waitExit()).signal, "SIGKILL");

    serve = await startServe(file);
    connect(serve);
    await waitFor(async () => (await serving(serve)).split(",").length === 2, { timeoutMs: 15_000, what: "pods routable after restart" });
    const again = new Browser(client as grpc.Client, "bob-again");
    for (const [k, v] of jar) again.cookies.set(k, v);
    assert.deepEqual(await again.get("/shiny/"), bob, "same pod, same ticket after kill -9");
    const dave = await new Browser(client as grpc.Client, "dave").get("/shiny/");
    assert.ok(dave.kind === "denied" || dave.pod !== bob.pod, `bob's slot is not given away (dave got ${JSON.stringify(dave)})`);
  });

  it("SIGTERM exits 0 and leaves the ledger in the state file", async () => {
    serve.signal("SIGTERM");
    assert.deepEqual(await serve.waitExit(), { code: 0, signal: null });
    const saved = JSON.parse(await readFile(tmp.file("tp.state.json"), "utf8")) as { ledger: { tickets: unknown[] } };
    assert.ok(saved.ledger.tickets.length >= 2);
  });
});
