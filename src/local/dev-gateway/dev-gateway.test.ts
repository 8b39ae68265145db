/**
 * The dev gateway against our real servers in one process: ticketplane in
 * standalone mode (Check, access logs, xDS on port 0) whose pods are real
 * local HTTP/WebSocket servers, and the gateway configured only over ADS.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { systemClock } from "../../common/clock.js";
import { silentLogger } from "../../common/logger.js";
import { createAccessLogService } from "../../authz/index.js";
import type { ActivityRecorder } from "../../tickets/ports.js";
import type { AppFigures } from "../../tickets/types.js";
import { type GrpcHarness, startGrpcServer } from "../../../test/support/grpc-harness.js";
import type { PodReply } from "../../../test/support/pod-server.js";
import { wsConnect } from "../../../test/support/pod-server.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { Browser, request, type Stack, startStack } from "./dev-gateway.fixture.js";
import { createDevGateway } from "./index.js";

interface AppsBody {
  apps: { pods: { name: string; serving: boolean; tickets?: number }[]; figures?: { used: number } }[];
}

async function appsView(stack: Stack): Promise<AppsBody> {
  const reply = await request(`http://${stack.addresses["admin"] ?? ""}/api/apps`);
  return JSON.parse(reply.body) as AppsBody;
}

describe("dev gateway: Check, routes and pods over the real contracts", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ pods: 2, ticketsPerPod: 1 });
    // Make before use: the pods take tickets once this gateway has ACKed their clusters and endpoints.
    await waitFor(async () => (await appsView(stack)).apps[0]?.pods.every((p) => p.serving) === true, { what: "both pods serving" });
  });
  after(async () => {
    await stack.stop();
  });

  const alice = new Browser();
  let alicePod = "";

  it("gives a request without a ticket one, and it lands on a pod with the path rewritten", async () => {
    const reply = await alice.get(stack.url("/shiny/page?x=1"));
    assert.equal(reply.status, 200, reply.body);
    const body = JSON.parse(reply.body) as PodReply;
    assert.match(body.pod, /^pod-[ab]$/);
    assert.equal(body.path, "/page?x=1", "prefix /shiny/ rewritten to the pod path /");
    assert.ok(alice.cookies.has("ticketplane"), `ticket cookie set: ${JSON.stringify(reply.headers["set-cookie"])}`);
    // response_headers_to_add appended: the pod's own cookie survives next to the ticket.
    assert.ok(alice.cookies.has("pod-cookie"), "the app's own Set-Cookie is kept");
    assert.equal(body.headers["x-ticketplane-pod"], body.pod, "Check's routing headers reach the pod");
    assert.equal(body.headers["host"], (stack.gateway.address()), "the authority goes upstream as Host");
    alicePod = body.pod;
  });

  it("keeps the next request with the cookie on the same pod (the pod's counter goes on)", async () => {
    for (let i = 2; i <= 4; i++) {
      const body = JSON.parse((await alice.get(stack.url("/shiny/"))).body) as PodReply;
      assert.equal(body.pod, alicePod);
      assert.equal(body.count, i, "same pod, same in-memory counter");
    }
  });

  it("replaces a routing header the client forged: a client never picks its own pod", async () => {
    const other = alicePod === "pod-a" ? "pod-b" : "pod-a";
    const reply = await alice.get(stack.url("/shiny/"), { "x-ticketplane-cluster": `default/shiny/${other}`, "x-ticketplane-pod": other });
    const body = JSON.parse(reply.body) as PodReply;
    assert.equal(body.pod, alicePod);
    assert.equal(body.headers["x-ticketplane-pod"], alicePod, "overwritten, not appended");
  });

  it("sends a second user to the other pod, and a third to the waiting room (503 from Check's denial)", async () => {
    const bob = new Browser();
    const bobReply = JSON.parse((await bob.get(stack.url("/shiny/"))).body) as PodReply;
    assert.notEqual(bobReply.pod, alicePod);
    const carol = new Browser();
    const full = await carol.get(stack.url("/shiny/"), { accept: "application/json" });
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers["retry-after"]) >= 1, "Retry-After from the denied response's headers");
    assert.equal(full.headers["content-type"], "application/json");
    const view = JSON.parse(full.body) as { position?: number };
    assert.equal(view.position, 1, full.body);
    assert.ok(carol.cookies.has("ticketplane-queue") || [...carol.cookies.keys()].some((k) => k.includes("queue")), "queue cookie set");
  });

  it("answers 404 (no route) outside every app's prefix, without asking a pod", async () => {
    const reply = await request(stack.url("/elsewhere"));
    assert.equal(reply.status, 404);
  });

  it("fails closed with the filter's status_on_error (503) when Check cannot be reached", async () => {
    const closedPort = "127.0.0.1:1";
    const gateway = createDevGateway({ listen: { port: 0 }, ads: stack.addresses["xds"] ?? "", check: closedPort, node: { id: "unreachable-check" }, logger: silentLogger, clock: systemClock, registry: new Registry() });
    await gateway.start(new AbortController().signal);
    try {
      await waitFor(() => gateway.status().configured, { what: "the second gateway configured" });
      const reply = await request(`http://${gateway.address()}/shiny/`, { cookie: alice.cookieHeader() });
      assert.equal(reply.status, 503);
      assert.equal(reply.body, "");
    } finally {
      await gateway.stop();
    }
  });

  it("carries a WebSocket to the ticket's pod, both ways", async () => {
    const ws = await wsConnect(stack.url("/shiny/ws"), { cookie: alice.cookieHeader() });
    await waitFor(() => ws.messages.length > 0, { what: "the pod's hello" });
    assert.equal(ws.messages[0], `hello from ${alicePod}`);
    assert.equal(ws.headers["x-pod"], alicePod, "the pod's 101 headers reach the client");
    ws.send("ping");
    await waitFor(() => ws.messages.includes(`${alicePod}: ping`), { what: "the echo" });
    const pod = stack.pods.find((p) => p.name === alicePod);
    assert.equal(pod?.sockets, 1);
    await ws.close();
    await waitFor(() => pod?.sockets === 0, { what: "the pod's socket closed" });
  });

  it("refuses a WebSocket without a free slot with Check's 503, and never opens a socket on a pod", async () => {
    const refused = await wsConnect(stack.url("/shiny/ws"), {}).then(
      () => undefined,
      (err: { status?: number }) => err.status,
    );
    assert.equal(refused, 503);
    assert.ok(stack.pods.every((p) => p.sockets === 0));
  });
});

/** An ActivityRecorder that keeps what the access-log service told it. */
class RecordedActivity implements ActivityRecorder {
  readonly events: string[] = [];
  touch(app: string, ticketId: string): void {
    this.events.push(`touch ${app} ${ticketId}`);
  }
  openConnection(app: string, ticketId: string, connectionId: string): void {
    this.events.push(`open ${app} ${ticketId} ${connectionId}`);
  }
  closeConnection(connectionId: string): void {
    this.events.push(`close ${connectionId}`);
  }
  figures(): AppFigures {
    return { capacity: 1, used: 1, free: 0, queued: 0 } as unknown as AppFigures;
  }
}

