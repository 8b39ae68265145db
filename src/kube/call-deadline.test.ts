/**
 * The per-call deadline against a server that accepts requests and never
 * answers (a real HTTP server on port 0): the call fails when the fake
 * clock passes the deadline, so a stalled API server cannot hold a lease
 * renewal or a ledger write.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { FakeClock } from "../../test/support/fake-clock.js";
import { waitFor } from "../../test/support/wait-for.js";
import { withDeadline } from "./call-deadline.js";
import { isRetryable } from "./errors.js";

describe("callDeadline", () => {
  it("aborts a call the server never answers once the clock passes the deadline; the error is retryable; the timer is cleared after a call", async () => {
    const held: ServerResponse[] = [];
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => void held.push(res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({ clusters: [{ name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }], users: [{ name: "u" }], contexts: [{ name: "c", cluster: "c", user: "u" }], currentContext: "c" });
      const api = kc.makeApiClient(CoordinationV1Api);
      const clock = new FakeClock();
      const outcome: { value?: unknown } = {};
      const call = withDeadline(clock, 2000, (o) => api.readNamespacedLease({ name: "x", namespace: "default" }, o)).then(
        () => (outcome.value = "answered"),
        (err: unknown) => (outcome.value = err),
      );
      await waitFor(() => held.length === 1, { what: "the request to reach the server" });
      clock.advance(1999);
      assert.equal(held[0]?.destroyed, false, "the request is still open before the deadline");
      clock.advance(1);
      await call;
      assert.ok(outcome.value instanceof Error, `rejected: ${String(outcome.value)}`);
      assert.ok(isRetryable(outcome.value), "no HTTP status: treated as the server going away");
      assert.equal(clock.pendingTimers, 0);
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
