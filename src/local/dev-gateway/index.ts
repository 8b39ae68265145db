/**
 * The dev gateway: a demo and test tool that plays Envoy's part (ADS, Check,
 * routing, proxying, access logs) for `ticketplane dev`. Production traffic
 * goes through Envoy.
 */
export { createDevGateway, DEV_GATEWAY_DEFAULTS, gatewayListeningLine } from "./dev-gateway.js";
export type { DevGateway, DevGatewayOptions, DevGatewayStatus } from "./dev-gateway.js";
