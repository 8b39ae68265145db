/**
 * The readiness probe of a local pod, as the kubelet's httpGet probe: a GET
 * of the path on the pod's port; 200–399 is a success, anything else (a
 * refused connection, a timeout, a 5xx) a failure. And the free port a new
 * pod listens on.
 */
import { request } from "node:http";
import { createServer } from "node:net";
import type { Clock } from "../common/clock.js";

/** Resolves true on a 2xx/3xx answer within `timeoutMs` (on `clock`); never rejects. */
export function probeHttp(port: number, path: string, clock: Clock, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers: { "user-agent": "ticketplane-probe" }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
      timer.cancel();
    });
    const timer = clock.setTimeout(() => req.destroy(new Error("probe timed out")), timeoutMs);
    req.on("error", () => {
      timer.cancel();
      resolve(false);
    });
    req.end();
  });
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
