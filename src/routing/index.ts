/**
 * Routing rules Check (src/authz) and the pushed route table (src/xds) both
 * obey: header names, resource names, and which app a request belongs to.
 * Pure: no I/O.
 */
export { asciiLower, hostForMatching, portStart } from "./authority.js";
export { ANY_HOST, DomainIndex } from "./domains.js";
export { GATEWAY_GROUP_HEADER, LOGGED_REQUEST_HEADERS, ROUTING_HEADERS } from "./headers.js";
export { appClusterPrefix, appClusterPrefixOfPod, fallbackRouteName, podClusterName, podClusterNameOf, podsRouteName, RESOURCE_NAMES, ROUTE_NAME_PREFIX, virtualServiceRouteName } from "./names.js";
export { RouteTable } from "./route-table.js";
export type { AppRoute, VirtualHostRoutes } from "./route-table.js";
export { isWaitingRoomPath, waitingRoomPath, WAITING_ROOM_SUFFIX } from "./waiting-room-path.js";