describe("dev gateway: the access log our access-log service reads", () => {
  let stack: Stack;
  let harness: GrpcHarness;
  const activity = new RecordedActivity();
  before(async () => {
    const service = createAccessLogService({ tickets: activity, logger: silentLogger });
    harness = await startGrpcServer((server) => server.addService(service.definition, service.implementation));
    stack = await startStack({ pods: 1, accessLog: harness.address });
    await waitFor(async () => (await appsView(stack)).apps[0]?.pods.every((p) => p.serving) === true, { what: "the pod serving" });
  });
  after(async () => {
    await stack.stop();
    await harness.close();
  });

  const user = new Browser();
  let ticket = "";

  it("reports requests with the ticket Check set, and a WebSocket's open while it is open and its close when it closes", async () => {
    const first = JSON.parse((await user.get(stack.url("/shiny/"))).body) as PodReply;
    ticket = String(first.headers["x-ticketplane-ticket"]);
    await waitFor(() => activity.events.includes(`touch default/shiny ${ticket}`), { what: `a touch for ${ticket} (have ${activity.events.join(" | ")})` });

    const ws = await wsConnect(stack.url("/shiny/ws"), { cookie: user.cookieHeader(), "x-request-id": "ws-1" });
    await waitFor(() => activity.events.includes(`open default/shiny ${ticket} ws-1`), { what: `the open (have ${activity.events.join(" | ")})` });
    assert.ok(!activity.events.includes("close ws-1"), "not closed while open");
    await ws.close();
    await waitFor(() => activity.events.includes("close ws-1"), { what: `the close (have ${activity.events.join(" | ")})` });
  });

  it("logs a denied request with the UAEX flag, which the service ignores (its headers are the client's own)", async () => {
    const before = activity.events.length;
    const forged = await request(stack.url("/shiny/"), { "x-ticketplane-ticket": "forged", "x-ticketplane-app": "default/shiny" });
    assert.equal(forged.status, 503, "one pod, one slot: the second user waits");
    // Entries arrive in order on one stream: once a later request's touch is in, the denied entry was read.
    await user.get(stack.url("/shiny/later"), { "x-request-id": "later-1" });
    await waitFor(() => activity.events.slice(before).includes(`touch default/shiny ${ticket}`), { what: "the later request's touch" });
    assert.ok(!activity.events.slice(before).some((e) => e.includes("forged")), activity.events.join(" | "));
  });
});
