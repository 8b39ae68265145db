/**
 * What a delta stream holds per resource is shared: streams in step with a
 * snapshot keep their subscribed names, what their client knows and what
 * it ACKed as that snapshot's map plus a few differences, not a private
 * copy of thousands of entries each. Structural (entries counted), not
 * timed or measured in bytes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Node } from "@envoyproxy/protos/envoy/config/core/v3/base";
import { DeltaDiscoveryRequest, DeltaDiscoveryResponse } from "@envoyproxy/protos/envoy/service/discovery/v3/discovery";
import { Registry } from "prom-client";
import { silentLogger } from "../../common/logger.js";
import { FakeClock } from "../../../test/support/fake-clock.js";
import { gatewayResources } from "../cache/resources.fixture.js";
import { Snapshot } from "../cache/snapshot.js";
import { SnapshotCache } from "../cache/snapshot-cache.js";
import type { DeltaCacheResponse, DeltaStreamView, Respond, Watch } from "../cache/watch.js";
import { TYPE_URLS, type TypeUrl } from "../resources/type-urls.js";
import { createAdsServer } from "./ads-server.js";
import { DeltaStream } from "./delta-stream.js";
import { FakeCall } from "./fake-call.fixture.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;

/** The cache, recording the streams that open watches on it (the streams are the server's own objects). */
class RecordingCache extends SnapshotCache {
  readonly streams = new Set<DeltaStream>();

  override createDeltaWatch(request: { readonly typeUrl: TypeUrl }, stream: DeltaStreamView, respond: Respond<DeltaCacheResponse>): Watch {
    if (stream instanceof DeltaStream) this.streams.add(stream);
    return super.createDeltaWatch(request, stream, respond);
  }
}

/** An Envoy-like client over a FakeCall: CDS wildcard, EDS for every cluster it holds, every response ACKed. */
class Gateway {
  readonly call = new FakeCall<DeltaDiscoveryRequest>();
  readonly clusters = new Set<string>();
  #read = 0;

  constructor(id: string, serve: (call: FakeCall<DeltaDiscoveryRequest>) => void) {
    serve(this.call);
    this.#send({ node: Node.fromPartial({ id }), typeUrl: CDS });
  }

  /** Drains and handles responses until the server has nothing more to say. */
  settle(): void {
    for (;;) {
      this.call.drain();
      if (this.#read === this.call.written.length) return;
      while (this.#read < this.call.written.length) this.#handle(DeltaDiscoveryResponse.decode(this.call.written[this.#read++] ?? Buffer.alloc(0)));
    }
  }

  #handle(r: DeltaDiscoveryResponse): void {
    this.#send({ typeUrl: r.typeUrl, responseNonce: r.nonce });
    if (r.typeUrl !== CDS) return;
    const added = r.resources.map((x) => x.name).filter((n) => !this.clusters.has(n));
    for (const n of added) this.clusters.add(n);
    const removed = r.removedResources.filter((n) => this.clusters.delete(n));
    if (added.length > 0 || removed.length > 0) this.#send({ typeUrl: EDS, resourceNamesSubscribe: added, resourceNamesUnsubscribe: removed });
  }

  #send(req: Partial<DeltaDiscoveryRequest>): void {
    this.call.emit("data", DeltaDiscoveryRequest.fromPartial(req));
  }
}

const podNames = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `ns/a/p${from + i}`);

describe("delta stream memory", () => {
  it("streams in step share the snapshot's maps; what each keeps of its own stays a few entries per change", () => {
    const cache = new RecordingCache();
    const ads = createAdsServer({ cache, registry: new Registry(), clock: new FakeClock(), logger: silentLogger });
    let pods = podNames(400);
    let snapshot = Snapshot.build(gatewayResources(pods));
    cache.setSnapshot("default", snapshot);
    const gateways = ["gw-1", "gw-2", "gw-3"].map((id) => new Gateway(id, (call) => ads.serveDelta(call)));
    for (const g of gateways) g.settle();
    assert.equal(cache.streams.size, 3);
    for (const s of cache.streams) {
      for (const typeUrl of [CDS, EDS]) {
        const f = s.footprint(typeUrl, snapshot.resources(typeUrl));
        assert.deepEqual(f, { subscribed: 0, known: 0, acked: 0, over: true }, `${typeUrl} after the first sync`);
      }
    }

    // A hundred changes of one pod each (added, replaced, removed): each stream's own entries stay bounded.
    let next = 400;
    for (let change = 0; change < 100; change++) {
      pods = change % 3 === 2 ? pods.slice(1) : [...pods, ...podNames(1, next++)];
      snapshot = Snapshot.build(gatewayResources(pods), snapshot);
      cache.setSnapshot("default", snapshot);
      for (const g of gateways) g.settle();
      for (const s of cache.streams) {
        const f = s.footprint(EDS);
        assert.ok(f !== undefined && f.subscribed + f.known + f.acked <= 3 * 2 * 32 + 6, `change ${change}: ${JSON.stringify(f)}`);
      }
    }
    for (const g of gateways) assert.deepEqual([...g.clusters].sort(), [...snapshot.resources(CDS).keys()].filter((n) => n.split("/").length === 3).sort());
    ads.close();
  });
});
