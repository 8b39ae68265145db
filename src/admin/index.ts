export type { AdminDeps, DashboardDeps, JsonProvider, Readiness } from "./admin-app.js";
export { StatusEvents } from "./status-events.js";
export type { StatusEventsOptions } from "./status-events.js";
export { createAdminApp } from "./admin-app.js";
export type { AdminServerOptions } from "./admin-server.js";
export { AdminServer } from "./admin-server.js";
export type { DrainOutcome, PodDrainer } from "./drain-route.js";
