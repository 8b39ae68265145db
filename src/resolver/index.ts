/**
 * The scale-from-zero resolver: hold, wake, probe, forward. Independent of
 * any mode: it reaches the rest of the system only through ResolverPorts.
 */
export { ResolverServer } from "./resolver-server.js";
export { createTicketResolverPorts, resolverAppOf, rewritePath } from "./ticket-ports.js";
export type { TicketResolverPortsOptions } from "./ticket-ports.js";
export type { ResolverServerOptions } from "./resolver-server.js";
export type { Destination, ProbeTarget, Progress, ResolverApp, ResolverPorts, ResolverRequest } from "./ports.js";
export { createResolverMetrics, DROP_REASONS } from "./metrics.js";
export type { DropReason, ResolverMetrics } from "./metrics.js";
export { isPageNavigation, PROGRESS_HEADER, PROGRESS_VALUE, renderWaitingPage } from "./waiting-page.js";
export { PROBE_USER_AGENT } from "./probe.js";
