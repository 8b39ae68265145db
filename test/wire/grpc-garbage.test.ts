/**
 * Bytes that are not HTTP/2 on the xDS and Check ports: the running servers
 * close and count them, and gateways that speak gRPC are not disturbed.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { silentLogger, systemClock } from "../../src/common/index.js";
import { createAuthzServer } from "../../src/authz/index.js";
import { XdsServer } from "../../src/runtime/index.js";
import { authorizationClient } from "../support/envoy-protos.js";
import { TicketCore } from "../../src/tickets/index.js";
import { TYPE_URLS } from "../../src/xds/resources/index.js";
import { connectAds, node } from "../../src/xds/server/ads-client.fixture.js";

const gateway = {
  current: () => ({ listenerAddress: "127.0.0.1", listenerPort: 8080, authzTimeoutMs: 250 }),
  subscribe: () => () => undefined,
};

function sendAndWaitClose(port: number, data: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(data));
    socket.on("error", () => undefined);
    socket.once("close", () => resolve());
  });
}

describe("the xDS port and bytes that are not HTTP/2", () => {
  it("closes and counts an HTTP/1.1 request, and keeps serving ADS", async () => {
    const registry = new Registry();
    const tickets = new TicketCore({ clock: systemClock, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
    const xds = new XdsServer({ listen: { host: "127.0.0.1", port: 0 }, tickets, gateway, logger: silentLogger, registry, clock: systemClock });
    await xds.start();
    const peer = connectAds(xds.address());
    try {
      xds.setUpstreams({ authz: { host: "127.0.0.1", port: 9001 }, accessLog: { host: "127.0.0.1", port: 9002 } });
      xds.publishNow();
      const port = Number(xds.address().split(":").at(-1));
      await sendAndWaitClose(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
      const metric = await registry.getSingleMetric("ticketplane_grpc_rejected_connections_total")?.get();
      assert.deepEqual(
        metric?.values.map((v) => [v.labels, v.value]),
        [[{ server: "xds", reason: "not_http2" }, 1]],
      );
      const s = peer.sotw();
      s.send({ node: node("gw-1"), type_url: TYPE_URLS.cluster });
      assert.equal((await s.next()).type_url, TYPE_URLS.cluster);
      await s.close();
    } finally {
      peer.client.close();
      await xds.stop();
    }
  });

  it("closes and counts a TLS client and an HTTP/1.1 probe on the Check port, and keeps answering Check", async () => {
    const registry = new Registry();
    const tickets = new TicketCore({ clock: systemClock, keys: { active: "k", keys: [{ id: "k", secret: new Uint8Array(32) }] } });
    const authz = createAuthzServer({ tickets, logger: silentLogger, clock: systemClock, registry, listen: { authz: "127.0.0.1:0" } });
    await authz.start();
    const client = authorizationClient(authz.addresses.authz);
    try {
      const port = Number(authz.addresses.authz.split(":").at(-1));
      await sendAndWaitClose(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await sendAndWaitClose(port, "\u0016\u0003\u0001\u0002\u0000\u0001");
      const metric = await registry.getSingleMetric("ticketplane_grpc_rejected_connections_total")?.get();
      assert.deepEqual(
        metric?.values.map((v) => [v.labels, v.value]).sort(),
        [
          [{ server: "authz+accesslog", reason: "not_http2" }, 1],
          [{ server: "authz+accesslog", reason: "tls" }, 1],
        ],
      );
      const answer = await new Promise<{ denied_response?: unknown }>((resolve, reject) =>
        (client as unknown as { Check: (r: unknown, cb: (e: Error | null, v: { denied_response?: unknown }) => void) => void }).Check({ attributes: { request: { http: { id: "r", host: "h", path: "/nowhere/" } } } }, (e, v) => (e === null ? resolve(v) : reject(e))),
      );
      assert.ok(answer.denied_response !== undefined, "Check still answers");
    } finally {
      client.close();
      await authz.stop();
    }
  });
});
