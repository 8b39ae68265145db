/**
 * The admin HTTP app: health, readiness, Prometheus metrics, a read-only
 * JSON API and the dashboard. It owns no state: every answer comes from a
 * function passed in, so the composition root decides what "ready" means
 * and what is shown.
 */
import { readFileSync } from "node:fs";
import express from "express";
import type { Express, Request, Response } from "express";
import { collectDefaultMetrics } from "prom-client";
import type { Registry } from "prom-client";
import type { Logger } from "../common/logger.js";
import { errorMessage } from "../common/errors.js";
import { adminClientErrors, countClientError } from "./metrics.js";
import { drainHandler, type PodDrainer } from "./drain-route.js";
import { StatusEvents, type StatusEventsOptions } from "./status-events.js";

/** Why the process is (not) ready. `reasons` is empty exactly when `ready` is true. */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

/** A JSON-safe value computed on each request. */
export type JsonProvider = () => unknown;

export interface AdminDeps {
  /** The registry `/metrics` serves; default process metrics are added to it once. */
  readonly registry: Registry;
  readonly readiness: () => Readiness;
  /** `GET /api/config`: the config in force and the state of the file on disk. */
  readonly config: JsonProvider;
  /** `GET /api/apps`: per-app figures and pods (never tokens). */
  readonly apps: JsonProvider;
  /** `GET /api/xds`: the xDS server's status view. */
  readonly xds: JsonProvider;
  readonly logger: Logger;
  /** `POST /drain/<namespace>/<pod>` (for preStop hooks); absent where pods cannot be drained (the route is then 404). */
  readonly drain?: PodDrainer;
  /** The dashboard (`/`), `GET /api/status` and its live updates (`GET /api/events`); absent: none of them. */
  readonly dashboard?: DashboardDeps;
  /** Add prom-client's default process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

/** The status view and how its live updates run (clock, refresh, heartbeat, per-client bound). */
export interface DashboardDeps extends Omit<StatusEventsOptions, "view"> {
  /** `GET /api/status` and every update: the status view (src/runtime statusView). */
  readonly status: JsonProvider;
}

/** The dashboard's files (plain HTML, CSS and JS, no build step), read once. */
const DASHBOARD_FILES: readonly (readonly [path: string, file: string, type: string])[] = [
  ["/", "index.html", "text/html; charset=utf-8"],
  ["/dashboard.css", "dashboard.css", "text/css; charset=utf-8"],
  ["/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"],
];

/**
 * Builds the express app. Does not listen; see AdminServer. `events` serves
 * `/api/events` (AdminServer passes its own, to close the streams on stop);
 * with `deps.dashboard` and none given, one is made here.
 */
export function createAdminApp(deps: AdminDeps, events?: StatusEvents): Express {
  if (deps.defaultMetrics !== false && deps.registry.getSingleMetric("process_cpu_user_seconds_total") === undefined) {
    collectDefaultMetrics({ register: deps.registry });
  }
  const app = express();
  app.disable("x-powered-by");
  app.set("json spaces", 2);

  const clientErrors = adminClientErrors(deps.registry);
  app.use((_req, res, next) => {
    res.on("finish", () => countClientError(clientErrors, res.statusCode));
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });

  app.get("/readyz", (_req, res) => {
    const r = deps.readiness();
    res.status(r.ready ? 200 : 503).json({ ready: r.ready, reasons: r.reasons });
  });

  app.get("/metrics", async (_req, res) => {
    const body = await deps.registry.metrics();
    res.type(deps.registry.contentType).send(body);
  });

  app.get("/api/config", json(deps.config));
  app.get("/api/apps", json(deps.apps));
  app.get("/api/xds", json(deps.xds));
  if (deps.drain !== undefined) app.post("/drain/:namespace/:pod", drainHandler(deps.drain, deps.logger));
  if (deps.dashboard !== undefined) addDashboard(app, deps.dashboard, events ?? new StatusEvents({ ...deps.dashboard, view: deps.dashboard.status }));

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  // Express 5 passes rejected async handlers here; answer 500 and log, never crash.
  app.use((err: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    deps.logger.error("admin request failed", { path: req.path, error: errorMessage(err) });
    if (!res.headersSent) res.status(500).json({ error: "internal error" });
  });
  return app;
}

function addDashboard(app: Express, dashboard: DashboardDeps, events: StatusEvents): void {
  app.get("/api/status", json(dashboard.status));
  app.get("/api/events", events.handle);
  for (const [path, file, type] of DASHBOARD_FILES) {
    const body = readFileSync(new URL(`./dashboard/${file}`, import.meta.url));
    app.get(path, (_req, res) => {
      res.type(type).set("cache-control", "no-cache").send(body);
    });
  }
}

function json(provider: JsonProvider) {
  return (_req: Request, res: Response): void => {
    res.json(provider());
  };
}
