/**
 * The publish path alone, in one process: `npx tsx bench/xds-publish.ts`
 * (`PODS=8000` by default; `node --cpu-prof --import tsx bench/xds-publish.ts`
 * to profile it). One group of PODS pods over 50 apps, the runtime's
 * publisher, incremental gateway builder, snapshot cache and ADS server
 * (with its routability tracker, no stream connected); 40 rounds of adding
 * and removing one pod, each published at once. Prints the median and p90
 * wall time of one publish (build, snapshot, consistency, cache update,
 * routability): a profile aid, not a pass/fail bench (`npm run bench:xds`
 * measures the whole change over real streams).
 */
import { Registry } from "prom-client";
import { silentLogger, systemClock } from "../src/common/index.js";
import { createAdsServer, createPublisher, SnapshotCache } from "../src/xds/index.js";
import { createIncrementalGatewayBuilder } from "../src/xds/resources/index.js";
import { gatewayModel } from "./xds-server.js";

const PODS = Number(process.env.PODS ?? 8000);
let current = gatewayModel(PODS, 50);
const cache = new SnapshotCache();
const ads = createAdsServer({ cache, logger: silentLogger, registry: new Registry(), clock: systemClock });
const publisher = createPublisher({ models: () => [current], build: createIncrementalGatewayBuilder(), cache, logger: silentLogger, clock: systemClock });
publisher.publishNow();
const times: number[] = [];
for (let round = 0; round < 40; round++) {
  for (const to of ["add", "remove"]) {
    current = gatewayModel(PODS, 50, to === "add" ? round : undefined);
    const t0 = process.hrtime.bigint();
    publisher.publishNow();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
times.sort((a, b) => a - b);
const at = (q: number): string => (times[Math.min(times.length - 1, Math.floor(times.length * q))] ?? NaN).toFixed(2);
console.log(JSON.stringify({ bench: `xds.publish_ms.${PODS}pods`, median: Number(at(0.5)), p90: Number(at(0.9)) }));
ads.close();
process.exit(0);
