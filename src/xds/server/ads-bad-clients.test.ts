/**
 * Gateways that misbehave, over the wire (a client built from Envoy's own
 * protos): what each costs this process in log, memory and metrics is
 * bounded, and other streams never notice.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { RecordingLogger } from "../../../test/support/recording-logger.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { TYPE_URLS } from "../resources/type-urls.js";
import { node, type TestAdsStream } from "./ads-client.fixture.js";
import { ADS_LIMIT_DEFAULTS } from "./limits.js";
import { startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";

const CDS = TYPE_URLS.cluster;
const EDS = TYPE_URLS.endpoints;
const LDS = TYPE_URLS.listener;

const podNames = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `ns/app/p${from + i}`);

describe("ADS and misbehaving clients", () => {
  let env: AdsTestEnv | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("a NACK storm with a huge message: exact count, one truncated log line per interval, truncated status", async () => {
    const logger = new RecordingLogger();
    const e = (env = await startAdsEnv({ logger }));
    e.setPods(["ns/app/p1"]);
    const s = e.peer.sotw();
    s.send({ node: node("gw-1"), type_url: CDS });
    const sent = await s.next();
    const huge = "E".repeat(3 * 1024 * 1024);
    const storm = 500;
    for (let i = 0; i < storm; i++) {
      s.send({ type_url: CDS, response_nonce: sent.nonce, error_detail: { code: 3, message: i === 0 ? huge : `bad ${i}` } });
    }
    // Barrier: the LDS answer comes after every NACK before it was handled.
    s.send({ type_url: LDS });
    assert.equal((await s.next()).type_url, LDS);
    assert.equal(await e.metric("ticketplane_xds_nack_total", { type_url: CDS }), storm);
    const nackLines = (): readonly { fields: Readonly<Record<string, unknown>> }[] => logger.at("warn").filter((l) => l.message.includes("NACK"));
    assert.equal(nackLines().length, 1);
    const first = String(nackLines()[0]?.fields["error"]);
    assert.ok(first.length < 600, `logged ${first.length} characters`);
    assert.match(first, /truncated: 3145728 characters/);
    // The status keeps the last NACK; a huge one would be cut the same way.
    assert.equal(e.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS)?.lastNack?.message, `bad ${storm - 1}`);
    e.clock.advance(60_000);
    assert.equal(nackLines().length, 2);
    assert.equal(nackLines()[1]?.fields["nacks"], storm - 1);
    s.send({ type_url: CDS, response_nonce: sent.nonce, error_detail: { code: 3, message: huge } });
    await waitFor(() => (e.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS)?.lastNack?.message.length ?? 0) > 500);
    assert.match(e.ads.status().streams[0]?.types.find((t) => t.typeUrl === CDS)?.lastNack?.message ?? "", /^E{512}… \[truncated: 3145728 characters\]$/);
    await s.close();
  });

  describe("subscribed names", () => {
    /** Answers an LDS request: proof the stream is alive and handled every request before it. */
    async function alive(s: TestAdsStream<{ type_url?: string }>): Promise<void> {
      s.send({ type_url: LDS });
      assert.equal((await s.next()).type_url, LDS);
    }

    it("a delta stream may subscribe up to the cap (unsubscribing makes room); one more ends it with RESOURCE_EXHAUSTED, counted and logged once", async () => {
      const logger = new RecordingLogger();
      const e = (env = await startAdsEnv({ logger, limits: { maxSubscribedNames: 10 } }));
      e.setPods(["ns/app/p0"]);
      const good = e.peer.delta();
      good.send({ node: node("gw-good"), type_url: CDS });
      await good.next();
      const s = e.peer.delta();
      s.send({ node: node("gw-greedy"), type_url: EDS, resource_names_subscribe: podNames(6) });
      await s.next();
      s.send({ type_url: CDS, resource_names_subscribe: podNames(4, 6) });
      s.send({ type_url: EDS, resource_names_unsubscribe: podNames(2), resource_names_subscribe: podNames(2, 10) });
      await alive(s);
      s.send({ type_url: CDS, resource_names_subscribe: podNames(1, 20) });
      const status = await s.status;
      assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(status.details, "too many resource names: this stream subscribes to 11, the limit is 10");
      assert.equal(await e.metric("ticketplane_xds_bad_request_total", { reason: "too_many_names", protocol: "delta" }), 1);
      assert.equal(logger.at("warn").filter((l) => l.message.includes("limit")).length, 1);
      assert.equal(logger.at("warn")[0]?.fields["node"], "gw-greedy");
      // The other stream keeps working.
      await alive(good);
      await good.close();
    });

    it("refuses initial_resource_versions over the cap", async () => {
      const e = (env = await startAdsEnv({ limits: { maxSubscribedNames: 10 } }));
      const s = e.peer.delta();
      s.send({ node: node("gw-1"), type_url: CDS, initial_resource_versions: Object.fromEntries(podNames(11).map((n) => [n, "v1"])) });
      const status = await s.status;
      assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(status.details, /initial_resource_versions lists 11, the limit is 10/);
    });

    it("a state-of-the-world request may list up to the cap; more ends the stream with RESOURCE_EXHAUSTED", async () => {
      const e = (env = await startAdsEnv({ limits: { maxSubscribedNames: 10 } }));
      e.setPods(["ns/app/p0"]);
      const s = e.peer.sotw();
      s.send({ node: node("gw-1"), type_url: EDS, resource_names: podNames(10) });
      const r = await s.next();
      s.send({ type_url: EDS, response_nonce: r.nonce, version_info: r.version_info, resource_names: podNames(11) });
      const status = await s.status;
      assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(status.details, "too many resource names: resource_names lists 11, the limit is 10");
      assert.equal(await e.metric("ticketplane_xds_bad_request_total", { reason: "too_many_names", protocol: "sotw" }), 1);
    });

    it("by default leaves room for the largest fleet planned (8,000 pods: a cluster and endpoints each)", async () => {
      assert.equal(ADS_LIMIT_DEFAULTS.maxSubscribedNames, 100_000);
      const e = (env = await startAdsEnv());
      const s = e.peer.delta();
      s.send({ node: node("gw-1"), type_url: CDS, resource_names_subscribe: podNames(8_000) });
      s.send({ type_url: EDS, resource_names_subscribe: podNames(8_000) });
      e.setPods(["ns/app/p0"]);
      assert.deepEqual([(await s.next()).type_url, (await s.next()).type_url], [CDS, EDS]);
      await alive(s);
      await s.close();
    });
  });

  it("a gateway whose node group has no configuration: one warning naming the groups that exist, shown in the status, served once its group appears", async () => {
    const logger = new RecordingLogger();
    const e = (env = await startAdsEnv({ logger }));
    e.setPods(["ns/app/p1"]);
    const s = e.peer.sotw();
    s.send({ node: node("gw-lost", "", "edge-b"), type_url: CDS });
    s.send({ type_url: LDS });
    await waitFor(() => e.ads.status().streams.some((st) => st.types.length === 2));
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.message, "xds: no configuration for this gateway's node group; it gets nothing until one is published");
    assert.deepEqual(
      [warnings[0]?.fields["node"], warnings[0]?.fields["group"], warnings[0]?.fields["groups"]],
      ["gw-lost", "edge-b", ["default"]],
    );
    const status = e.ads.status();
    assert.equal(status.streams[0]?.waitingForConfig, true);
    assert.deepEqual(status.waitingForConfig, [{ streamId: status.streams[0]?.streamId, nodeId: "gw-lost", group: "edge-b" }]);
    // Its group gets a snapshot later: the open stream is served.
    e.setPods(["ns/app/p2"], {}, "edge-b");
    const r = await s.next();
    assert.equal(r.type_url, CDS);
    assert.equal(e.ads.status().streams[0]?.waitingForConfig, false);
    assert.deepEqual(e.ads.status().waitingForConfig, []);
    assert.equal(logger.at("warn").length, 1);
    await s.close();
  });

  it("bytes that are no request, on either method: INVALID_ARGUMENT (not INTERNAL), counted per protocol; the server keeps serving", async () => {
    const e = (env = await startAdsEnv());
    e.setPods(["ns/app/p1"]);
    const raw = new grpc.Client(e.harness.address, grpc.credentials.createInsecure());
    const bytes = (b: Buffer): Buffer => b;
    try {
      for (const [method, protocol, message] of [
        ["StreamAggregatedResources", "sotw", "DiscoveryRequest"],
        ["DeltaAggregatedResources", "delta", "DeltaDiscoveryRequest"],
      ] as const) {
        const call = raw.makeBidiStreamRequest(`/envoy.service.discovery.v3.AggregatedDiscoveryService/${method}`, bytes, bytes);
        const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
        call.on("error", () => undefined);
        // Field 1, length-delimited, with a length that never ends.
        call.write(Buffer.from([0x0a, 0xff]));
        const st = await status;
        assert.equal(st.code, grpc.status.INVALID_ARGUMENT, st.details);
        assert.match(st.details, new RegExp(`^undecodable ${message}: `));
        assert.equal(await e.metric("ticketplane_xds_bad_request_total", { reason: "undecodable", protocol }), 1);
      }
    } finally {
      raw.close();
    }
    const s = e.peer.delta();
    s.send({ node: node("gw-1"), type_url: CDS });
    assert.equal((await s.next()).type_url, CDS);
    await s.close();
  });
});
