/**
 * `ticketplane status`: reads the status view from a running ticketplane's
 * admin server (`GET /api/status`, the view the dashboard shows) and prints
 * it as tables, or as the JSON itself. The view is defined once, in
 * src/runtime/api-views.ts; this module only fetches and lays it out.
 */
import { errorMessage } from "./common/errors.js";
import type { AppView, GatewayView, StatusView } from "./runtime/api-views.js";

/** The admin address `ticketplane serve` listens on with the example configs. */
export const DEFAULT_ADMIN = "http://127.0.0.1:9090";

export type StatusFetch = { readonly ok: true; readonly status: StatusView } | { readonly ok: false; readonly error: string };

/** `127.0.0.1:9090`, `http://host:port/` or `https://…` → the base URL without a trailing slash, or undefined when it is not one. */
export function adminBaseUrl(admin: string): string | undefined {
  const withScheme = /^https?:\/\//i.test(admin) ? admin : `http://${admin}`;
  try {
    const url = new URL(withScheme);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

/** Fetches `/api/status` within `timeoutMs`; every failure is a returned error naming the address and the cause. */
export async function fetchStatus(base: string, timeoutMs = 5_000): Promise<StatusFetch> {
  const url = `${base}/api/status`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { ok: false, error: `cannot reach ${url}: ${causeOf(err)} (is ticketplane running? pass its admin address with --admin)` };
  }
  if (res.status !== 200) return { ok: false, error: `${url} answered HTTP ${String(res.status)} (is ${base} ticketplane's admin address, of a version with the status view?)` };
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    return { ok: false, error: `${url} did not answer JSON: ${errorMessage(err)}` };
  }
  return isStatusView(body) ? { ok: true, status: body } : { ok: false, error: `${url} did not answer a status view (no apps and gateways lists)` };
}

function causeOf(err: unknown): string {
  const cause = err instanceof Error && err.cause !== undefined ? err.cause : err;
  return errorMessage(cause);
}

function isStatusView(body: unknown): body is StatusView {
  if (typeof body !== "object" || body === null) return false;
  const b = body as { apps?: unknown; gateways?: unknown };
  return Array.isArray(b.apps) && Array.isArray(b.gateways) && b.apps.every((a) => typeof a === "object" && a !== null && Array.isArray((a as { pods?: unknown }).pods));
}

/** The status view as plain-text tables, one line per string. */
export function renderStatus(status: StatusView): string[] {
  const lines: string[] = [];
  if (status.apps.length === 0) lines.push("No apps yet: add one to the config file, create a TicketedApp, or run `ticketplane dev`.");
  else lines.push(...table(["APP", "MODE", "PODS", "USED/CAPACITY", "FREE", "WAITING", "WEBSOCKETS", "PREFIX"], status.apps.map(appRow)));
  for (const app of status.apps) lines.push("", ...appDetail(app));
  lines.push("");
  if (status.gateways.length === 0) lines.push("No gateway connected to xDS.");
  else lines.push(...table(["GATEWAY", "GROUP", "PROTOCOL", "STATE", "ACKED VERSIONS"], status.gateways.map(gatewayRow)));
  return lines;
}

function appRow(app: StatusView["apps"][number]): string[] {
  const f = app.figures;
  return [app.app, app.mode, String(app.pods.length), `${String(f?.used ?? 0)}/${String(f?.capacity ?? 0)}`, String(f?.free ?? 0), String(app.queueLength), String(app.connections), `${app.host ?? ""}${app.pathPrefix}`];
}

function appDetail(app: StatusView["apps"][number]): string[] {
  const lines = [`${app.app}:`];
  if (app.pods.length === 0) lines.push(app.mode === "Proxy" ? "  no pods (scaled to zero)" : "  no pods");
  else lines.push(...table(["POD", "ADDRESS", "STATE", "SLOTS", "USED", "FREE", "WEBSOCKETS"], app.pods.map(podRow)).map((l) => `  ${l}`));
  const reserved = app.queue.filter((q) => q.reserved).length;
  lines.push(`  queue: ${String(app.queue.length)} waiting${reserved > 0 ? `, ${String(reserved)} with a slot held` : ""}`);
  if (app.decisions.length > 0) {
    lines.push("  recent scale decisions:");
    for (const d of app.decisions.slice(-5)) lines.push(`    ${d.time}  ${d.deployment}  ${String(d.from)} → ${String(d.to)}  ${d.reason}`);
  }
  return lines;
}

function podRow(p: AppView["pods"][number]): string[] {
  const state = p.draining ? "draining" : !p.ready ? "not ready" : !p.routable ? "not routable" : "serving";
  return [p.name, p.address, state, String(p.slots), String(p.used), String(p.free), String(p.connections)];
}

function gatewayRow(g: GatewayView): string[] {
  const state = g.waitingForConfig ? "waiting for config" : g.inSync ? "in sync" : "behind";
  const versions = g.types.map((t) => `${t.type}=${t.ackedVersion === null ? "-" : t.ackedVersion.slice(0, 8)}${t.nack === undefined ? "" : " (NACK)"}`).join(" ");
  return [g.nodeId, g.group, g.protocol, state, versions];
}

/** Left-aligned columns two spaces apart. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ");
  return [line(headers), ...rows.map(line)];
}
