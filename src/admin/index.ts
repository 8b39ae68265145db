export type { AdminDeps, JsonProvider, Readiness } from "./admin-app.js";
export { createAdminApp } from "./admin-app.js";
export type { AdminServerOptions } from "./admin-server.js";
export { AdminServer } from "./admin-server.js";
export type { DrainOutcome, PodDrainer } from "./drain-route.js";
