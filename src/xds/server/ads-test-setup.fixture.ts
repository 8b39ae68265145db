/** Test fixture: a real grpc-js server on port 0 with an ADS server over a SnapshotCache. Not used by src. */
import { Registry } from "prom-client";
import { silentLogger } from "../../common/logger.js";
import { startGrpcServer, type GrpcHarness } from "../../../test/support/grpc-harness.js";
import { FakeClock } from "../../../test/support/fake-clock.js";
import { Snapshot } from "../cache/snapshot.js";
import { SnapshotCache } from "../cache/snapshot-cache.js";
import { gatewayResources } from "../cache/resources.fixture.js";
import { createAdsServer, type AdsServer, type AdsServerOptions } from "./ads-server.js";
import { connectAds, type DeltaWireResponse, type TestAdsStream } from "./ads-client.fixture.js";
import { waitFor } from "../../../test/support/wait-for.js";

/** ACKs a delta response and waits until the server has taken that ACK. */
export async function ackDelta(env: AdsTestEnv, s: TestAdsStream<DeltaWireResponse>, r: DeltaWireResponse): Promise<void> {
  s.send({ type_url: r.type_url, response_nonce: r.nonce });
  await waitFor(() => env.ads.status().streams.some((st) => st.types.some((t) => t.typeUrl === r.type_url && t.lastSentNonce === r.nonce && t.ackedAt !== undefined && t.ackedVersion === r.system_version_info)));
}

export interface AdsTestEnv {
  readonly cache: SnapshotCache;
  readonly ads: AdsServer;
  readonly registry: Registry;
  readonly clock: FakeClock;
  readonly harness: GrpcHarness;
  readonly peer: ReturnType<typeof connectAds>;
  /** Sets the "default" group to the fixture gateway with these pods. */
  setPods(pods: readonly string[], ips?: Readonly<Record<string, string>>, group?: string): Snapshot;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startAdsEnv(options: Partial<AdsServerOptions> = {}): Promise<AdsTestEnv> {
  const cache = new SnapshotCache();
  const registry = new Registry();
  const clock = new FakeClock();
  const ads = createAdsServer({ cache, registry, clock, logger: silentLogger, ...options });
  const harness = await startGrpcServer((server) => server.addService(ads.service, ads.implementation));
  const peer = connectAds(harness.address);
  return {
    cache,
    ads,
    registry,
    clock,
    harness,
    peer,
    setPods(pods, ips = {}, group = "default") {
      const snapshot = Snapshot.build(gatewayResources(pods, ips), cache.getSnapshot(group));
      cache.setSnapshot(group, snapshot);
      return snapshot;
    },
    async metric(name, labels = {}) {
      const m = await registry.getSingleMetric(name)?.get();
      const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
      return v?.value ?? 0;
    },
    async close() {
      peer.client.close();
      ads.close();
      await harness.close();
    },
  };
}
