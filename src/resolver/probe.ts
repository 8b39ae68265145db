/**
 * The probe that decides an app serves again: a `HEAD` of the app's pod path
 * at the address released requests will go to. Any HTTP answer (any status)
 * means the app listens and speaks HTTP; a refused connection, a reset or
 * no answer within `timeoutMs` means not yet. Ready as the watch sees it is
 * not enough (KubeElasti's first request after idle fails exactly there: a
 * pod reports Ready before its server listens).
 */
import { request as httpRequest } from "node:http";
import type { ProbeTarget } from "./ports.js";

export const PROBE_USER_AGENT = "ticketplane-resolver-probe";

/** Resolves true when the target answered, false otherwise; never rejects. */
export function probe(target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: target.host, port: target.port, method: "HEAD", path: target.path, agent: false, timeout: timeoutMs, headers: { "user-agent": PROBE_USER_AGENT } }, (res) => {
      res.resume();
      resolve(true);
      req.destroy();
    });
    req.on("timeout", () => req.destroy(new Error("probe timed out")));
    req.on("error", () => resolve(false));
    req.end();
  });
}
