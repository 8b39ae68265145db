import type { Counter, Registry } from "prom-client";
import { sharedCounter } from "../common/metrics.js";

/** 4xx answers of the admin server, by status code: what the app answered and what the HTTP parser refused. */
export function adminClientErrors(registry: Registry): Counter<"code"> {
  return sharedCounter(registry, {
    name: "ticketplane_admin_client_errors_total",
    help: "Admin HTTP responses with a 4xx status (unknown paths, requests the HTTP parser refused), by status code.",
    labelNames: ["code"],
  });
}

/** Counts the response if its status is 4xx. */
export function countClientError(counter: Counter<"code">, status: number): void {
  if (status >= 400 && status < 500) counter.inc({ code: String(status) });
}
