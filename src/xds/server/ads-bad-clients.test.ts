/**
 * Gateways that misbehave, over the wire (a client built from Envoy's own
 * protos): what each costs this process in log, memory and metrics is
 * bounded, and other streams never notice.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { RecordingLogger } from "../../../test/support/recording-logger.js";
import { waitFor } from "../../../test/support/wait-for.js";
import { TYPE_URLS } from "../resources/type-urls.js";
import { node } from "./ads-client.fixture.js";
import { startAdsEnv, type AdsTestEnv } from "./ads-test-setup.fixture.js";

const CDS = TYPE_URLS.cluster;
const LDS = TYPE_URLS.listener;

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
});
