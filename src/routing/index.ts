/**
 * Routing rules Check (src/authz) and the pushed route table (src/xds) both
 * obey: header names and resource names. Pure: no I/O.
 */
export { LOGGED_REQUEST_HEADERS, ROUTING_HEADERS } from "./headers.js";
export { fallbackRouteName, podClusterName, RESOURCE_NAMES } from "./names.js";
