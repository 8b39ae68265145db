/**
 * The dev gateway against our real servers in one process: ticketplane in
 * standalone mode (Check, access logs, xDS on port 0) whose pods are real
 * local HTTP/WebSocket servers, and the gateway configured only over ADS.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PodReply } from "../../../test/support/pod-server.js";
import { wsConnect } from "../../../test/support/pod-server.js";
import { eventually, waitFor } from "../../../test/support/wait-for.js";
import { Browser, request, type Stack, startStack } from "./dev-gateway.fixture.js";

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

  it("carries a WebSocket to the ticket's pod and reports its close over the access log; the ticket stays active while open", async () => {
    const ws = await wsConnect(stack.url("/shiny/ws").replace("http:", "http:"), { cookie: alice.cookieHeader() });
    await waitFor(() => ws.messages.length > 0, { what: "the pod's hello" });
    assert.equal(ws.messages[0], `hello from ${alicePod}`);
    ws.send("ping");
    await waitFor(() => ws.messages.includes(`${alicePod}: ping`), { what: "the echo" });
    const pod = stack.pods.find((p) => p.name === alicePod);
    assert.equal(pod?.sockets, 1);
    // The upgrade's access-log entry (tunnel established) reaches the service: the connection is open.
    await eventually(() => stack.logger.lines.some((l) => l.message.includes("WebSocket") || l.fields["connections"] !== undefined) || stack.gateway.status().accessLog.sent > 0, { what: "access-log entries sent" });
    await ws.close();
    await waitFor(() => pod?.sockets === 0, { what: "the pod's socket closed" });
    await waitFor(() => stack.gateway.status().accessLog.buffered === 0, { what: "the close entry flushed" });
  });
});
