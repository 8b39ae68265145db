/**
 * xDS: the snapshot cache, the ADS server (SotW + delta) and the publisher.
 *
 * Usage:
 *
 *   const cache = new SnapshotCache();
 *   const ads = createAdsServer({ cache, logger, registry, clock });   // + nodeGroup?, ackTimeoutMs?
 *   grpcServer.addService(ads.service, ads.implementation);           // or addAdsService(grpcServer, ads)
 *   const publisher = createPublisher({ models: () => gatewayModels(), build: buildGatewayResources, cache, logger, clock });
 *   publisher.schedule();                                             // whenever pods change (at most one publish per 10 ms)
 *   ads.onRoutable((group, podKey, routable) => …);                   // make before use
 *   ads.isRoutable(group, podKey);
 *   ads.status();                                                     // GET /api/xds
 *   ads.close();                                                      // on shutdown (timers)
 *
 * Tests and tools can also set snapshots directly:
 *   cache.setSnapshot("default", Snapshot.build(builtResources));
 */
export * from "./cache/index.js";
export * from "./server/index.js";
export { createPublisher } from "./publisher.js";
export type { Publisher, PublisherOptions } from "./publisher.js";
