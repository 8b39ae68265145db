export { createAdsServer, addAdsService } from "./ads-server.js";
export type { AdsServer, AdsServerOptions } from "./ads-server.js";
export { adsServiceDefinition } from "./ads-service.js";
export type { AdsImplementation } from "./ads-service.js";
export { defaultNodeGroup, GROUP_METADATA_KEY } from "./node-group.js";
export type { NodeGroupFn } from "./node-group.js";
export type { RoutableListener } from "./routability.js";
export type { NackRecord } from "./ack-state.js";
export type { StreamStatus, TypeStatus, XdsProtocol, XdsStatus } from "./status.js";
